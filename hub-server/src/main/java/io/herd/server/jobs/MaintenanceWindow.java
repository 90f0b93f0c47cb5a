package io.herd.server.jobs;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneOffset;

/**
 * A daily window in UTC in which a job may touch devices: it opens at {@code start} every day and
 * stays open for {@code duration} (at most a day; a window may run past midnight).
 */
public record MaintenanceWindow(LocalTime start, Duration duration) {
  public MaintenanceWindow {
    if (duration.isNegative() || duration.isZero() || duration.compareTo(Duration.ofDays(1)) > 0) {
      throw new IllegalArgumentException("a window lasts more than 0 and at most 1440 minutes");
    }
  }

  /** Whether {@code t} falls in this window (today's opening or yesterday's, past midnight). */
  public boolean contains(Instant t) {
    LocalDate day = t.atOffset(ZoneOffset.UTC).toLocalDate();
    for (LocalDate d : new LocalDate[] {day, day.minusDays(1)}) {
      Instant open = d.atTime(start).toInstant(ZoneOffset.UTC);
      if (!t.isBefore(open) && t.isBefore(open.plus(duration))) {
        return true;
      }
    }
    return false;
  }

  /** The next opening at or after {@code t}. */
  public Instant nextOpening(Instant t) {
    LocalDate day = t.atOffset(ZoneOffset.UTC).toLocalDate();
    Instant open = day.atTime(start).toInstant(ZoneOffset.UTC);
    return open.isBefore(t) ? open.plus(Duration.ofDays(1)) : open;
  }
}
