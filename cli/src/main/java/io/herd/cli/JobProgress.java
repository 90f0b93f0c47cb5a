package io.herd.cli;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;

/**
 * A running job's progress from successive {@code GET /jobs/v2/{id}} answers: counts from {@code
 * deviceJobStatistics}, the rate of devices finished over the last {@value #WINDOW_SECONDS}
 * seconds, and the time left at that rate; drawn as a bar for a terminal or as a plain line for
 * logs.
 */
final class JobProgress {
  static final int WINDOW_SECONDS = 10;
  private static final long WINDOW_NANOS = WINDOW_SECONDS * 1_000_000_000L;
  private static final int BAR = 24;

  private record Sample(long nanos, long finished) {}

  private final Deque<Sample> samples = new ArrayDeque<>();
  private JsonObject job = new JsonObject();

  /** Records an answer seen at {@code nanos} (any monotonic clock). */
  void record(long nanos, JsonObject job) {
    this.job = job;
    samples.addLast(new Sample(nanos, finished()));
    while (samples.size() > 2 && nanos - samples.peekFirst().nanos() > WINDOW_NANOS) {
      samples.removeFirst();
    }
  }

  static boolean done(JsonObject job) {
    String s = job.getString("status", "");
    return s.equals("completed") || s.equals("failed") || s.equals("cancelled");
  }

  private long stat(String field) {
    JsonObject s = job.getJsonObject("deviceJobStatistics");
    Object v = s == null ? null : s.getValue(field);
    return v instanceof Number n ? n.longValue() : 0;
  }

  long total() {
    return stat("deviceCount");
  }

  long succeeded() {
    return stat("succeededCount");
  }

  long failed() {
    return stat("failedCount");
  }

  long finished() {
    return succeeded() + failed();
  }

  /**
   * Devices finished per second: over the window while the job runs (0 until two answers are a
   * moment apart), over its whole run once it ended.
   */
  double rate() {
    if (done(job)) {
      Double whole = wholeRunRate();
      if (whole != null) {
        return whole;
      }
    }
    if (samples.size() < 2) {
      return 0;
    }
    Sample first = samples.peekFirst();
    Sample last = samples.peekLast();
    long nanos = last.nanos() - first.nanos();
    return nanos <= 0 ? 0 : (last.finished() - first.finished()) * 1e9 / nanos;
  }

  private Double wholeRunRate() {
    try {
      Instant start = Instant.parse(job.getString("startTime"));
      Instant end = Instant.parse(job.getString("endTime"));
      long nanos = Duration.between(start, end).toNanos();
      return nanos <= 0 ? null : finished() * 1e9 / nanos;
    } catch (RuntimeException e) {
      return null; // no times (yet), or not ISO-8601
    }
  }

  /** Seconds left at the current rate, or -1 when unknown. */
  long secondsLeft() {
    double r = rate();
    long left = total() - finished();
    if (left <= 0) {
      return 0;
    }
    return r <= 0 ? -1 : (long) Math.ceil(left / r);
  }

  /** {@code h:mm:ss}, {@code m:ss}, or {@code ?}. */
  static String duration(long seconds) {
    if (seconds < 0) {
      return "?";
    }
    long h = seconds / 3600;
    long m = seconds / 60 % 60;
    long s = seconds % 60;
    return h > 0
        ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, s)
        : String.format(Locale.ROOT, "%d:%02d", m, s);
  }

  private String status() {
    return job.getString("status", "?");
  }

  private String waiting() {
    String message = job.getString("statusMessage");
    if (message != null) {
      return message;
    }
    String start = job.getString("startTime");
    return start == null ? "" : "starts " + start;
  }

  /** One terminal line: {@code job status [####----] 45% ok 450 failed 3 pending 540 ...}. */
  String bar(int width) {
    String id = job.getString("jobId", "");
    long total = total();
    StringBuilder sb = new StringBuilder(id).append(' ').append(status());
    if (total == 0 && !done(job)) {
      String w = waiting();
      if (!w.isEmpty()) {
        sb.append("  ").append(w);
      }
      return clip(sb.toString(), width);
    }
    int pct = total == 0 ? 100 : (int) (finished() * 100 / total);
    int filled = total == 0 ? BAR : (int) (finished() * BAR / total);
    sb.append(" [")
        .append("#".repeat(filled))
        .append("-".repeat(BAR - filled))
        .append("] ")
        .append(pct)
        .append("%  ok ")
        .append(succeeded())
        .append("  failed ")
        .append(failed())
        .append("  pending ")
        .append(stat("pendingCount"))
        .append("  running ")
        .append(stat("runningCount"))
        .append("  ")
        .append(String.format(Locale.ROOT, "%.1f/s", rate()));
    if (!done(job)) {
      sb.append("  ").append(duration(secondsLeft())).append(" left");
    }
    return clip(sb.toString(), width);
  }

  /** One log line with the same facts in words. */
  String plain() {
    String id = job.getString("jobId", "");
    long total = total();
    if (total == 0 && !done(job)) {
      String w = waiting();
      return "job " + id + ": " + status() + (w.isEmpty() ? "" : " (" + w + ")");
    }
    String line =
        String.format(
            Locale.ROOT,
            "job %s: %s, %d of %d devices done (%d succeeded, %d failed, %d pending, %d running),"
                + " %.1f devices/s",
            id,
            status(),
            finished(),
            total,
            succeeded(),
            failed(),
            stat("pendingCount"),
            stat("runningCount"),
            rate());
    return done(job) ? line : line + ", " + duration(secondsLeft()) + " left";
  }

  private static String clip(String s, int width) {
    return width > 0 && s.length() > width ? s.substring(0, width) : s;
  }
}
