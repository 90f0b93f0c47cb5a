package io.herd.server.bulk.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinKey;
import io.herd.core.twin.TwinNode;
import io.herd.registry.Authentication;
import io.herd.registry.ConnectionState;
import io.herd.registry.Device;
import io.herd.registry.DeviceStatus;
import io.herd.registry.ImportMode;
import io.herd.server.bulk.ImportError;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeviceLinesCodecTest {
  private static final String KEY = "c2VydmljZS1wcmltYXJ5LWtleS0xMjM0NTY3ODkwMTI=";

  private static DeviceLinesCodec.Entry parse(long line, String text) {
    return DeviceLinesCodec.parse(line, Buffer.buffer(text), 1000);
  }

  private static ImportError error(long line, String text) {
    DeviceLinesCodec.Entry e = parse(line, text);
    assertThat(e.op()).as(text).isNull();
    assertThat(e.error()).as(text).isNotNull();
    return e.error();
  }

  @Test
  void aLineIsAnExportImportDeviceWithCreateOrUpdateByDefault() {
    DeviceLinesCodec.Entry e =
        parse(
            7,
            "{\"id\":\"d1\",\"status\":\"disabled\",\"authentication\":{\"symmetricKey\":"
                + "{\"primaryKey\":\""
                + KEY
                + "\",\"secondaryKey\":\""
                + KEY
                + "\"}},\"tags\":{\"site\":\"a\"},\"properties\":{\"desired\":{\"x\":1}}}");
    assertThat(e.error()).isNull();
    assertThat(e.line()).isEqualTo(7);
    assertThat(e.deviceId()).isEqualTo("d1");
    assertThat(e.op().mode()).isEqualTo(ImportMode.CREATE_OR_UPDATE);
    assertThat(e.op().device().status()).isEqualTo(DeviceStatus.DISABLED);
    assertThat(e.op().device().authentication()).isEqualTo(Authentication.sas(KEY, KEY));
    assertThat(e.op().twin())
        .isEqualTo(
            new JsonObject("{\"tags\":{\"site\":\"a\"},\"properties\":{\"desired\":{\"x\":1}}}"));
    assertThat(parse(8, "{\"id\":\"d2\",\"importMode\":\"Delete\"}").op().mode())
        .isEqualTo(ImportMode.DELETE);
  }

  @Test
  void badLinesBecomeErrorsNamingTheLine() {
    ImportError notJson = error(3, "{\"id\":");
    assertThat(notJson.line()).isEqualTo(3);
    assertThat(notJson.errorCode()).isEqualTo("DeserializationError");
    assertThat(notJson.message()).startsWith("Line 3 is not JSON");
    assertThat(notJson.message()).doesNotContain("\n");

    assertThat(error(4, "[1,2]").message()).isEqualTo("Line 4 must be a JSON object, not an array");

    ImportError badId = error(5, "{\"id\":\"has space\"}");
    assertThat(badId.errorCode()).isEqualTo("ArgumentInvalid");
    assertThat(badId.deviceId()).isEqualTo("has space");
    assertThat(badId.message()).startsWith("Line 5: id 'has space' has a character");

    assertThat(error(6, "{\"id\":\"d\",\"importMode\":\"upsert\"}").message())
        .contains("unknown import mode 'upsert'");
    assertThat(error(7, "{\"id\":\"d\",\"importMode\":\"deleteIfMatchETag\"}").message())
        .isEqualTo("Line 7: Field 'eTag' is required with import mode deleteIfMatchETag");
    assertThat(error(8, "{\"id\":\"d\",\"properties\":{\"desired\":5}}").message())
        .contains("'properties.desired' must be an object");
    assertThat(error(9, "{}").message()).isEqualTo("Line 9: id is missing");

    DeviceLinesCodec.Entry tooLong = DeviceLinesCodec.parse(10, null, 1000);
    assertThat(tooLong.error().message()).isEqualTo("Line 10 is longer than 1000 bytes");
  }

  @Test
  void blankLinesAreNeitherOperationsNorErrors() {
    assertThat(parse(1, "").isBlank()).isTrue();
    assertThat(parse(2, " \t").isBlank()).isTrue();
  }

  @Test
  void metadataAndReportedPropertiesOfAnIotHubExportAreLeftOut() {
    DeviceLinesCodec.Entry e =
        parse(
            1,
            "{\"id\":\"d1\",\"twinETag\":\"AAAAAAAAAAE=\",\"properties\":{\"desired\":{\"x\":1,"
                + "\"$metadata\":{\"$lastUpdated\":\"2024-01-01T00:00:00Z\"},\"$version\":4},"
                + "\"reported\":{\"fw\":\"1.0\",\"$version\":9}}}");
    assertThat(e.op().twin())
        .isEqualTo(
            new JsonObject("{\"etag\":\"AAAAAAAAAAE=\",\"properties\":{\"desired\":{\"x\":1}}}"));
    // Nothing the service may set: no twin part at all.
    assertThat(
            parse(2, "{\"id\":\"d1\",\"twinETag\":\"x\",\"properties\":{\"reported\":{\"a\":1}}}")
                .op()
                .twin())
        .isNull();
    // ... unless the mode is about the twin, whose etag check is an effect of its own.
    assertThat(
            parse(3, "{\"id\":\"d1\",\"importMode\":\"updateTwinIfMatchETag\",\"twinETag\":\"x\"}")
                .op()
                .twin())
        .isEqualTo(new JsonObject().put("etag", "x"));
  }

  @Test
  void exportLinesCarryTheTwinValuesAndReadBackAsTheSameDevice() {
    Device d =
        new Device(
            "d1",
            "1",
            3,
            DeviceStatus.ENABLED,
            null,
            null,
            ConnectionState.DISCONNECTED,
            null,
            null,
            0,
            Authentication.sas(KEY, KEY),
            false,
            null,
            List.of());
    TwinNode tags = new TwinNode.Builder(false).put("site", "a", 0, 0).build();
    TwinNode desired = new TwinNode.Builder(true).put("x", 1L, 0, 2).build();
    Twin twin = new Twin(TwinKey.device("d1"), 5, tags, desired, 2, TwinNode.EMPTY, 1, null);
    JsonObject line = DeviceLinesCodec.exportLine(d, twin, false);
    assertThat(line.getString("twinETag")).isEqualTo(twin.etag());
    assertThat(line.getJsonObject("tags")).isEqualTo(new JsonObject().put("site", "a"));
    assertThat(line.getJsonObject("properties"))
        .isEqualTo(new JsonObject().put("desired", new JsonObject().put("x", 1L)));

    DeviceLinesCodec.Entry back = parse(1, line.encode());
    assertThat(back.op().device().authentication()).isEqualTo(Authentication.sas(KEY, KEY));
    assertThat(back.op().twin().getJsonObject("tags")).isEqualTo(new JsonObject().put("site", "a"));

    JsonObject bare = DeviceLinesCodec.exportLine(d, null, true);
    assertThat(bare.containsKey("twinETag")).isFalse();
    assertThat(
            bare.getJsonObject("authentication")
                .getJsonObject("symmetricKey")
                .getValue("primaryKey"))
        .isNull();
  }

  @Test
  void errorLinesNameLineDeviceAndCode() {
    assertThat(
            DeviceLinesCodec.errorLine(
                new ImportError(12, "d1", "DeviceAlreadyExists", "Line 12: exists")))
        .isEqualTo(
            new JsonObject()
                .put("line", 12)
                .put("deviceId", "d1")
                .put("moduleId", null)
                .put("errorCode", "DeviceAlreadyExists")
                .put("errorStatus", "Line 12: exists"));
  }
}
