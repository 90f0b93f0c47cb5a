package io.herd.adapter.common;

import io.vertx.core.buffer.Buffer;

/**
 * A device's answer to a direct method.
 *
 * @param status the status the device chose
 * @param payload the response body as the device sent it (JSON by convention), empty when none
 */
public record MethodResult(int status, Buffer payload) {}
