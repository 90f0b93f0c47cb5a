package io.herd.server.c2d;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A cloud-to-device message as it waits in its device's queue.
 *
 * @param seq hub-wide enqueue order; orders a device's queue
 * @param generationId the device generation it was sent to, for feedback
 * @param deliveryCount attempts so far
 */
public record QueuedMessage(
    String deviceId,
    long seq,
    String messageId,
    String correlationId,
    AckMode ack,
    String generationId,
    Instant enqueuedTime,
    Instant expiryTime,
    int deliveryCount,
    int maxDeliveryCount,
    String contentType,
    String contentEncoding,
    Map<String, String> properties,
    byte[] body) {

  public QueuedMessage {
    properties = new LinkedHashMap<>(properties);
  }

  public QueuedMessage withDeliveryCount(int n) {
    return new QueuedMessage(
        deviceId,
        seq,
        messageId,
        correlationId,
        ack,
        generationId,
        enqueuedTime,
        expiryTime,
        n,
        maxDeliveryCount,
        contentType,
        contentEncoding,
        properties,
        body);
  }
}
