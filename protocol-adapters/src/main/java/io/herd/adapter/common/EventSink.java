package io.herd.adapter.common;

import io.vertx.core.Future;

/**
 * Where accepted device-to-cloud messages go: the seam between the protocol adapters and message
 * routing. A protocol acknowledges a message (PUBACK, AMQP accepted, HTTP 204) only after {@link
 * #accept} succeeded; a durable implementation completes only once the message is stored.
 */
public interface EventSink {
  /**
   * Accepts one message.
   *
   * @return the message's sequence number in the stream; fails with 429 when the sink cannot take
   *     more now
   */
  Future<Long> accept(DeviceMessage message);
}
