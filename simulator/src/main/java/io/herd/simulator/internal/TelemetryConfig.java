package io.herd.simulator.internal;

import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The configuration pattern's desired {@code telemetryConfig}: {@code {"configId": "c7",
 * "sendFrequency": "5s"}}, where {@code sendFrequency} is how often the device sends telemetry, a
 * whole number with a unit {@code ms}, {@code s}, {@code m} or {@code h}. The device reports it
 * back as it is, with {@code status} {@code pending}, then {@code success} or {@code failure} and
 * an {@code error}.
 */
public final class TelemetryConfig {

  /** The shortest interval the simulator sends at. */
  public static final long MIN_INTERVAL_MS = 10;

  /** The longest: a day. */
  public static final long MAX_INTERVAL_MS = 86_400_000;

  private static final Pattern DURATION = Pattern.compile("([0-9]{1,9})\\s*(ms|s|m|h)");

  private TelemetryConfig() {}

  /**
   * The telemetry interval that {@code config} (the desired {@code telemetryConfig}, any JSON
   * value) asks for; throws IllegalArgumentException saying what is wrong.
   */
  public static long intervalMs(Object config) {
    if (!(config instanceof JsonObject c)) {
      throw new IllegalArgumentException("telemetryConfig must be an object");
    }
    Object frequency = c.getValue("sendFrequency");
    if (!(frequency instanceof String f)) {
      throw new IllegalArgumentException(
          "sendFrequency must be a duration string such as \"500ms\", \"5s\" or \"1m\"");
    }
    Matcher m = DURATION.matcher(f.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "sendFrequency '" + f + "' is not a duration such as \"500ms\", \"5s\" or \"1m\"");
    }
    long n = Long.parseLong(m.group(1));
    long ms =
        switch (m.group(2)) {
          case "ms" -> n;
          case "s" -> n * 1_000;
          case "m" -> n * 60_000;
          default -> n * 3_600_000;
        };
    if (ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS) {
      throw new IllegalArgumentException("sendFrequency '" + f + "' is outside 10ms .. 24h");
    }
    return ms;
  }

  /**
   * The reported {@code telemetryConfig} for {@code config} in {@code status}: its {@code configId}
   * and {@code sendFrequency} as they were asked for (null when absent or not an object), and
   * {@code error}, null unless it failed.
   */
  public static JsonObject reported(Object config, String status, String error) {
    JsonObject c = config instanceof JsonObject o ? o : new JsonObject();
    return new JsonObject()
        .put("configId", c.getValue("configId"))
        .put("sendFrequency", c.getValue("sendFrequency"))
        .put("status", status)
        .put("error", error);
  }
}
