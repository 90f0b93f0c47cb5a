package io.herd.adapter.common;

import java.time.Instant;
import java.util.Map;

/**
 * A device-to-cloud message as the built-in events endpoint keeps it.
 *
 * @param systemProperties IoT Hub's names: {@code message-id}, {@code correlation-id}, {@code
 *     user-id}, {@code to}, {@code content-type}, {@code content-encoding}, {@code
 *     absolute-expiry-time}, {@code iothub-interface-name}, {@code iothub-message-type}, ...
 * @param properties the application properties, in the order the device sent them
 * @param protocol the transport the message came over, e.g. {@code mqtt}
 */
public record DeviceMessage(
    String deviceId,
    String moduleId,
    Map<String, String> systemProperties,
    Map<String, String> properties,
    byte[] body,
    Instant enqueuedTime,
    String protocol) {
  public DeviceMessage {
    systemProperties = Map.copyOf(systemProperties);
    properties = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(properties));
  }
}
