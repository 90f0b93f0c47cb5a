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
}
