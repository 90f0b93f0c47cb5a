package io.herd.adapter.common;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A cloud-to-device message on its way to a connected device.
 *
 * @param systemProperties by their MQTT property-bag names: {@code $.mid}, {@code $.cid}, {@code
 *     $.uid}, {@code $.to}, {@code $.exp}, {@code $.ct}, {@code $.ce}
 * @param properties application properties, in order
 */
public record CloudToDeviceMessage(
    Map<String, String> systemProperties, Map<String, String> properties, byte[] body) {
  public CloudToDeviceMessage {
    systemProperties = new LinkedHashMap<>(systemProperties);
    properties = new LinkedHashMap<>(properties);
  }
}
