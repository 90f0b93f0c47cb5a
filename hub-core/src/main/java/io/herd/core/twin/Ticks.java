package io.herd.core.twin;

import java.time.Instant;

/**
 * Twin timestamps as one long: 100 ns units since the epoch, the precision IoT Hub prints (seven
 * fraction digits). Cheaper to hold millions of than {@link Instant}s.
 */
public final class Ticks {
  private Ticks() {}

  public static long of(Instant t) {
    return t.getEpochSecond() * 10_000_000L + t.getNano() / 100;
  }

  public static Instant toInstant(long ticks) {
    return Instant.ofEpochSecond(
        Math.floorDiv(ticks, 10_000_000L), Math.floorMod(ticks, 10_000_000L) * 100);
  }

  /**
   * Formats as {@code 2023-01-02T21:42:14.7050295Z} without a DateTimeFormatter: a twin render
   * prints one of these per member, so this sits on the hot path of every twin read.
   */
  public static String format(long ticks) {
    long seconds = Math.floorDiv(ticks, 10_000_000L);
    int fraction = (int) Math.floorMod(ticks, 10_000_000L);
    long days = Math.floorDiv(seconds, 86_400L);
    int secondOfDay = (int) Math.floorMod(seconds, 86_400L);
    java.time.LocalDate date = java.time.LocalDate.ofEpochDay(days);
    char[] c = new char[28];
    int year = date.getYear();
    c[0] = (char) ('0' + year / 1000 % 10);
    c[1] = (char) ('0' + year / 100 % 10);
    c[2] = (char) ('0' + year / 10 % 10);
    c[3] = (char) ('0' + year % 10);
    c[4] = '-';
    two(c, 5, date.getMonthValue());
    c[7] = '-';
    two(c, 8, date.getDayOfMonth());
    c[10] = 'T';
    two(c, 11, secondOfDay / 3600);
    c[13] = ':';
    two(c, 14, secondOfDay / 60 % 60);
    c[16] = ':';
    two(c, 17, secondOfDay % 60);
    c[19] = '.';
    for (int i = 26; i >= 20; i--) {
      c[i] = (char) ('0' + fraction % 10);
      fraction /= 10;
    }
    c[27] = 'Z';
    return new String(c);
  }

  private static void two(char[] c, int at, int v) {
    c[at] = (char) ('0' + v / 10);
    c[at + 1] = (char) ('0' + v % 10);
  }
}
