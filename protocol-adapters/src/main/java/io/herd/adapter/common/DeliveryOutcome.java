package io.herd.adapter.common;

/**
 * How a device settled a cloud-to-device message it received (azure-iothub-wire.md §3.3): MQTT
 * completes with PUBACK; AMQP settles accepted, rejected or released (or modified).
 */
public enum DeliveryOutcome {
  /** Done with: removed from the queue, Success feedback when asked for. */
  COMPLETED,
  /** Refused for good (dead-lettered): removed, Rejected feedback when asked for. */
  REJECTED,
  /** Given back: the message is delivered again, its attempt counted. */
  ABANDONED
}
