package io.herd.adapter.amqp.internal;

import io.herd.core.Ids;
import java.util.Locale;

/**
 * The link addresses of IoT Hub's AMQP endpoint (azure-iothub-wire.md §3.3, §3.5): what a link
 * attaches to, and for device links whose. Pure functions. Device and module ids are matched
 * exactly; the fixed parts case-insensitively ({@code deviceBound} and {@code devicebound} both
 * occur, wire §10). An address may carry a scheme and host ({@code amqps://hub/devices/...}) or a
 * query, which are ignored.
 */
public final class AmqpAddress {
  /** What a link address names. */
  public enum Kind {
    /** {@code $cbs}: put-token requests and their replies. */
    CBS,
    /** {@code .../messages/events}: telemetry from the device (for a module also its inputs). */
    EVENTS,
    /** {@code /devices/{d}/messages/devicebound}: cloud-to-device messages to the device. */
    DEVICEBOUND,
    /** {@code .../twin}: twin requests, responses and desired-property notifications. */
    TWIN,
    /** {@code .../methods/devicebound}: direct-method requests and responses. */
    METHODS,
    /** {@code /messages/devicebound}: the service sending cloud-to-device messages. */
    SERVICE_SEND,
    /** {@code /messages/serviceBound/feedback}: delivery feedback for the service. */
    FEEDBACK,
    /** {@code /messages/serviceBound/filenotifications}: file-upload notifications. */
    FILE_NOTIFICATIONS
  }

  /**
   * A parsed address.
   *
   * @param deviceId null for {@code $cbs} and service addresses
   * @param moduleId null unless a module's address
   */
  public record Parsed(Kind kind, String deviceId, String moduleId) {
    public boolean isDeviceLink() {
      return deviceId != null;
    }
  }

  private AmqpAddress() {}

  /** Parses a link address; null when it names nothing this hub serves. */
  public static Parsed parse(String address) {
    if (address == null) {
      return null;
    }
    String path = path(address);
    if (path.equals("$cbs")) {
      return new Parsed(Kind.CBS, null, null);
    }
    String lower = path.toLowerCase(Locale.ROOT);
    switch (lower) {
      case "/messages/devicebound":
        return new Parsed(Kind.SERVICE_SEND, null, null);
      case "/messages/servicebound/feedback":
        return new Parsed(Kind.FEEDBACK, null, null);
      case "/messages/servicebound/filenotifications":
        return new Parsed(Kind.FILE_NOTIFICATIONS, null, null);
      default:
        break;
    }
    String[] s = path.split("/", -1);
    // "", "devices", d, rest... or "", "devices", d, "modules", m, rest...
    if (s.length < 4 || !s[0].isEmpty() || !s[1].equalsIgnoreCase("devices")) {
      return null;
    }
    String deviceId = s[2];
    String moduleId = null;
    int rest = 3;
    if (s.length >= 6 && s[3].equalsIgnoreCase("modules")) {
      moduleId = s[4];
      rest = 5;
    }
    if (!Ids.isValid(deviceId) || (moduleId != null && !Ids.isValid(moduleId))) {
      return null;
    }
    Kind kind = feature(s, rest, moduleId != null);
    return kind == null ? null : new Parsed(kind, deviceId, moduleId);
  }

  private static Kind feature(String[] s, int from, boolean module) {
    int n = s.length - from;
    if (n == 1 && s[from].equalsIgnoreCase("twin")) {
      return Kind.TWIN;
    }
    if (n != 2) {
      return null;
    }
    String a = s[from].toLowerCase(Locale.ROOT);
    String b = s[from + 1].toLowerCase(Locale.ROOT);
    if (a.equals("messages") && b.equals("events")) {
      return Kind.EVENTS;
    }
    if (a.equals("messages") && b.equals("devicebound") && !module) {
      return Kind.DEVICEBOUND;
    }
    if (a.equals("methods") && b.equals("devicebound")) {
      return Kind.METHODS;
    }
    return null;
  }

  /** The path of an address: without scheme, host and query. */
  static String path(String address) {
    String a = address;
    int scheme = a.indexOf("://");
    if (scheme > 0) {
      int slash = a.indexOf('/', scheme + 3);
      a = slash < 0 ? "" : a.substring(slash);
    }
    int q = a.indexOf('?');
    return q < 0 ? a : a.substring(0, q);
  }

  /**
   * The device or module a CBS audience names, e.g. {@code hub%2Fdevices%2Fd1} (Node sends the
   * token's {@code sr}, still URL-encoded) or {@code hub/devices/d1/modules/m1}; null when it names
   * the hub or all devices ({@code hub}, {@code hub/devices}), which service and gateway tokens do.
   *
   * @throws IllegalArgumentException when the audience is not a valid URL-encoded resource, or
   *     names something other than a hub, a device or a module
   */
  public static Parsed audience(String audience) {
    if (audience == null || audience.isBlank()) {
      throw new IllegalArgumentException("the put-token request has no audience ('name')");
    }
    String decoded;
    try {
      decoded =
          java.net.URLDecoder.decode(
              audience.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the audience '" + audience + "' is not URL-encoded");
    }
    String path = path(decoded);
    if (!decoded.contains("://")) {
      int slash = decoded.indexOf('/');
      path = slash < 0 ? "" : decoded.substring(slash);
    }
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    if (path.isEmpty() || path.equalsIgnoreCase("/devices")) {
      return null;
    }
    String[] s = path.split("/", -1);
    boolean device = s.length == 3 && s[1].equalsIgnoreCase("devices");
    boolean module =
        s.length == 5 && s[1].equalsIgnoreCase("devices") && s[3].equalsIgnoreCase("modules");
    if ((device && Ids.isValid(s[2])) || (module && Ids.isValid(s[2]) && Ids.isValid(s[4]))) {
      return new Parsed(Kind.CBS, s[2], module ? s[4] : null);
    }
    throw new IllegalArgumentException(
        "the audience '" + audience + "' names neither this hub, nor a device, nor a module");
  }
}
