package io.herd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeviceFilesTest {
  private static List<JsonObject> csv(String text) throws IOException {
    return DeviceFiles.read(new StringReader(text), DeviceFiles.Format.CSV, "createOrUpdate");
  }

  @Test
  void csvColumnsBecomeImportEntriesWithNestedTagsAndDesired() throws IOException {
    List<JsonObject> entries =
        csv(
            "id,Status,primaryKey,tags.site,tags.location.floor,desired.fw,desired.cfg,iotEdge\n"
                + "d1,disabled,AAAA,b1,2,\"\"\"1.2\"\"\",\"{\"\"a\"\":true}\",true\n"
                + "d2,,,b2,,,,\n");
    assertThat(entries).hasSize(2);
    assertThat(entries.get(0))
        .isEqualTo(
            new JsonObject(
                "{\"id\":\"d1\",\"status\":\"disabled\","
                    + "\"authentication\":{\"symmetricKey\":{\"primaryKey\":\"AAAA\"},\"type\":\"sas\"},"
                    + "\"tags\":{\"site\":\"b1\",\"location\":{\"floor\":2}},"
                    + "\"properties\":{\"desired\":{\"fw\":\"1.2\",\"cfg\":{\"a\":true}}},"
                    + "\"capabilities\":{\"iotEdge\":true},\"importMode\":\"createOrUpdate\"}"));
    assertThat(entries.get(1))
        .isEqualTo(
            new JsonObject(
                "{\"id\":\"d2\",\"tags\":{\"site\":\"b2\"},\"importMode\":\"createOrUpdate\"}"));
  }

  @Test
  void csvCellsThatAreNotJsonStayText() throws IOException {
    JsonObject e = csv("deviceId,tags.since,tags.code,tags.n\nd1,2024-01-01,-x,007\n").get(0);
    assertThat(e.getJsonObject("tags").getValue("since")).isEqualTo("2024-01-01");
    assertThat(e.getJsonObject("tags").getValue("code")).isEqualTo("-x");
    assertThat(e.getJsonObject("tags").getValue("n")).isEqualTo("007");
  }

  @Test
  void thumbprintsMakeASelfSignedDeviceAndTheRowsModeWins() throws IOException {
    JsonObject e =
        csv("deviceId,importMode,primaryThumbprint\nd1,create,"
                + "0123456789012345678901234567890123456789\n")
            .get(0);
    assertThat(e.getString("importMode")).isEqualTo("create");
    assertThat(e.getJsonObject("authentication").getString("type")).isEqualTo("selfSigned");
  }

  @Test
  void csvErrorsNameTheLine() {
    assertThatThrownBy(() -> csv("deviceId,colour\nd1,red\n"))
        .hasMessageContaining("line 1")
        .hasMessageContaining("unknown column 'colour'");
    assertThatThrownBy(() -> csv("status\nenabled\n")).hasMessageContaining("deviceId");
    assertThatThrownBy(() -> csv("deviceId,status\nd1,enabled\nd2\n"))
        .hasMessageContaining("line 3")
        .hasMessageContaining("1 fields");
    assertThatThrownBy(() -> csv("deviceId,status\n,enabled\n"))
        .hasMessageContaining("line 2: deviceId is empty");
    assertThatThrownBy(() -> csv("deviceId,iotEdge\nd1,maybe\n")).hasMessageContaining("iotEdge");
  }

  @Test
  void jsonLinesAreTakenAsTheyAreWithDeviceIdAsAnAliasOfId() throws IOException {
    List<JsonObject> entries =
        DeviceFiles.read(
            new StringReader(
                "{\"id\":\"d1\",\"tags\":{\"a\":1}}\n\n{\"deviceId\":\"d2\",\"importMode\":\"delete\"}\n"),
            DeviceFiles.Format.JSONL,
            "create");
    assertThat(entries.get(0).encode())
        .isEqualTo("{\"id\":\"d1\",\"tags\":{\"a\":1},\"importMode\":\"create\"}");
    assertThat(entries.get(1).encode()).isEqualTo("{\"id\":\"d2\",\"importMode\":\"delete\"}");
    assertThatThrownBy(
            () ->
                DeviceFiles.read(
                    new StringReader("{\"id\":\"d1\"}\n[1]\n"), DeviceFiles.Format.JSONL, "create"))
        .hasMessageContaining("line 2");
    assertThatThrownBy(
            () ->
                DeviceFiles.read(
                    new StringReader("{\"tags\":{}}\n"), DeviceFiles.Format.JSONL, "create"))
        .hasMessageContaining("line 1: no \"id\"");
  }

  @Test
  void formatFollowsTheExtension() {
    assertThat(DeviceFiles.Format.of("fleet.CSV")).isEqualTo(DeviceFiles.Format.CSV);
    assertThat(DeviceFiles.Format.of("fleet.jsonl")).isEqualTo(DeviceFiles.Format.JSONL);
  }

  @Test
  void exportLinesCarryIdentityAndTwinWithoutMetadataOrOptionallyKeys() {
    JsonObject identity =
        new JsonObject(
            "{\"deviceId\":\"d1\",\"etag\":\"MQ==\",\"status\":\"enabled\",\"statusReason\":null,"
                + "\"authentication\":{\"symmetricKey\":{\"primaryKey\":\"K1\",\"secondaryKey\":\"K2\"},"
                + "\"x509Thumbprint\":{\"primaryThumbprint\":null,\"secondaryThumbprint\":null},"
                + "\"type\":\"sas\"},\"capabilities\":{\"iotEdge\":false},\"deviceScope\":null,"
                + "\"parentScopes\":[]}");
    JsonObject twin =
        new JsonObject(
            "{\"deviceId\":\"d1\",\"etag\":\"AAAAAAAAAAI=\",\"tags\":{\"site\":\"b1\"},"
                + "\"properties\":{\"desired\":{\"fw\":\"1.2\",\"$metadata\":{\"$lastUpdated\":\"x\"},"
                + "\"$version\":2},\"reported\":{\"cfg\":{\"a\":1,\"$metadata\":{}},\"$version\":3}}}");
    JsonObject line = DeviceFiles.exportLine(identity, twin, false);
    assertThat(line)
        .isEqualTo(
            new JsonObject(
                "{\"id\":\"d1\",\"eTag\":\"MQ==\",\"status\":\"enabled\",\"statusReason\":null,"
                    + "\"authentication\":{\"symmetricKey\":{\"primaryKey\":\"K1\",\"secondaryKey\":\"K2\"},"
                    + "\"x509Thumbprint\":{\"primaryThumbprint\":null,\"secondaryThumbprint\":null},"
                    + "\"type\":\"sas\"},\"capabilities\":{\"iotEdge\":false},"
                    + "\"twinETag\":\"AAAAAAAAAAI=\",\"tags\":{\"site\":\"b1\"},"
                    + "\"properties\":{\"desired\":{\"fw\":\"1.2\"},\"reported\":{\"cfg\":{\"a\":1}}}}"));
    JsonObject keyless = DeviceFiles.exportLine(identity, twin, true);
    assertThat(keyless.getJsonObject("authentication").getJsonObject("symmetricKey"))
        .isEqualTo(new JsonObject().putNull("primaryKey").putNull("secondaryKey"));
    assertThat(
            identity
                .getJsonObject("authentication")
                .getJsonObject("symmetricKey")
                .getString("primaryKey"))
        .isEqualTo("K1");
  }
}
