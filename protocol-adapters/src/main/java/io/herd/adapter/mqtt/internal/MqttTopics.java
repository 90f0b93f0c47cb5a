package io.herd.adapter.mqtt.internal;

import io.herd.adapter.common.DeviceIdentity;
import io.herd.adapter.common.PropertyBag;
import java.util.Map;

/**
 * The IoT Hub MQTT topics (azure-iothub-wire.md §2.3): what a device may publish and subscribe to,
 * and the topics the hub publishes on. Pure functions; a device's own id is part of its topics.
 */
public final class MqttTopics {
  static final String TWIN_RES = "$iothub/twin/res/";
  static final String TWIN_GET = "$iothub/twin/GET/";
  static final String TWIN_PATCH_REPORTED = "$iothub/twin/PATCH/properties/reported/";
  static final String TWIN_DESIRED = "$iothub/twin/PATCH/properties/desired/";
  static final String METHODS_POST = "$iothub/methods/POST/";
  static final String METHODS_RES = "$iothub/methods/res/";

  private MqttTopics() {}

  /** What a device may subscribe to. */
  public enum Subscription {
    CLOUD_TO_DEVICE,
    MODULE_INPUTS,
    TWIN_RESPONSES,
    DESIRED_PROPERTIES,
    METHODS
  }

  /** A topic a device published to, classified. */
  public sealed interface Inbound {}

  /** Telemetry; {@code bag} is the raw property bag after the last slash (may be empty). */
  public record Telemetry(String bag) implements Inbound {}

  public record TwinGet(String rid) implements Inbound {}

  public record ReportedPatch(String rid) implements Inbound {}

  public record MethodResponse(int status, String rid) implements Inbound {}

  /** Not a topic this device may publish to. */
  public record Invalid(String reason) implements Inbound {}

  /** The telemetry topic prefix of an identity, with the trailing slash. */
  public static String telemetryPrefix(DeviceIdentity id) {
    return id.moduleId() == null
        ? "devices/" + id.deviceId() + "/messages/events/"
        : "devices/" + id.deviceId() + "/modules/" + id.moduleId() + "/messages/events/";
  }

  /** Classifies a PUBLISH topic of {@code id}. */
  public static Inbound parsePublish(String topic, DeviceIdentity id) {
    if (topic == null || topic.isEmpty()) {
      return new Invalid("empty topic");
    }
    if (topic.startsWith("$iothub/")) {
      return parseIotHub(topic);
    }
    String prefix = telemetryPrefix(id);
    if (topic.startsWith(prefix)) {
      String bag = topic.substring(prefix.length());
      if (bag.indexOf('/') >= 0) {
        return new Invalid("a telemetry property bag cannot contain '/': " + topic);
      }
      return new Telemetry(bag);
    }
    if (topic.equals(prefix.substring(0, prefix.length() - 1))) {
      return new Telemetry("");
    }
    if (topic.startsWith("devices/")) {
      return new Invalid("not this connection's telemetry topic (" + prefix + "...): " + topic);
    }
    return new Invalid("unknown topic: " + topic);
  }

  private static Inbound parseIotHub(String topic) {
    if (topic.startsWith(TWIN_GET)) {
      String rid = rid(topic.substring(TWIN_GET.length()));
      return rid == null ? new Invalid("twin GET without $rid: " + topic) : new TwinGet(rid);
    }
    if (topic.startsWith(TWIN_PATCH_REPORTED)) {
      String rid = rid(topic.substring(TWIN_PATCH_REPORTED.length()));
      return rid == null
          ? new Invalid("reported-properties PATCH without $rid: " + topic)
          : new ReportedPatch(rid);
    }
    if (topic.startsWith(METHODS_RES)) {
      String rest = topic.substring(METHODS_RES.length());
      int slash = rest.indexOf('/');
      if (slash <= 0) {
        return new Invalid("method response without status: " + topic);
      }
      int status;
      try {
        status = Integer.parseInt(rest.substring(0, slash));
      } catch (NumberFormatException e) {
        return new Invalid("method response status is not a number: " + topic);
      }
      String rid = rid(rest.substring(slash + 1));
      return rid == null
          ? new Invalid("method response without $rid: " + topic)
          : new MethodResponse(status, rid);
    }
    return new Invalid("unknown $iothub topic: " + topic);
  }

  /** The {@code $rid} of {@code ?$rid=..&..} (the leading {@code ?} optional), or null. */
  static String rid(String query) {
    String q = query.startsWith("?") ? query.substring(1) : query;
    Map<String, String> bag;
    try {
      bag = PropertyBag.decode(q);
    } catch (IllegalArgumentException e) {
      return null;
    }
    String rid = bag.get("$rid");
    return rid == null || rid.isEmpty() ? null : rid;
  }

  /** Classifies a SUBSCRIBE filter of {@code id}; null when the device may not subscribe to it. */
  public static Subscription parseSubscription(String filter, DeviceIdentity id) {
    if (filter == null) {
      return null;
    }
    switch (filter) {
      case "$iothub/twin/res/#":
        return Subscription.TWIN_RESPONSES;
      case "$iothub/twin/PATCH/properties/desired/#":
        return Subscription.DESIRED_PROPERTIES;
      case "$iothub/methods/POST/#":
        return Subscription.METHODS;
      default:
        break;
    }
    if (id.moduleId() == null) {
      if (filter.equals("devices/" + id.deviceId() + "/messages/devicebound/#")) {
        return Subscription.CLOUD_TO_DEVICE;
      }
    } else if (filter.equals(
        "devices/" + id.deviceId() + "/modules/" + id.moduleId() + "/inputs/#")) {
      return Subscription.MODULE_INPUTS;
    }
    return null;
  }

  /** {@code $iothub/twin/res/{status}/?$rid={rid}[&$version={v}]}. */
  public static String twinResponse(int status, String rid, Long version) {
    StringBuilder sb = new StringBuilder(TWIN_RES).append(status).append("/?$rid=");
    sb.append(PropertyBag.encodeComponent(rid));
    if (version != null) {
      sb.append("&$version=").append(version);
    }
    return sb.toString();
  }

  /** {@code $iothub/twin/PATCH/properties/desired/?$version={v}}. */
  public static String desired(long version) {
    return TWIN_DESIRED + "?$version=" + version;
  }

  /** {@code $iothub/methods/POST/{name}/?$rid={rid}}. */
  public static String methodRequest(String name, String rid) {
    return METHODS_POST + name + "/?$rid=" + rid;
  }

  /** {@code devices/{d}/messages/devicebound/{bag}}, with the slash even when the bag is empty. */
  public static String cloudToDevice(String deviceId, String bag) {
    return "devices/" + deviceId + "/messages/devicebound/" + bag;
  }
}
