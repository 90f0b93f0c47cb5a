package io.herd.server.api;

import io.herd.adapter.common.DeviceSessions;
import io.herd.adapter.common.MethodResult;
import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.JsonFields;
import io.herd.core.twin.TwinKey;
import io.herd.registry.DeviceRegistry;
import io.herd.server.methods.MethodCall;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;

/**
 * {@code POST /twins/{id}/methods} and {@code /twins/{id}/modules/{mid}/methods}
 * (azure-iothub-wire.md §5.5): validates the call, routes it to the device's live connection
 * through {@link DeviceSessions}, and answers {@code {"status":..,"payload":..}}.
 */
final class MethodsApi {
  private final Vertx vertx;
  private final DeviceRegistry registry;
  private final DeviceSessions sessions;

  MethodsApi(Vertx vertx, DeviceRegistry registry, DeviceSessions sessions) {
    this.vertx = vertx;
    this.registry = registry;
    this.sessions = sessions;
  }

  Future<JsonObject> invoke(String deviceId, String moduleId, Buffer body) {
    MethodCall call = MethodCall.parse(JsonFields.parseObject(body), null);
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
            Duration.ofSeconds(call.responseTimeoutInSeconds()),
            Duration.ofSeconds(call.connectTimeoutInSeconds()))
        .map(MethodsApi::result);
  }

  /** {@code {"status":..,"payload":..}}: the device's JSON, null when empty, else its text. */
  static JsonObject result(MethodResult r) {
    if (r.payload().length() > MethodCall.MAX_PAYLOAD_BYTES) {
      throw new HubException(
          ErrorCode.MESSAGE_TOO_LARGE,
          "The device answered with "
              + r.payload().length()
              + " bytes; the limit is "
              + MethodCall.MAX_PAYLOAD_BYTES);
    }
    return new JsonObject().put("status", r.status()).put("payload", r.payloadValue());
  }
}
