package io.herd.adapter.common;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;

/**
 * A device's answer to a direct method.
 *
 * @param status the status the device chose
 * @param payload the response body as the device sent it (JSON by convention), empty when none
 */
public record MethodResult(int status, Buffer payload) {

  /**
   * The payload as IoT Hub returns it to the service: its JSON value, null when empty, and its text
   * when it is not JSON (the SDKs always send JSON, a hand-made device may not).
   */
  public Object payloadValue() {
    if (payload.length() == 0) {
      return null;
    }
    try {
      return Json.decodeValue(payload);
    } catch (DecodeException e) {
      return payload.toString();
    }
  }
}
