package io.herd.server.c2d;

/** One durable change of the queues, applied by a {@link CloudToDeviceStore} in order. */
public sealed interface QueueChange {
  record Insert(QueuedMessage message) implements QueueChange {}

  /** A delivery attempt started; the message now has {@code deliveryCount} attempts. */
  record Attempt(String deviceId, long seq, int deliveryCount) implements QueueChange {}

  record Remove(String deviceId, long seq) implements QueueChange {}

  /** Removes every message of the device. */
  record Purge(String deviceId) implements QueueChange {}

  record AddFeedback(Feedback feedback) implements QueueChange {}
}
