package io.herd.simulator.bench;

/**
 * When each call of an open-loop load is due: call {@code k} (0-based) is intended to start at
 * {@code startNanos + k / perSecond} seconds, whether or not earlier calls have been answered. A
 * call's latency is taken from its intended start, not from when it was actually sent, so that a
 * stalled sender or a queue in front of the server shows in the figures instead of silently
 * lowering the load (coordinated omission).
 */
record OpenLoopSchedule(long startNanos, double perSecond) {

  OpenLoopSchedule {
    if (!(perSecond > 0) || Double.isInfinite(perSecond)) {
      throw new IllegalArgumentException("rate must be positive: " + perSecond);
    }
  }

  /** The intended start of call {@code k}, on the {@link System#nanoTime} clock. */
  long intendedStart(long k) {
    return startNanos + (long) Math.floor(k * 1e9 / perSecond);
  }

  /** How many calls are due by {@code nowNanos}: those with an intended start at or before it. */
  long dueBy(long nowNanos) {
    if (nowNanos < startNanos) {
      return 0;
    }
    long k = (long) Math.floor((nowNanos - startNanos) * perSecond / 1e9) + 1;
    // Floating-point rounding either way: settle on the exact definition.
    while (k > 0 && intendedStart(k - 1) > nowNanos) {
      k--;
    }
    while (intendedStart(k) <= nowNanos) {
      k++;
    }
    return k;
  }

  /** The number of calls intended to start before {@code endNanos}. */
  long callsBefore(long endNanos) {
    return endNanos <= startNanos ? 0 : dueBy(endNanos - 1);
  }
}
