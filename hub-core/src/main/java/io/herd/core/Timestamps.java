package io.herd.core;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;

/** IoT Hub's timestamp forms: ISO-8601 UTC with seven fraction digits; "never" is year 1. */
public final class Timestamps {
  /** What IoT Hub shows for a time that never happened. */
  public static final String NEVER = "0001-01-01T00:00:00Z";

  private static final DateTimeFormatter SEVEN_DIGITS =
      new DateTimeFormatterBuilder()
          .appendPattern("uuuu-MM-dd'T'HH:mm:ss")
          .appendFraction(ChronoField.NANO_OF_SECOND, 7, 7, true)
          .appendLiteral('Z')
          .toFormatter()
          .withZone(ZoneOffset.UTC);

  private Timestamps() {}

  /** Formats {@code t} as {@code 2023-01-02T21:42:14.7050295Z}, or {@link #NEVER} for null. */
  public static String format(Instant t) {
    return t == null ? NEVER : SEVEN_DIGITS.format(t);
  }

  /** Parses an ISO-8601 instant; {@link #NEVER} and null give null. */
  public static Instant parse(String s) {
    if (s == null || s.startsWith("0001-01-01")) {
      return null;
    }
    return Instant.parse(s);
  }
}
