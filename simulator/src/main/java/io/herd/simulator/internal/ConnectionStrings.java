package io.herd.simulator.internal;

import java.util.HashMap;
import java.util.Map;

/** IoT Hub connection strings (azure-iothub-wire.md §1.3). */
public final class ConnectionStrings {
  private ConnectionStrings() {}

  /**
   * The {@code Name=Value} pairs of a {@code ;}-separated connection string, split on the first
   * {@code =}; names are case-sensitive, as the SDKs read them.
   */
  public static Map<String, String> parse(String text) {
    Map<String, String> cs = new HashMap<>();
    for (String part : text.split(";")) {
      int eq = part.indexOf('=');
      if (eq > 0) {
        cs.put(part.substring(0, eq), part.substring(eq + 1));
      }
    }
    return cs;
  }
}
