package io.herd.registry;

import io.herd.core.HubException;

/** Whether a device may connect. */
public enum DeviceStatus {
  ENABLED("enabled"),
  DISABLED("disabled");

  private final String wire;

  DeviceStatus(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  /** Parses the wire form, case-insensitively as IoT Hub does. */
  public static DeviceStatus parse(String field, String value) {
    for (DeviceStatus s : values()) {
      if (s.wire.equalsIgnoreCase(value)) {
        return s;
      }
    }
    throw HubException.badRequest(
        "Field '" + field + "' must be 'enabled' or 'disabled', but is '" + value + "'");
  }
}
