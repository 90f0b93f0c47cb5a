package io.herd.adapter.common;

import io.herd.core.Timestamps;
import java.time.Instant;
import java.util.LinkedHashMap;
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

  /**
   * Telemetry as a device sent it, stamped with what IoT Hub adds on ingest: the connection's
   * device (and module) id, how it authenticated, the enqueued time and the message source.
   *
   * @param systemProperties what the device set, by IoT Hub's names (see the record)
   */
  public static DeviceMessage telemetry(
      DeviceIdentity identity,
      Map<String, String> systemProperties,
      Map<String, String> properties,
      byte[] body,
      Instant now,
      String protocol) {
    // Room for the device's own and the five added below without growing the table on the way.
    Map<String, String> system = new LinkedHashMap<>(2 * (systemProperties.size() + 6));
    system.putAll(systemProperties);
    system.put("iothub-connection-device-id", identity.deviceId());
    if (identity.moduleId() != null) {
      system.put("iothub-connection-module-id", identity.moduleId());
    }
    system.put("iothub-connection-auth-method", identity.authMethod());
    system.put("iothub-enqueuedtime", Timestamps.format(now));
    system.put("iothub-message-source", "Telemetry");
    return new DeviceMessage(
        identity.deviceId(), identity.moduleId(), system, properties, body, now, protocol);
  }
}
