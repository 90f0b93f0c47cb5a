package io.herd.server.api;

import io.herd.adapter.common.DeviceSessions;
import io.herd.adapter.common.MethodResult;
import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.JsonFields;
import io.herd.core.twin.TwinKey;
import io.herd.registry.DeviceRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.time.Duration;

/**
 * {@code POST /twins/{id}/methods} and {@code /twins/{id}/modules/{mid}/methods}
 * (azure-iothub-wire.md §5.5): validates the call, routes it to the device's live connection
 * through {@link DeviceSessions}, and answers {@code {"status":..,"payload":..}}.
 */
final class MethodsApi {
  /** IoT Hub's limit on a method payload, each way. */
  static final int MAX_PAYLOAD_BYTES = 128 * 1024;

  static final int DEFAULT_RESPONSE_TIMEOUT = 30;
  static final int MIN_RESPONSE_TIMEOUT = 5;
  static final int MAX_TIMEOUT = 300;

  /** Characters IoT Hub does not allow in method names besides controls and non-ASCII. */
  private static final String FORBIDDEN = "$()<>@,;:\\\"/[]?={} \t";

  private final Vertx vertx;
  private final DeviceRegistry registry;
  private final DeviceSessions sessions;

  MethodsApi(Vertx vertx, DeviceRegistry registry, DeviceSessions sessions) {
    this.vertx = vertx;
    this.registry = registry;
    this.sessions = sessions;
  }

  /** A validated call. */
  record Call(String methodName, Buffer payload, int responseTimeout, int connectTimeout) {}

  static Call parse(JsonObject body) {
    Object nameValue = body.getValue("methodName");
    if (!(nameValue instanceof String name) || name.isEmpty()) {
      throw new HubException(
          ErrorCode.ARGUMENT_INVALID, "methodName is required and must be a non-empty string");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < 0x21 || c > 0x7e || FORBIDDEN.indexOf(c) >= 0) {
        throw new HubException(
            ErrorCode.ARGUMENT_INVALID,
            "methodName '"
                + name
                + "' has a character IoT Hub does not allow at position "
                + i
                + " (printable US-ASCII except $()<>@,;:\\\"/[]?={} and spaces)");
      }
    }
    int response =
        seconds(body, "responseTimeoutInSeconds", DEFAULT_RESPONSE_TIMEOUT, MIN_RESPONSE_TIMEOUT);
    int connect = seconds(body, "connectTimeoutInSeconds", 0, 0);
    Buffer payload = Json.encodeToBuffer(body.getValue("payload"));
    if (payload.length() > MAX_PAYLOAD_BYTES) {
      throw new HubException(
          ErrorCode.MESSAGE_TOO_LARGE,
          "The method payload is "
              + payload.length()
              + " bytes; the limit is "
              + MAX_PAYLOAD_BYTES);
    }
    return new Call(name, payload, response, connect);
  }

  private static int seconds(JsonObject body, String field, int dflt, int min) {
    Object v = body.getValue(field);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
      throw JsonFields.wrongType(field, "a whole number of seconds", v);
    }
    long s = n.longValue();
    if (s < min || s > MAX_TIMEOUT) {
      throw new HubException(
          ErrorCode.ARGUMENT_INVALID,
          field + " must be between " + min + " and " + MAX_TIMEOUT + ", got " + s);
    }
    return (int) s;
  }

  Future<JsonObject> invoke(String deviceId, String moduleId, Buffer body) {
    Call call = parse(JsonFields.parseObject(body));
    TwinKey key;
    if (moduleId == null) {
      if (registry.find(deviceId).isEmpty()) {
        throw HubException.deviceNotFound(deviceId);
      }
      key = TwinKey.device(deviceId);
    } else {
      if (registry.findModule(deviceId, moduleId).isEmpty()) {
        throw HubException.moduleNotFound(deviceId, moduleId);
      }
      key = TwinKey.module(deviceId, moduleId);
    }
    return sessions
        .invokeMethod(
            vertx,
            key,
            call.methodName(),
            call.payload(),
            Duration.ofSeconds(call.responseTimeout()),
            Duration.ofSeconds(call.connectTimeout()))
        .map(MethodsApi::result);
  }

  /** {@code {"status":..,"payload":..}}: the device's JSON, null when empty, else its text. */
  static JsonObject result(MethodResult r) {
    if (r.payload().length() > MAX_PAYLOAD_BYTES) {
      throw new HubException(
          ErrorCode.MESSAGE_TOO_LARGE,
          "The device answered with "
              + r.payload().length()
              + " bytes; the limit is "
              + MAX_PAYLOAD_BYTES);
    }
    Object payload = null;
    if (r.payload().length() > 0) {
      try {
        payload = Json.decodeValue(r.payload());
      } catch (DecodeException e) {
        // Not JSON: the SDKs always send JSON, but a hand-made device may not; keep its text.
        payload = r.payload().toString();
      }
    }
    return new JsonObject().put("status", r.status()).put("payload", payload);
  }
}
