package io.herd.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A service connection string, {@code HostName=...;SharedAccessKeyName=...;SharedAccessKey=...}
 * (azure-iothub-wire.md §1.3): {@code ;}-separated {@code Name=Value} pairs, split on the first
 * {@code =}, names case-sensitive, all three required. {@code HostName} may carry a port ({@code
 * localhost:8443}), which the SDKs cannot do but a hub on a non-standard port needs.
 */
record ConnectionString(String hostName, String keyName, String key) {

  static ConnectionString parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("the connection string is empty");
    }
    Map<String, String> fields = new LinkedHashMap<>();
    for (String part : text.strip().split(";")) {
      int eq = part.indexOf('=');
      if (eq <= 0 || eq == part.length() - 1) {
        // Empty names or values are dropped, as the SDKs do.
        continue;
      }
      fields.put(part.substring(0, eq).strip(), part.substring(eq + 1).strip());
    }
    String host = fields.get("HostName");
    String keyName = fields.get("SharedAccessKeyName");
    String key = fields.get("SharedAccessKey");
    if (fields.containsKey("DeviceId")) {
      throw new IllegalArgumentException(
          "this is a device connection string; the CLI needs a service one (a shared access"
              + " policy's, e.g. iothubowner)");
    }
    if (host == null || keyName == null || key == null) {
      throw new IllegalArgumentException(
          "a service connection string needs HostName, SharedAccessKeyName and SharedAccessKey");
    }
    try {
      java.util.Base64.getDecoder().decode(key);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("SharedAccessKey is not base64: " + e.getMessage());
    }
    port(host);
    return new ConnectionString(host, keyName, key);
  }

  /** The port in {@code HostName}, or 443. */
  int port() {
    return port(hostName);
  }

  /** {@code HostName} without its port. */
  String host() {
    int colon = portColon(hostName);
    return colon < 0 ? hostName : hostName.substring(0, colon);
  }

  private static int port(String hostName) {
    int colon = portColon(hostName);
    if (colon < 0) {
      return 443;
    }
    String digits = hostName.substring(colon + 1);
    int port;
    try {
      port = Integer.parseInt(digits);
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(
          "HostName '" + hostName + "' has a bad port; write host or host:port (1-65535)");
    }
    return port;
  }

  /** The colon before a port: after a bracketed IPv6 literal, or the only colon of a name. */
  private static int portColon(String hostName) {
    if (hostName.startsWith("[")) {
      int end = hostName.indexOf(']');
      return end > 0 && end + 1 < hostName.length() && hostName.charAt(end + 1) == ':'
          ? end + 1
          : -1;
    }
    int colon = hostName.indexOf(':');
    return colon >= 0 && hostName.indexOf(':', colon + 1) < 0 ? colon : -1;
  }
}
