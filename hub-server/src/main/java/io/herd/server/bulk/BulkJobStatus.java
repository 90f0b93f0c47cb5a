package io.herd.server.bulk;

import java.util.Locale;

/**
 * Where a job is in its life: enqueued until it is the one job running, then completed (possibly
 * with per-device errors), failed (the job as a whole) or cancelled.
 */
public enum BulkJobStatus {
  ENQUEUED,
  RUNNING,
  COMPLETED,
  FAILED,
  CANCELLED;

  /** The name in JobProperties: {@code enqueued}, {@code running}, ... */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static BulkJobStatus fromWire(String s) {
    return valueOf(s.toUpperCase(Locale.ROOT));
  }

  public boolean isTerminal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED;
  }
}
