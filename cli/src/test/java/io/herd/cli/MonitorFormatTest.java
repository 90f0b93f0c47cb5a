package io.herd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class MonitorFormatTest {
  private static final JsonObject TEXT =
      new JsonObject(
          "{\"sequenceNumber\":7,\"deviceId\":\"d1\",\"moduleId\":null,"
              + "\"enqueuedTime\":\"2026-01-01T00:00:00Z\",\"properties\":{\"temp\":\"21\"},"
              + "\"body\":\"{\\\"t\\\":21}\\nmore\",\"bodyEncoding\":\"utf-8\"}");

  @Test
  void tableLinesShowTimeDevicePropertiesAndBodyOnOneLine() {
    assertThat(MonitorCommand.format(Output.Format.TABLE, TEXT))
        .isEqualTo("2026-01-01T00:00:00Z  d1  {\"temp\":\"21\"}  {\"t\":21} more");
    JsonObject binary =
        TEXT.copy()
            .put("moduleId", "m1")
            .put("properties", new JsonObject())
            .put("body", "AAE=")
            .put("bodyEncoding", "base64");
    assertThat(MonitorCommand.format(Output.Format.TABLE, binary))
        .isEqualTo("2026-01-01T00:00:00Z  d1/m1  base64:AAE=");
  }

  @Test
  void jsonIsTheMessageAsTheHubSentItAndCsvQuotesTheBody() {
    assertThat(new JsonObject(MonitorCommand.format(Output.Format.JSON, TEXT))).isEqualTo(TEXT);
    assertThat(MonitorCommand.format(Output.Format.CSV, TEXT))
        .isEqualTo(
            "2026-01-01T00:00:00Z,d1,,\"{\"\"temp\"\":\"\"21\"\"}\",\"{\"\"t\"\":21}\nmore\"");
  }
}
