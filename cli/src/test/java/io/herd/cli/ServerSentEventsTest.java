package io.herd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServerSentEventsTest {
  @Test
  void parsesEventsSkippingCommentsAndJoiningDataLines() {
    ServerSentEvents sse = new ServerSentEvents();
    List<ServerSentEvents.Event> events = new ArrayList<>();
    for (String line :
        List.of(
            ": herd live device-to-cloud messages",
            "",
            "id: 42",
            "event: message",
            "data: {\"a\":1}",
            "",
            ": keep-alive",
            "",
            "data:first",
            "data: second",
            "",
            "event: overflow",
            "data: {}",
            "")) {
      ServerSentEvents.Event e = sse.line(line);
      if (e != null) {
        events.add(e);
      }
    }
    assertThat(events)
        .containsExactly(
            new ServerSentEvents.Event("42", "message", "{\"a\":1}"),
            new ServerSentEvents.Event(null, "message", "first\nsecond"),
            new ServerSentEvents.Event(null, "overflow", "{}"));
  }
}
