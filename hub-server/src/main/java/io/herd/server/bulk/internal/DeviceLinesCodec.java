package io.herd.server.bulk.internal;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.JsonFields;
import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinJson;
import io.herd.registry.BulkOperation;
import io.herd.registry.Device;
import io.herd.registry.IdentityCodec;
import io.herd.server.bulk.ImportError;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;

/**
 * IoT Hub's {@code devices.txt}: one ExportImportDevice JSON object per line ({@code id, eTag,
 * status, statusReason, authentication, capabilities, importMode, twinETag, tags,
 * properties.desired}); the identity part is {@link IdentityCodec}'s. Also the lines of {@code
 * importErrors.log}. Parse errors come back as values, with the line number.
 */
public final class DeviceLinesCodec {
  private DeviceLinesCodec() {}

  /**
   * One parsed input line: an operation, an error, or neither for a blank line.
   *
   * @param deviceId the line's id when it has one, also for errors
   */
  public record Entry(long line, String deviceId, BulkOperation op, ImportError error) {
    public boolean isBlank() {
      return op == null && error == null;
    }
  }

  /**
   * Parses line {@code line}; {@code text} null means the line was too long to read.
   *
   * @param maxLineBytes the limit {@code text} was cut at, for the message
   */
  public static Entry parse(long line, Buffer text, int maxLineBytes) {
    if (text == null) {
      return failed(
          line,
          null,
          ErrorCode.ARGUMENT_INVALID,
          "Line " + line + " is longer than " + maxLineBytes + " bytes");
    }
    if (isBlank(text)) {
      return new Entry(line, null, null, null);
    }
    Object value;
    try {
      value = Json.decodeValue(text);
    } catch (DecodeException e) {
      String why = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
      return failed(
          line, null, ErrorCode.DESERIALIZATION_ERROR, "Line " + line + " is not JSON: " + why);
    }
    if (!(value instanceof JsonObject o)) {
      return failed(
          line,
          null,
          ErrorCode.DESERIALIZATION_ERROR,
          "Line " + line + " must be a JSON object, not " + JsonFields.kind(value));
    }
    Object id = o.getValue("id", o.getValue("deviceId"));
    String deviceId = id instanceof String s ? s : null;
    try {
      BulkOperation op = IdentityCodec.bulkOperationFromJson(o, null);
      return new Entry(line, deviceId, withoutTwinMetadata(op), null);
    } catch (HubException e) {
      return failed(line, deviceId, e.errorCode(), "Line " + line + ": " + e.getMessage());
    }
  }

  private static Entry failed(long line, String deviceId, ErrorCode code, String message) {
    return new Entry(
        line, deviceId, null, new ImportError(line, deviceId, code.wireName(), message));
  }

  private static boolean isBlank(Buffer text) {
    for (int i = 0; i < text.length(); i++) {
      byte b = text.getByte(i);
      if (b != ' ' && b != '\t' && b != '\r') {
        return false;
      }
    }
    return true;
  }

  /**
   * An export from IoT Hub carries {@code $metadata} and {@code $version} in the desired properties
   * and the device's reported properties; neither is the service's to set, so an import keeps only
   * the desired values. A twin part left with neither tags nor desired properties is dropped,
   * except for the updateTwin modes, whose etag check is an effect of its own.
   */
  private static BulkOperation withoutTwinMetadata(BulkOperation op) {
    JsonObject twin = op.twin();
    if (twin == null) {
      return op;
    }
    JsonObject cleaned = twin.copy();
    Object properties = cleaned.remove("properties");
    Object desired = properties == null ? null : ((JsonObject) properties).getValue("desired");
    if (desired != null && !(desired instanceof JsonObject)) {
      throw JsonFields.wrongType("properties.desired", "an object", desired);
    }
    if (desired != null) {
      JsonObject values = (JsonObject) desired;
      values.remove("$metadata");
      values.remove("$version");
      cleaned.put("properties", new JsonObject().put("desired", values));
    }
    boolean keep = cleaned.containsKey("tags") || desired != null || op.mode().touchesTwinOnly();
    return new BulkOperation(op.mode(), op.device(), op.etag(), keep ? cleaned : null);
  }

  /**
   * A device and its twin as an export writes them: the identity, then {@code twinETag}, {@code
   * tags} and the desired and reported property values when there are any.
   *
   * @param twin null when the device has no twin yet
   */
  public static JsonObject exportLine(Device device, Twin twin, boolean excludeKeys) {
    JsonObject line = IdentityCodec.toExportJson(device, excludeKeys);
    if (twin != null) {
      line.put("twinETag", twin.etag());
      if (!twin.tags().isEmpty()) {
        line.put("tags", TwinJson.values(twin.tags()));
      }
      JsonObject properties = new JsonObject();
      if (!twin.desired().isEmpty()) {
        properties.put("desired", TwinJson.values(twin.desired()));
      }
      if (!twin.reported().isEmpty()) {
        properties.put("reported", TwinJson.values(twin.reported()));
      }
      if (!properties.isEmpty()) {
        line.put("properties", properties);
      }
    }
    return line;
  }

  /** One line of {@code importErrors.log}. */
  public static JsonObject errorLine(ImportError e) {
    return new JsonObject()
        .put("line", e.line())
        .put("deviceId", e.deviceId())
        .put("moduleId", null)
        .put("errorCode", e.errorCode())
        .put("errorStatus", e.message());
  }
}
