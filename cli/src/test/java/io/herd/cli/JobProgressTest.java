package io.herd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class JobProgressTest {
  private static final long SECOND = 1_000_000_000L;

  private static JsonObject job(String status, int total, int ok, int failed, int running) {
    return new JsonObject()
        .put("jobId", "j1")
        .put("status", status)
        .put("startTime", "2026-01-01T00:00:00Z")
        .put(
            "deviceJobStatistics",
            new JsonObject()
                .put("deviceCount", total)
                .put("succeededCount", ok)
                .put("failedCount", failed)
                .put("runningCount", running)
                .put("pendingCount", total - ok - failed - running));
  }

  @Test
  void rateIsDevicesFinishedPerSecondOverTheWindowAndTimeLeftFollows() {
    JobProgress p = new JobProgress();
    p.record(0, job("running", 1000, 0, 0, 10));
    assertThat(p.rate()).isZero();
    assertThat(p.secondsLeft()).isEqualTo(-1);
    p.record(2 * SECOND, job("running", 1000, 180, 20, 10));
    assertThat(p.rate()).isEqualTo(100.0);
    assertThat(p.secondsLeft()).isEqualTo(8);
    // Samples older than the window no longer count: the rate follows the recent pace.
    p.record(12 * SECOND, job("running", 1000, 300, 20, 10));
    p.record(14 * SECOND, job("running", 1000, 320, 20, 10));
    assertThat(p.rate()).isEqualTo(10.0);
  }

  @Test
  void barShowsCountsRateAndTimeLeft() {
    JobProgress p = new JobProgress();
    p.record(0, job("running", 1000, 0, 0, 0));
    p.record(4 * SECOND, job("running", 1000, 450, 50, 10));
    assertThat(p.bar(200))
        .isEqualTo(
            "j1 running [############------------] 50%  ok 450  failed 50  pending 490"
                + "  running 10  125.0/s  0:04 left");
    assertThat(p.bar(20)).hasSize(20);
    assertThat(p.plain())
        .isEqualTo(
            "job j1: running, 500 of 1000 devices done (450 succeeded, 50 failed, 490 pending,"
                + " 10 running), 125.0 devices/s, 0:04 left");
  }

  @Test
  void aJobThatEndedReportsItsWholeRunsRate() {
    JobProgress p = new JobProgress();
    p.record(0, job("completed", 600, 590, 10, 0).put("endTime", "2026-01-01T00:01:00Z"));
    assertThat(p.rate()).isEqualTo(10.0);
    assertThat(p.plain())
        .isEqualTo(
            "job j1: completed, 600 of 600 devices done (590 succeeded, 10 failed, 0 pending,"
                + " 0 running), 10.0 devices/s");
  }

  @Test
  void aJobNotStartedSaysWhyItWaits() {
    JobProgress p = new JobProgress();
    p.record(0, job("scheduled", 0, 0, 0, 0).put("startTime", "2030-01-01T00:00:00Z"));
    assertThat(p.bar(120)).isEqualTo("j1 scheduled  starts 2030-01-01T00:00:00Z");
    p.record(1, job("running", 0, 0, 0, 0).put("statusMessage", "waiting for window 22:00"));
    assertThat(p.plain()).isEqualTo("job j1: running (waiting for window 22:00)");
  }

  @Test
  void durationsReadAsClockTimes() {
    assertThat(JobProgress.duration(-1)).isEqualTo("?");
    assertThat(JobProgress.duration(59)).isEqualTo("0:59");
    assertThat(JobProgress.duration(3725)).isEqualTo("1:02:05");
  }
}
