package io.herd.server.jobs;

import java.time.Instant;
import java.util.List;

/**
 * How fast and how safely a job reaches its devices (Herd extensions to the jobs v2 body).
 *
 * @param maxDevicesPerMinute a ceiling on devices started per minute, or null for none
 * @param ramp an exponential ramp of the rate, or null
 * @param abort when to stop a job whose devices fail, or null
 * @param deviceTimeoutSeconds a method job's limit on one device's whole operation, or null
 * @param windows daily UTC windows outside which the job waits; empty means always
 * @param maxConcurrency devices in progress at once in this job
 */
public record Rollout(
    Integer maxDevicesPerMinute,
    Ramp ramp,
    Abort abort,
    Integer deviceTimeoutSeconds,
    List<MaintenanceWindow> windows,
    int maxConcurrency) {

  public static final int DEFAULT_MAX_CONCURRENCY = 10_000;
  public static final int MAX_CONCURRENCY = 20_000;

  public static Rollout none() {
    return new Rollout(null, null, null, null, List.of(), DEFAULT_MAX_CONCURRENCY);
  }

  public Rollout {
    windows = List.copyOf(windows);
  }

  /**
   * Starts at {@code baseRatePerMinute} and multiplies the rate by {@code incrementFactor} each
   * time another {@code numberOfNotifiedDevices} devices were started (or {@code
   * numberOfSucceededDevices} succeeded), as AWS IoT Jobs' exponential rollout; capped by {@code
   * maxDevicesPerMinute} when given.
   */
  public record Ramp(
      int baseRatePerMinute,
      double incrementFactor,
      Integer numberOfNotifiedDevices,
      Integer numberOfSucceededDevices) {}

  /**
   * Stops the job (status failed, the devices not started cancelled) once at least {@code
   * minNumberOfDevices} devices finished and more than {@code failureThresholdPercentage} of them
   * failed.
   */
  public record Abort(double failureThresholdPercentage, int minNumberOfDevices) {
    public boolean trips(long finished, long failed) {
      return finished >= minNumberOfDevices
          && finished > 0
          && failed * 100.0 / finished > failureThresholdPercentage;
    }
  }

  /** Whether the job may start devices at {@code t}. */
  public boolean open(Instant t) {
    if (windows.isEmpty()) {
      return true;
    }
    for (MaintenanceWindow w : windows) {
      if (w.contains(t)) {
        return true;
      }
    }
    return false;
  }

  /** The next moment a window opens, for status messages; null without windows. */
  public Instant nextOpening(Instant t) {
    Instant next = null;
    for (MaintenanceWindow w : windows) {
      Instant o = w.nextOpening(t);
      if (next == null || o.isBefore(next)) {
        next = o;
      }
    }
    return next;
  }
}
