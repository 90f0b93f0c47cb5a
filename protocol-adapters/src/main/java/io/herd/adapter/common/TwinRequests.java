package io.herd.adapter.common;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.JsonFields;
import io.herd.core.Timestamps;
import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinJson;
import io.herd.twin.TwinStore;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.UUID;

/** The twin requests a device makes over any protocol, and the bodies IoT Hub answers with. */
public final class TwinRequests {
  private TwinRequests() {}

  /**
   * The twin as a device reads it: {@code {"desired":{...},"reported":{...}}}.
   *
   * @throws HubException DeviceNotFound when the identity has no twin
   */
  public static Buffer deviceView(TwinStore twins, DeviceIdentity identity) {
    Twin t = twins.find(identity.key()).orElse(null);
    if (t == null) {
      throw new HubException(ErrorCode.DEVICE_NOT_FOUND, "No twin for " + identity);
    }
    return TwinJson.deviceView(t).toBuffer();
  }

  /** Applies a reported-properties patch (a JSON object); fails with 400 when it is not one. */
  public static Future<Twin> patchReported(
      TwinStore twins, DeviceIdentity identity, Buffer payload) {
    JsonObject patch;
    try {
      patch = JsonFields.parseObject(payload);
    } catch (HubException e) {
      return Future.failedFuture(e);
    }
    return twins.patchReported(identity.key(), patch);
  }

  /**
   * The body of a failed twin request. The Node SDK treats a response as failed only when its body
   * has an {@code errorCode} (wire §2.5).
   */
  public static Buffer errorBody(HubException e, Instant now) {
    return new JsonObject()
        .put("errorCode", e.errorCode().code())
        .put("trackingId", UUID.randomUUID().toString().replace("-", ""))
        .put("message", e.getMessage())
        .put("timestampUtc", Timestamps.format(now))
        .toBuffer();
  }
}
