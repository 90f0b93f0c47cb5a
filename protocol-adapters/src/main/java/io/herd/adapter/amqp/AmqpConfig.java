package io.herd.adapter.amqp;

/**
 * Limits of the AMQP endpoint.
 *
 * @param maxMessageBytes largest message body a device or the service may send (IoT Hub: 256 KB); a
 *     larger one is rejected with {@code amqp:link:message-size-exceeded}
 * @param linkCredit messages a client may have in flight on each link where the hub receives
 *     (telemetry, twin and method requests, service sends); credit comes back as each is processed,
 *     so this bounds the work one link can queue up
 * @param deviceMessagesPerSecond optional per-device rate limit of telemetry (0 = none); above it
 *     credit comes back only as fast as the rate allows
 * @param connectTimeoutSeconds how long a connection may take to authenticate (SASL, a put-token or
 *     a certificate-authenticated link) and how long it may stay without any authenticated identity
 * @param idleTimeoutSeconds the idle timeout the hub announces in its Open: a peer silent for
 *     longer is disconnected (clients send heartbeats at half of it)
 * @param maxFrameSize largest AMQP frame in either direction; the engine keeps an input and an
 *     output buffer of this size per connection (two more with a SASL layer)
 * @param maxSessions sessions per connection
 * @param maxIdentities devices and modules one connection may authenticate (multiplexing)
 * @param feedbackPollMillis how often an idle feedback link looks for new feedback records
 */
public record AmqpConfig(
    int maxMessageBytes,
    int linkCredit,
    int deviceMessagesPerSecond,
    int connectTimeoutSeconds,
    int idleTimeoutSeconds,
    int maxFrameSize,
    int maxSessions,
    int maxIdentities,
    int feedbackPollMillis) {

  /** Room for a message's header, properties and annotations besides its body. */
  public static final int PROPERTIES_ALLOWANCE = 64 * 1024;

  public AmqpConfig {
    positive("maxMessageBytes", maxMessageBytes);
    positive("linkCredit", linkCredit);
    positive("connectTimeoutSeconds", connectTimeoutSeconds);
    positive("idleTimeoutSeconds", idleTimeoutSeconds);
    positive("maxSessions", maxSessions);
    positive("maxIdentities", maxIdentities);
    positive("feedbackPollMillis", feedbackPollMillis);
    if (maxFrameSize < 512) {
      // AMQP 1.0 §2.7.1: MIN-MAX-FRAME-SIZE.
      throw new IllegalArgumentException("maxFrameSize must be at least 512: " + maxFrameSize);
    }
    if (deviceMessagesPerSecond < 0) {
      throw new IllegalArgumentException(
          "deviceMessagesPerSecond must not be negative: " + deviceMessagesPerSecond);
    }
  }

  public static AmqpConfig defaults() {
    return new AmqpConfig(256 * 1024, 64, 0, 10, 240, 8 * 1024, 8, 100, 1000);
  }

  /** The same limits with another message size, link credit and device rate. */
  public AmqpConfig withDeviceLimits(
      int maxMessageBytes, int linkCredit, int deviceMessagesPerSecond) {
    return new AmqpConfig(
        maxMessageBytes,
        linkCredit,
        deviceMessagesPerSecond,
        connectTimeoutSeconds,
        idleTimeoutSeconds,
        maxFrameSize,
        maxSessions,
        maxIdentities,
        feedbackPollMillis);
  }

  /**
   * Bytes a peer may send on a session before the hub has read them: enough for a credit's worth of
   * frames and for the largest message.
   */
  public int sessionWindowBytes() {
    long frames = (long) maxFrameSize * (linkCredit + 2);
    long message = (long) maxMessageBytes + PROPERTIES_ALLOWANCE + maxFrameSize;
    return (int) Math.min(Integer.MAX_VALUE, Math.max(frames, message));
  }

  private static void positive(String name, int v) {
    if (v < 1) {
      throw new IllegalArgumentException(name + " must be positive: " + v);
    }
  }
}
