package io.herd.registry;

import static io.herd.core.JsonFields.array;
import static io.herd.core.JsonFields.bool;
import static io.herd.core.JsonFields.object;
import static io.herd.core.JsonFields.path;
import static io.herd.core.JsonFields.string;

import io.herd.core.HubException;
import io.herd.core.Ids;
import io.herd.core.JsonFields;
import io.herd.core.Timestamps;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * Converts identities to and from IoT Hub's JSON (azure-iothub-wire.md §5.3). The same form is
 * stored in PostgreSQL, so a stored identity reads back exactly as it was served.
 */
public final class IdentityCodec {
  public static final int MAX_STATUS_REASON = 128;
  private static final int MIN_KEY_BYTES = 16;
  private static final int MAX_KEY_BYTES = 64;

  private IdentityCodec() {}

  // ---- devices

  public static JsonObject toJson(Device d) {
    JsonObject json =
        new JsonObject()
            .put("deviceId", d.deviceId())
            .put("generationId", d.generationId())
            .put("etag", d.etag())
            .put("connectionState", d.connectionState().wire())
            .put("status", d.status().wire())
            .put("statusReason", d.statusReason())
            .put("connectionStateUpdatedTime", Timestamps.format(d.connectionStateUpdatedTime()))
            .put("statusUpdatedTime", Timestamps.format(d.statusUpdatedTime()))
            .put("lastActivityTime", Timestamps.format(d.lastActivityTime()))
            .put("cloudToDeviceMessageCount", d.cloudToDeviceMessageCount())
            .put("authentication", toJson(d.authentication()))
            .put("capabilities", new JsonObject().put("iotEdge", d.iotEdge()))
            .put("deviceScope", d.deviceScope())
            .put("parentScopes", new JsonArray(new ArrayList<>(d.parentScopes())));
    return json;
  }

  /** Reads what {@link #toJson(Device)} wrote, plus the version kept beside it. */
  public static Device deviceFromStored(JsonObject j, long version) {
    JsonObject caps = j.getJsonObject("capabilities");
    JsonArray scopes = j.getJsonArray("parentScopes");
    List<String> parentScopes = new ArrayList<>();
    if (scopes != null) {
      scopes.forEach(s -> parentScopes.add((String) s));
    }
    return new Device(
        j.getString("deviceId"),
        j.getString("generationId"),
        version,
        DeviceStatus.parse("status", j.getString("status")),
        j.getString("statusReason"),
        Timestamps.parse(j.getString("statusUpdatedTime")),
        ConnectionState.DISCONNECTED,
        Timestamps.parse(j.getString("connectionStateUpdatedTime")),
        Timestamps.parse(j.getString("lastActivityTime")),
        j.getInteger("cloudToDeviceMessageCount", 0),
        authenticationFromStored(j.getJsonObject("authentication")),
        caps != null && caps.getBoolean("iotEdge", false),
        j.getString("deviceScope"),
        parentScopes);
  }

  /**
   * Parses a device from a request body.
   *
   * @param pathDeviceId the id in the URL; the body's {@code deviceId}, when given, must equal it
   */
  public static DeviceSpec deviceSpecFromJson(JsonObject body, String pathDeviceId) {
    String bodyId = string(body, "deviceId", null);
    if (bodyId != null && !bodyId.equals(pathDeviceId)) {
      throw HubException.badRequest(
          "Field 'deviceId' is '"
              + bodyId
              + "' but the request path names device '"
              + pathDeviceId
              + "'");
    }
    return deviceSpec(body, Ids.require("deviceId", pathDeviceId), null);
  }

  private static DeviceSpec deviceSpec(JsonObject body, String deviceId, String path) {
    String statusText = string(body, "status", path);
    DeviceStatus status =
        statusText == null
            ? DeviceStatus.ENABLED
            : DeviceStatus.parse(path(path, "status"), statusText);
    String statusReason = string(body, "statusReason", path);
    if (statusReason != null && statusReason.length() > MAX_STATUS_REASON) {
      throw HubException.badRequest(
          "Field '"
              + path(path, "statusReason")
              + "' is longer than "
              + MAX_STATUS_REASON
              + " characters");
    }
    JsonObject caps = object(body, "capabilities", path);
    boolean iotEdge = caps != null && bool(caps, "iotEdge", path(path, "capabilities"), false);
    JsonArray scopesJson = array(body, "parentScopes", path);
    List<String> parentScopes = new ArrayList<>();
    if (scopesJson != null) {
      for (int i = 0; i < scopesJson.size(); i++) {
        Object s = scopesJson.getValue(i);
        if (!(s instanceof String str)) {
          throw JsonFields.wrongType(path(path, "parentScopes") + "[" + i + "]", "a string", s);
        }
        parentScopes.add(str);
      }
    }
    return new DeviceSpec(
        deviceId,
        status,
        statusReason,
        authenticationFromJson(object(body, "authentication", path), path(path, "authentication")),
        iotEdge,
        string(body, "deviceScope", path),
        parentScopes);
  }

  // ---- modules

  public static JsonObject toJson(Module m) {
    return new JsonObject()
        .put("moduleId", m.moduleId())
        .put("managedBy", m.managedBy())
        .put("deviceId", m.deviceId())
        .put("generationId", m.generationId())
        .put("etag", m.etag())
        .put("connectionState", m.connectionState().wire())
        .put("connectionStateUpdatedTime", Timestamps.format(m.connectionStateUpdatedTime()))
        .put("lastActivityTime", Timestamps.format(m.lastActivityTime()))
        .put("cloudToDeviceMessageCount", m.cloudToDeviceMessageCount())
        .put("authentication", toJson(m.authentication()));
  }

  public static Module moduleFromStored(JsonObject j, long version) {
    return new Module(
        j.getString("deviceId"),
        j.getString("moduleId"),
        j.getString("managedBy"),
        j.getString("generationId"),
        version,
        ConnectionState.DISCONNECTED,
        Timestamps.parse(j.getString("connectionStateUpdatedTime")),
        Timestamps.parse(j.getString("lastActivityTime")),
        j.getInteger("cloudToDeviceMessageCount", 0),
        authenticationFromStored(j.getJsonObject("authentication")));
  }

  public static ModuleSpec moduleSpecFromJson(JsonObject body, String deviceId, String moduleId) {
    Ids.require("deviceId", deviceId);
    Ids.require("moduleId", moduleId);
    String bodyDevice = string(body, "deviceId", null);
    if (bodyDevice != null && !bodyDevice.equals(deviceId)) {
      throw HubException.badRequest(
          "Field 'deviceId' is '" + bodyDevice + "' but the request path names '" + deviceId + "'");
    }
    String bodyModule = string(body, "moduleId", null);
    if (bodyModule != null && !bodyModule.equals(moduleId)) {
      throw HubException.badRequest(
          "Field 'moduleId' is '" + bodyModule + "' but the request path names '" + moduleId + "'");
    }
    return new ModuleSpec(
        deviceId,
        moduleId,
        string(body, "managedBy", null),
        authenticationFromJson(object(body, "authentication", null), "authentication"));
  }

  // ---- bulk

  /**
   * Parses one entry of a bulk request or import file (IoT Hub's ExportImportDevice).
   *
   * @param path prefixes field names in messages, e.g. {@code [3]}; null or empty for none
   */
  public static BulkOperation bulkOperationFromJson(Object entry, String path) {
    if (!(entry instanceof JsonObject j)) {
      throw JsonFields.wrongType(path == null ? "entry" : path, "an object", entry);
    }
    String id = string(j, "id", path);
    if (id == null) {
      id = string(j, "deviceId", path);
    }
    Ids.require(path(path, "id"), id);
    ImportMode mode = ImportMode.parse(path(path, "importMode"), string(j, "importMode", path));
    String etag = string(j, "eTag", path);
    if (etag == null) {
      etag = string(j, "etag", path);
    }
    if (mode.checksEtag() && !mode.touchesTwinOnly() && (etag == null || etag.isBlank())) {
      throw HubException.badRequest(
          "Field '" + path(path, "eTag") + "' is required with import mode " + mode.wire());
    }
    if (mode == ImportMode.UPDATE_TWIN_IF_MATCH_ETAG && string(j, "twinETag", path) == null) {
      throw HubException.badRequest(
          "Field '" + path(path, "twinETag") + "' is required with import mode " + mode.wire());
    }
    JsonObject twin = null;
    JsonObject tags = object(j, "tags", path);
    JsonObject properties = object(j, "properties", path);
    String twinEtag = string(j, "twinETag", path);
    if (tags != null || properties != null || twinEtag != null) {
      twin = new JsonObject();
      if (tags != null) {
        twin.put("tags", tags);
      }
      if (properties != null) {
        twin.put("properties", properties);
      }
      if (twinEtag != null) {
        twin.put("etag", twinEtag);
      }
    }
    return new BulkOperation(mode, deviceSpec(j, id, path), etag, twin);
  }

  /**
   * A device as an export job writes it: one line of IoT Hub's {@code devices.txt}
   * (ExportImportDevice) without the twin part, which the caller adds. {@link
   * #bulkOperationFromJson} reads it back.
   *
   * @param excludeKeys null the symmetric keys, as IoT Hub's {@code excludeKeysInExport} does
   */
  public static JsonObject toExportJson(Device d, boolean excludeKeys) {
    JsonObject authentication = toJson(d.authentication());
    if (excludeKeys) {
      authentication.put(
          "symmetricKey", new JsonObject().putNull("primaryKey").putNull("secondaryKey"));
    }
    return new JsonObject()
        .put("id", d.deviceId())
        .put("eTag", d.etag())
        .put("status", d.status().wire())
        .put("statusReason", d.statusReason())
        .put("authentication", authentication)
        .put("capabilities", new JsonObject().put("iotEdge", d.iotEdge()))
        .put("deviceScope", d.deviceScope())
        .put("parentScopes", new JsonArray(new ArrayList<>(d.parentScopes())));
  }

  public static JsonObject toJson(BulkResult result) {
    JsonArray errors = new JsonArray();
    for (BulkError e : result.errors()) {
      errors.add(
          new JsonObject()
              .put("deviceId", e.deviceId())
              .put("moduleId", e.moduleId())
              .put("errorCode", e.errorCode().wireName())
              .put("errorStatus", e.message()));
    }
    return new JsonObject()
        .put("isSuccessful", result.isSuccessful())
        .put("errors", errors)
        .put("warnings", new JsonArray());
  }

  // ---- authentication

  static JsonObject toJson(Authentication a) {
    return new JsonObject()
        .put(
            "symmetricKey",
            new JsonObject()
                .put("primaryKey", a.primaryKey())
                .put("secondaryKey", a.secondaryKey()))
        .put(
            "x509Thumbprint",
            new JsonObject()
                .put("primaryThumbprint", a.primaryThumbprint())
                .put("secondaryThumbprint", a.secondaryThumbprint()))
        .put("type", a.type().wire());
  }

  private static Authentication authenticationFromStored(JsonObject a) {
    JsonObject keys = a.getJsonObject("symmetricKey", new JsonObject());
    JsonObject thumbs = a.getJsonObject("x509Thumbprint", new JsonObject());
    return new Authentication(
        AuthenticationType.parse("type", a.getString("type")),
        keys.getString("primaryKey"),
        keys.getString("secondaryKey"),
        thumbs.getString("primaryThumbprint"),
        thumbs.getString("secondaryThumbprint"));
  }

  /**
   * Parses and validates credentials from a request. Empty keys stay null (the registry generates
   * them); a missing type is inferred: thumbprints mean {@code selfSigned}, otherwise {@code sas}.
   *
   * @return null when the request carries no authentication
   */
  static Authentication authenticationFromJson(JsonObject a, String path) {
    if (a == null) {
      return null;
    }
    JsonObject keys = object(a, "symmetricKey", path);
    JsonObject thumbs = object(a, "x509Thumbprint", path);
    String keysPath = path(path, "symmetricKey");
    String thumbsPath = path(path, "x509Thumbprint");
    String primaryKey = keys == null ? null : emptyToNull(string(keys, "primaryKey", keysPath));
    String secondaryKey = keys == null ? null : emptyToNull(string(keys, "secondaryKey", keysPath));
    String primaryThumb =
        thumbs == null ? null : emptyToNull(string(thumbs, "primaryThumbprint", thumbsPath));
    String secondaryThumb =
        thumbs == null ? null : emptyToNull(string(thumbs, "secondaryThumbprint", thumbsPath));
    String typeText = string(a, "type", path);
    AuthenticationType type;
    if (typeText != null) {
      type = AuthenticationType.parse(path(path, "type"), typeText);
    } else if (primaryThumb != null || secondaryThumb != null) {
      type = AuthenticationType.SELF_SIGNED;
    } else {
      type = AuthenticationType.SAS;
    }
    switch (type) {
      case SAS -> {
        checkKey(path(keysPath, "primaryKey"), primaryKey);
        checkKey(path(keysPath, "secondaryKey"), secondaryKey);
        return new Authentication(type, primaryKey, secondaryKey, null, null);
      }
      case SELF_SIGNED -> {
        if (primaryThumb == null) {
          throw HubException.badRequest(
              "Field '"
                  + path(thumbsPath, "primaryThumbprint")
                  + "' is required for authentication type selfSigned");
        }
        return new Authentication(
            type,
            null,
            null,
            thumbprint(path(thumbsPath, "primaryThumbprint"), primaryThumb),
            thumbprint(path(thumbsPath, "secondaryThumbprint"), secondaryThumb));
      }
      default -> {
        return new Authentication(type, null, null, null, null);
      }
    }
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  private static void checkKey(String path, String key) {
    if (key == null) {
      return;
    }
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(key);
    } catch (IllegalArgumentException e) {
      throw HubException.badRequest("Field '" + path + "' is not valid base64");
    }
    if (raw.length < MIN_KEY_BYTES || raw.length > MAX_KEY_BYTES) {
      throw HubException.badRequest(
          "Field '"
              + path
              + "' must decode to "
              + MIN_KEY_BYTES
              + " to "
              + MAX_KEY_BYTES
              + " bytes, but has "
              + raw.length);
    }
  }

  private static String thumbprint(String path, String t) {
    if (t == null) {
      return null;
    }
    String hex = t.replace(":", "").replace(" ", "").toUpperCase(Locale.ROOT);
    boolean isHex = hex.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'));
    if (!isHex || (hex.length() != 40 && hex.length() != 64)) {
      throw HubException.badRequest(
          "Field '" + path + "' must be a SHA-1 (40 hex digits) or SHA-256 (64) thumbprint");
    }
    return hex;
  }
}
