package io.herd.adapter.mqtt;

/**
 * Limits of the MQTT endpoint.
 *
 * @param maxMessageBytes largest PUBLISH payload a device may send (IoT Hub: 256 KB); a larger one
 *     closes the connection, as IoT Hub does
 * @param maxInflight QoS 1 messages and twin requests of one connection being processed at once; at
 *     the limit the hub stops reading from the connection until one completes, and the same bound
 *     applies to unacknowledged cloud-to-device messages
 * @param deviceMessagesPerSecond optional per-device rate limit of telemetry (0 = none); above it
 *     the hub stops reading from the connection until the device is back under the rate
 * @param connectTimeoutSeconds how long a new connection may take to send CONNECT
 */
public record MqttConfig(
    int maxMessageBytes, int maxInflight, int deviceMessagesPerSecond, int connectTimeoutSeconds) {
  public static final int DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;

  public MqttConfig {
    if (maxMessageBytes < 1) {
      throw new IllegalArgumentException("maxMessageBytes must be positive: " + maxMessageBytes);
    }
    if (maxInflight < 1) {
      throw new IllegalArgumentException("maxInflight must be positive: " + maxInflight);
    }
    if (deviceMessagesPerSecond < 0) {
      throw new IllegalArgumentException(
          "deviceMessagesPerSecond must not be negative: " + deviceMessagesPerSecond);
    }
    if (connectTimeoutSeconds < 1) {
      throw new IllegalArgumentException(
          "connectTimeoutSeconds must be positive: " + connectTimeoutSeconds);
    }
  }

  public static MqttConfig defaults() {
    return new MqttConfig(DEFAULT_MAX_MESSAGE_BYTES, 64, 0, 10);
  }
}
