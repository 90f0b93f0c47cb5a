package io.herd.server.c2d;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the service sends to a device.
 *
 * @param messageId null for a generated one
 * @param expiryTime absolute expiry, null for the default time-to-live
 */
public record OutgoingMessage(
    String messageId,
    String correlationId,
    AckMode ack,
    Instant expiryTime,
    String contentType,
    String contentEncoding,
    Map<String, String> properties,
    byte[] body) {

  public OutgoingMessage {
    properties = new LinkedHashMap<>(properties);
    ack = ack == null ? AckMode.NONE : ack;
  }
}
