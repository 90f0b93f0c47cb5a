package io.herd.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.core.HubException;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class IdentityCodecTest {
  private static final String KEY = "c2VydmljZS1wcmltYXJ5LWtleS0xMjM0NTY3ODkwMTI=";

  @Test
  void emptyKeysAsNodeSendsThemMeanGenerate() {
    DeviceSpec spec =
        IdentityCodec.deviceSpecFromJson(
            new JsonObject(
                "{\"deviceId\":\"d1\",\"authentication\":{\"type\":\"sas\","
                    + "\"symmetricKey\":{\"primaryKey\":\"\",\"secondaryKey\":\"\"}}}"),
            "d1");
    assertThat(spec.authentication().type()).isEqualTo(AuthenticationType.SAS);
    assertThat(spec.authentication().primaryKey()).isNull();
    assertThat(spec.status()).isEqualTo(DeviceStatus.ENABLED);
  }

  @Test
  void thumbprintsWithoutTypeMeanSelfSigned() {
    DeviceSpec spec =
        IdentityCodec.deviceSpecFromJson(
            new JsonObject(
                "{\"authentication\":{\"x509Thumbprint\":{\"primaryThumbprint\":\""
                    + "ab".repeat(20)
                    + "\"}}}"),
            "d1");
    assertThat(spec.authentication().type()).isEqualTo(AuthenticationType.SELF_SIGNED);
    assertThat(spec.authentication().primaryThumbprint()).isEqualTo("AB".repeat(20));
  }

  @Test
  void errorsNameTheField() {
    assertBad("{\"status\":5}", "'status' must be a string, but is a number");
    assertBad("{\"status\":\"sleeping\"}", "'status' must be 'enabled' or 'disabled'");
    assertBad("{\"deviceId\":\"other\"}", "request path names device 'd1'");
    assertBad("{\"statusReason\":\"" + "x".repeat(129) + "\"}", "'statusReason' is longer");
    assertBad(
        "{\"authentication\":{\"symmetricKey\":{\"primaryKey\":\"not base64!\"}}}",
        "'authentication.symmetricKey.primaryKey' is not valid base64");
    assertBad(
        "{\"authentication\":{\"symmetricKey\":{\"primaryKey\":\"c2hvcnQ=\"}}}",
        "must decode to 16 to 64 bytes, but has 5");
    assertBad(
        "{\"authentication\":{\"type\":\"selfSigned\"}}",
        "'authentication.x509Thumbprint.primaryThumbprint' is required");
    assertBad(
        "{\"authentication\":{\"type\":\"selfSigned\",\"x509Thumbprint\":{\"primaryThumbprint\":\"xyz\"}}}",
        "SHA-1 (40 hex digits)");
    assertBad(
        "{\"authentication\":{\"type\":\"password\"}}", "'authentication.type' must be one of");
    assertBad(
        "{\"capabilities\":{\"iotEdge\":\"yes\"}}", "'capabilities.iotEdge' must be true or false");
    assertBad("{\"parentScopes\":[1]}", "'parentScopes[0]' must be a string");
  }

  private static void assertBad(String json, String message) {
    assertThatThrownBy(() -> IdentityCodec.deviceSpecFromJson(new JsonObject(json), "d1"))
        .isInstanceOf(HubException.class)
        .hasMessageContaining(message);
  }

  /** Device d1, version 42, disabled for maintenance, with SAS keys and a scope. */
  private static Device device(Instant statusUpdated, int cloudToDeviceMessages) {
    return new Device(
        "d1",
        "638401234567890123",
        42,
        DeviceStatus.DISABLED,
        "maintenance",
        statusUpdated,
        ConnectionState.DISCONNECTED,
        null,
        null,
        cloudToDeviceMessages,
        Authentication.sas(KEY, KEY),
        true,
        "scope",
        List.of("p1"));
  }

  @Test
  void storedFormReadsBackTheSameDevice() {
    Device d = device(Instant.parse("2024-01-02T03:04:05.1234567Z"), 3);
    JsonObject json = IdentityCodec.toJson(d);
    assertThat(json.getString("etag")).isEqualTo("NDI=");
    assertThat(json.getString("statusUpdatedTime")).isEqualTo("2024-01-02T03:04:05.1234567Z");
    assertThat(json.getString("lastActivityTime")).isEqualTo("0001-01-01T00:00:00Z");
    assertThat(IdentityCodec.deviceFromStored(json, 42)).isEqualTo(d);
  }

  @Test
  void bulkEntriesAcceptMixedCaseModesAndEitherEtagSpelling() {
    BulkOperation op =
        IdentityCodec.bulkOperationFromJson(
            new JsonObject(
                "{\"id\":\"d1\",\"importMode\":\"DeleteIfMatchETag\",\"etag\":\"MQ==\"}"),
            "[0]");
    assertThat(op.mode()).isEqualTo(ImportMode.DELETE_IF_MATCH_ETAG);
    assertThat(op.etag()).isEqualTo("MQ==");
    assertThat(
            IdentityCodec.bulkOperationFromJson(
                    new JsonObject("{\"id\":\"d1\",\"importMode\":\"Update\",\"eTag\":\"x\"}"),
                    "[0]")
                .mode())
        .isEqualTo(ImportMode.UPDATE);
    assertThatThrownBy(
            () ->
                IdentityCodec.bulkOperationFromJson(
                    new JsonObject("{\"id\":\"d1\",\"importMode\":\"updateIfMatchETag\"}"), "[3]"))
        .hasMessageContaining("'[3].eTag' is required");
    assertThatThrownBy(
            () ->
                IdentityCodec.bulkOperationFromJson(
                    new JsonObject("{\"id\":\"d 1\",\"importMode\":\"create\"}"), "[1]"))
        .hasMessageContaining("[1].id");
    assertThatThrownBy(
            () ->
                IdentityCodec.bulkOperationFromJson(
                    new JsonObject("{\"id\":\"d1\",\"importMode\":\"upsert\"}"), "[2]"))
        .hasMessageContaining("unknown import mode 'upsert'");
  }

  @Test
  void exportFormReadsBackAsAnImportEntryOfTheSameDevice() {
    Device d = device(null, 0);
    JsonObject line = IdentityCodec.toExportJson(d, false);
    assertThat(line.getString("id")).isEqualTo("d1");
    assertThat(line.getString("eTag")).isEqualTo("NDI=");
    BulkOperation op = IdentityCodec.bulkOperationFromJson(line, null);
    assertThat(op.mode()).isEqualTo(ImportMode.CREATE_OR_UPDATE);
    assertThat(op.etag()).isEqualTo("NDI=");
    assertThat(op.twin()).isNull();
    assertThat(op.device())
        .isEqualTo(
            new DeviceSpec(
                "d1",
                DeviceStatus.DISABLED,
                "maintenance",
                Authentication.sas(KEY, KEY),
                true,
                "scope",
                List.of("p1")));

    JsonObject keyless = IdentityCodec.toExportJson(d, true);
    assertThat(keyless.getJsonObject("authentication").getJsonObject("symmetricKey"))
        .isEqualTo(new JsonObject().putNull("primaryKey").putNull("secondaryKey"));
    assertThat(IdentityCodec.bulkOperationFromJson(keyless, null).device().authentication())
        .isEqualTo(Authentication.sas(null, null));
  }

  @Test
  void entriesWithoutAPathNameTheBareField() {
    assertThatThrownBy(
            () ->
                IdentityCodec.bulkOperationFromJson(
                    new JsonObject("{\"id\":\"d1\",\"importMode\":\"updateIfMatchETag\"}"), null))
        .hasMessageContaining("Field 'eTag' is required");
    assertThatThrownBy(() -> IdentityCodec.bulkOperationFromJson(new JsonObject("{}"), null))
        .hasMessage("id is missing");
  }
}
