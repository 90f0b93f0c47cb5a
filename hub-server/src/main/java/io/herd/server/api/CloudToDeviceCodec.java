package io.herd.server.api;

import io.herd.core.HubException;
import io.herd.core.JsonFields;
import io.herd.core.Timestamps;
import io.herd.server.c2d.AckMode;
import io.herd.server.c2d.Enqueued;
import io.herd.server.c2d.OutgoingMessage;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** The JSON of Herd's {@code POST /devices/{id}/messages/deviceBound} extension. */
final class CloudToDeviceCodec {
  /** IoT Hub's limit on message ids. */
  static final int MAX_ID_LENGTH = 128;

  private static final Set<String> FIELDS =
      Set.of(
          "data",
          "dataEncoding",
          "properties",
          "messageId",
          "correlationId",
          "ack",
          "expiryTimeUtc",
          "contentType",
          "contentEncoding");

  private CloudToDeviceCodec() {}

  static OutgoingMessage fromJson(JsonObject j) {
    for (String field : j.fieldNames()) {
      if (!FIELDS.contains(field)) {
        throw HubException.badRequest(
            "Unknown field '"
                + field
                + "'; allowed are "
                + String.join(", ", FIELDS.stream().sorted().toList()));
      }
    }
    String data = JsonFields.string(j, "data", "");
    String encoding = JsonFields.string(j, "dataEncoding", "");
    byte[] body;
    if (encoding == null || encoding.equalsIgnoreCase("utf-8")) {
      body = data == null ? new byte[0] : data.getBytes(StandardCharsets.UTF_8);
    } else if (encoding.equalsIgnoreCase("base64")) {
      try {
        body = data == null ? new byte[0] : Base64.getDecoder().decode(data);
      } catch (IllegalArgumentException e) {
        throw HubException.badRequest("Field 'data' is not valid base64: " + e.getMessage());
      }
    } else {
      throw HubException.badRequest(
          "Field 'dataEncoding' must be utf-8 or base64, but is '" + encoding + "'");
    }
    Map<String, String> properties = new LinkedHashMap<>();
    JsonObject props = JsonFields.object(j, "properties", "");
    if (props != null) {
      for (Map.Entry<String, Object> e : props) {
        Object v = e.getValue();
        if (!(v instanceof String || v instanceof Number || v instanceof Boolean)) {
          throw JsonFields.wrongType("properties." + e.getKey(), "a string", v);
        }
        properties.put(e.getKey(), String.valueOf(v));
      }
    }
    String messageId = id(j, "messageId");
    String correlationId = id(j, "correlationId");
    AckMode ack = AckMode.parse(JsonFields.string(j, "ack", ""));
    String expiry = JsonFields.string(j, "expiryTimeUtc", "");
    return new OutgoingMessage(
        messageId,
        correlationId,
        ack,
        expiry == null ? null : instant(expiry),
        JsonFields.string(j, "contentType", ""),
        JsonFields.string(j, "contentEncoding", ""),
        properties,
        body);
  }

  private static String id(JsonObject j, String field) {
    String v = JsonFields.string(j, field, "");
    if (v != null && (v.isEmpty() || v.length() > MAX_ID_LENGTH)) {
      throw HubException.badRequest(
          "Field '" + field + "' must have 1 to " + MAX_ID_LENGTH + " characters");
    }
    return v;
  }

  private static java.time.Instant instant(String s) {
    try {
      return OffsetDateTime.parse(s).toInstant();
    } catch (DateTimeParseException e) {
      throw HubException.badRequest(
          "Field 'expiryTimeUtc' must be an ISO-8601 time such as 2026-01-02T03:04:05Z, but is '"
              + s
              + "'");
    }
  }

  static JsonObject toJson(Enqueued e) {
    return new JsonObject()
        .put("messageId", e.messageId())
        .put("deviceId", e.deviceId())
        .put("enqueuedTimeUtc", Timestamps.format(e.enqueuedTime()))
        .put("expiryTimeUtc", Timestamps.format(e.expiryTime()));
  }
}
