package io.herd.cli;

import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "monitor",
    description = {
      "Prints device-to-cloud messages as they arrive (the hub's live events stream) until"
          + " interrupted or --count.",
      "table: time, device, properties, body per line; json: one message object per line.",
      "Example: herd monitor --device dev1 --count 10"
    })
final class MonitorCommand extends HubCommand {
  @Option(names = "--device", paramLabel = "DEVICE", description = "Only this device's messages.")
  String deviceId;

  @Option(names = "--count", paramLabel = "N", description = "Stop after N messages.")
  Long count;

  @Option(
      names = "--from",
      paramLabel = "SEQ",
      description =
          "Replay messages after sequence number SEQ that the hub still holds (0: all it holds).")
  Long from;

  @Override
  public Integer call() {
    if (count != null && count < 1) {
      throw usage("--count must be at least 1, got " + count);
    }
    if (from != null && from < 0) {
      throw usage("--from must be a sequence number (0 or more), got " + from);
    }
    Output output = output();
    PrintStream out = output.stream();
    long printed = 0;
    Long after = from;
    boolean header = false;
    while (true) {
      boolean overflowed = false;
      try (Stream<String> lines =
          hub()
              .call("GET", "/messages/events")
              .query("deviceId", deviceId)
              .query("from", after)
              .lines()) {
        ServerSentEvents sse = new ServerSentEvents();
        Iterator<String> it = lines.iterator();
        while (it.hasNext()) {
          ServerSentEvents.Event e = sse.line(it.next());
          if (e == null) {
            continue;
          }
          if (e.type().equals("overflow")) {
            // The hub dropped this reader for lagging; it still holds recent messages.
            cli().err().println("warning: fell behind the stream; reconnecting after " + after);
            overflowed = true;
            break;
          }
          if (!e.type().equals("message")) {
            continue;
          }
          JsonObject m = new JsonObject(e.data());
          if (output.format() == Output.Format.CSV && !header) {
            out.println(
                Csv.line(List.of("enqueuedTime", "deviceId", "moduleId", "properties", "body")));
            header = true;
          }
          out.println(format(output.format(), m));
          out.flush();
          Object seq = m.getValue("sequenceNumber");
          if (seq instanceof Number n) {
            after = n.longValue();
          }
          if (count != null && ++printed >= count) {
            return HerdCli.OK;
          }
        }
      }
      if (!overflowed) {
        throw new HubClient.Unreachable("the hub closed the event stream", null);
      }
    }
  }

  /** One message as a line of the output format. */
  static String format(Output.Format format, JsonObject m) {
    if (format == Output.Format.JSON) {
      return m.encode();
    }
    JsonObject props = m.getJsonObject("properties", new JsonObject());
    String body = m.getString("body", "");
    if ("base64".equals(m.getString("bodyEncoding"))) {
      body = "base64:" + body;
    }
    if (format == Output.Format.CSV) {
      return Csv.line(
          List.of(
              Columns.text(m.getValue("enqueuedTime")),
              Columns.text(m.getValue("deviceId")),
              Columns.text(m.getValue("moduleId")),
              props.encode(),
              body));
    }
    List<String> parts = new ArrayList<>();
    parts.add(Columns.text(m.getValue("enqueuedTime")));
    String who = Columns.text(m.getValue("deviceId"));
    if (m.getString("moduleId") != null) {
      who += "/" + m.getString("moduleId");
    }
    parts.add(who);
    if (!props.isEmpty()) {
      parts.add(props.encode());
    }
    parts.add(TableLayout.oneLine(body));
    return String.join("  ", parts);
  }
}
