package io.herd.core;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
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
    if (t == null) {
      return NEVER;
    }
    // Every telemetry message is stamped with its enqueued time: digits by hand, as
    // DateTimeFormatter takes a time zone and BigDecimal detour per call.
    long seconds = t.getEpochSecond();
    LocalDate date = LocalDate.ofEpochDay(Math.floorDiv(seconds, 86_400L));
    int year = date.getYear();
    if (year < 1 || year > 9999) {
      return SEVEN_DIGITS.format(t);
    }
    int secondOfDay = (int) Math.floorMod(seconds, 86_400L);
    byte[] b = new byte[28];
    digits(b, 0, year, 4);
    b[4] = '-';
    digits(b, 5, date.getMonthValue(), 2);
    b[7] = '-';
    digits(b, 8, date.getDayOfMonth(), 2);
    b[10] = 'T';
    digits(b, 11, secondOfDay / 3600, 2);
    b[13] = ':';
    digits(b, 14, secondOfDay / 60 % 60, 2);
    b[16] = ':';
    digits(b, 17, secondOfDay % 60, 2);
    b[19] = '.';
    digits(b, 20, t.getNano() / 100, 7);
    b[27] = 'Z';
    return new String(b, StandardCharsets.US_ASCII);
  }

  /** Writes {@code value} as {@code width} decimal digits at {@code at}, zero-padded. */
  private static void digits(byte[] b, int at, int value, int width) {
    for (int i = at + width - 1; i >= at; i--) {
      b[i] = (byte) ('0' + value % 10);
      value /= 10;
    }
  }

  /** Parses an ISO-8601 instant; {@link #NEVER} and null give null. */
  public static Instant parse(String s) {
    if (s == null || s.startsWith("0001-01-01")) {
      return null;
    }
    return Instant.parse(s);
  }
}
