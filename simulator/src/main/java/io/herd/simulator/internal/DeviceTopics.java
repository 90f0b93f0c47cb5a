package io.herd.simulator.internal;

/**
 * The device side of IoT Hub's MQTT topics (azure-iothub-wire.md §2.3, §2.5, §2.6): names a device
 * publishes to and subscribes to, and parsers for what the hub publishes. Pure; no I/O.
 */
public final class DeviceTopics {

  public static final String API_VERSION = "2021-04-12";
  public static final String TWIN_RESPONSE_FILTER = "$iothub/twin/res/#";
  public static final String TWIN_RESPONSE_PREFIX = "$iothub/twin/res/";
  public static final String REPORTED_PATCH_TOPIC = "$iothub/twin/PATCH/properties/reported/?$rid=";
  public static final String TWIN_GET_TOPIC = "$iothub/twin/GET/?$rid=";
  public static final String DESIRED_FILTER = "$iothub/twin/PATCH/properties/desired/#";
  public static final String DESIRED_PREFIX = "$iothub/twin/PATCH/properties/desired/";
  public static final String METHOD_REQUEST_FILTER = "$iothub/methods/POST/#";
  public static final String METHOD_REQUEST_PREFIX = "$iothub/methods/POST/";
  public static final String METHOD_RESPONSE_PREFIX = "$iothub/methods/res/";

  private DeviceTopics() {}

  /** The IoT Hub MQTT user name of a device (wire §2.1), without the optional parts. */
  public static String userName(String hostName, String deviceId) {
    return hostName + "/" + deviceId + "/?api-version=" + API_VERSION;
  }

  /** {@code devices/{id}/messages/events/}: telemetry with an empty property bag. */
  public static String telemetryTopic(String deviceId) {
    return "devices/" + deviceId + "/messages/events/";
  }

  public static String cloudToDeviceFilter(String deviceId) {
    return "devices/" + deviceId + "/messages/devicebound/#";
  }

  /**
   * The {@code $version} of a desired-properties notification topic {@code
   * $iothub/twin/PATCH/properties/desired/?$version={v}}; -1 when {@code topic} is not one or
   * carries no version.
   */
  public static long desiredVersion(String topic) {
    if (!topic.startsWith(DESIRED_PREFIX + "?")) {
      return -1;
    }
    for (String pair : topic.substring(DESIRED_PREFIX.length() + 1).split("&")) {
      if (pair.startsWith("$version=")) {
        try {
          return Long.parseLong(pair.substring(9));
        } catch (NumberFormatException e) {
          return -1;
        }
      }
    }
    return -1;
  }

  /** The topic of a device's answer with {@code status} to the method request {@code rid}. */
  public static String methodResponseTopic(String rid, int status) {
    return METHOD_RESPONSE_PREFIX + status + "/?$rid=" + rid;
  }

  /** A direct-method request topic {@code $iothub/methods/POST/{name}/?$rid={rid}} (wire §2.6). */
  public record MethodRequest(String name, String rid) {

    /**
     * Null when {@code topic} is not a method request with a non-empty name and {@code $rid} (the
     * Node SDK requires both).
     */
    public static MethodRequest parse(String topic) {
      if (!topic.startsWith(METHOD_REQUEST_PREFIX)) {
        return null;
      }
      int slash = topic.indexOf('/', METHOD_REQUEST_PREFIX.length());
      if (slash <= METHOD_REQUEST_PREFIX.length() || !topic.startsWith("/?", slash)) {
        return null;
      }
      String rid = null;
      for (String pair : topic.substring(slash + 2).split("&")) {
        if (pair.startsWith("$rid=")) {
          rid = pair.substring(5);
        }
      }
      return rid == null || rid.isEmpty()
          ? null
          : new MethodRequest(topic.substring(METHOD_REQUEST_PREFIX.length(), slash), rid);
    }

    /** The topic of the device's answer with {@code status}. */
    public String responseTopic(int status) {
      return methodResponseTopic(rid, status);
    }
  }

  /**
   * A twin response topic {@code $iothub/twin/res/{status}/?$rid={rid}[&$version={v}]} (wire §2.5);
   * {@code version} is -1 when absent.
   */
  public record TwinResponse(int status, String rid, long version) {

    /** Null when {@code topic} is not a well-formed twin response topic. */
    public static TwinResponse parse(String topic) {
      if (!topic.startsWith(TWIN_RESPONSE_PREFIX)) {
        return null;
      }
      int slash = topic.indexOf('/', TWIN_RESPONSE_PREFIX.length());
      if (slash < 0 || !topic.startsWith("/?", slash)) {
        return null;
      }
      int status;
      try {
        status = Integer.parseInt(topic.substring(TWIN_RESPONSE_PREFIX.length(), slash));
      } catch (NumberFormatException e) {
        return null;
      }
      String rid = null;
      long version = -1;
      for (String pair : topic.substring(slash + 2).split("&")) {
        if (pair.startsWith("$rid=")) {
          rid = pair.substring(5);
        } else if (pair.startsWith("$version=")) {
          try {
            version = Long.parseLong(pair.substring(9));
          } catch (NumberFormatException e) {
            return null;
          }
        }
      }
      return rid == null || rid.isEmpty() ? null : new TwinResponse(status, rid, version);
    }
  }
}
