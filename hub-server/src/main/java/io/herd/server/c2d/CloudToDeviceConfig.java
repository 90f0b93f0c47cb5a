package io.herd.server.c2d;

import java.time.Duration;

/**
 * Limits of the cloud-to-device queues (IoT Hub's, wire §9).
 *
 * @param maxQueueDepth pending messages per device; more fail with 403004
 * @param defaultTtl time-to-live of a message without an expiry time
 * @param maxTtl the latest expiry accepted, from now
 * @param maxDeliveryCount attempts before a message is dropped with DeliveryCountExceeded
 * @param maxBodyBytes largest message body; larger fail with 413
 * @param window deliveries awaiting a device's acknowledgement at once, per device
 * @param maxPendingWrites changes waiting for their commit; enqueues beyond fail with 429002
 * @param sweepInterval how often expired messages are dropped and stalled deliveries retried
 * @param feedbackTtl how long feedback records wait to be read (IoT Hub's default: 1 hour)
 */
public record CloudToDeviceConfig(
    int maxQueueDepth,
    Duration defaultTtl,
    Duration maxTtl,
    int maxDeliveryCount,
    int maxBodyBytes,
    int window,
    int maxPendingWrites,
    Duration sweepInterval,
    Duration feedbackTtl) {

  public static final int DEFAULT_MAX_QUEUE_DEPTH = 50;

  public CloudToDeviceConfig {
    if (maxQueueDepth < 1 || maxDeliveryCount < 1 || maxBodyBytes < 1 || window < 1) {
      throw new IllegalArgumentException("C2D limits must be positive");
    }
    if (maxPendingWrites < 1) {
      throw new IllegalArgumentException("maxPendingWrites must be positive");
    }
  }

  public static CloudToDeviceConfig defaults() {
    return withQueueDepth(DEFAULT_MAX_QUEUE_DEPTH);
  }

  public static CloudToDeviceConfig withQueueDepth(int maxQueueDepth) {
    return new CloudToDeviceConfig(
        maxQueueDepth,
        Duration.ofHours(1),
        Duration.ofDays(2),
        10,
        64 * 1024,
        4,
        50_000,
        Duration.ofSeconds(5),
        Duration.ofHours(1));
  }
}
