package io.herd.server.jobs;

import io.herd.core.Timestamps;
import io.herd.query.CompiledQuery;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;

/** A job's state; owned by the {@link JobEngine}'s context except {@link #devices}. */
final class Job {
  final JobSpec spec;
  final Instant created;
  CompiledQuery condition;
  volatile JobStatus status;
  Instant started;
  Instant ended;
  String failureReason;
  String statusMessage;
  boolean starting;

  /** Every device row; readable from any thread. */
  final ConcurrentHashMap<String, DeviceJob> devices = new ConcurrentHashMap<>();

  final ArrayDeque<String> pending = new ArrayDeque<>();
  int running;
  long succeeded;
  long failed;
  long cancelled;

  // Rate control: a token bucket refilled at the current rate.
  double tokens;
  private long lastRefill;
  private long startedDevices;

  Job(JobSpec spec, Instant created) {
    this.spec = spec;
    this.created = created;
  }

  /** Adjusts the counters for rows loaded or closed in bulk (running counts as failed on load). */
  void count(DeviceJobStatus s, long n) {
    switch (s) {
      case COMPLETED -> succeeded += n;
      case FAILED -> failed += n;
      case CANCELLED -> cancelled += n;
      default -> {
        // pending and running are counted from the queue and the scheduler
      }
    }
  }

  void started(int n) {
    startedDevices += n;
  }

  /** Devices per second allowed now; infinite without limits. */
  double rate() {
    Rollout r = spec.rollout();
    double perMinute = Double.POSITIVE_INFINITY;
    if (r.ramp() != null) {
      Rollout.Ramp ramp = r.ramp();
      long basis = ramp.numberOfNotifiedDevices() != null ? startedDevices : succeeded;
      int step =
          ramp.numberOfNotifiedDevices() != null
              ? ramp.numberOfNotifiedDevices()
              : ramp.numberOfSucceededDevices();
      perMinute = ramp.baseRatePerMinute() * Math.pow(ramp.incrementFactor(), basis / step);
    }
    if (r.maxDevicesPerMinute() != null) {
      perMinute = Math.min(perMinute, r.maxDevicesPerMinute());
    }
    return perMinute / 60.0;
  }

  /** Starts the bucket with one token (the first device goes at once). */
  void resetRate(long nanos) {
    lastRefill = nanos;
    tokens = Double.isInfinite(rate()) ? Double.POSITIVE_INFINITY : Math.max(tokens, 1);
  }

  void refill(long nanos) {
    double perSecond = rate();
    if (Double.isInfinite(perSecond)) {
      tokens = Double.POSITIVE_INFINITY;
    } else {
      if (Double.isInfinite(tokens)) {
        tokens = 1;
      }
      // At most a tenth of a second's worth banked, at least one device.
      double burst = Math.max(1, perSecond / 10);
      tokens = Math.min(burst, tokens + perSecond * (nanos - lastRefill) / 1e9);
    }
    lastRefill = nanos;
  }

  JobStore.JobRecord record() {
    return new JobStore.JobRecord(
        JobCodec.specJson(spec), status, created, started, ended, failureReason, statusMessage);
  }

  /** The JobResponse (wire §5.7) with Herd's rollout settings beside it. */
  JsonObject json() {
    JsonObject o =
        new JsonObject()
            .put("jobId", spec.jobId())
            .put("queryCondition", spec.queryCondition())
            .put("createdTime", Timestamps.format(created))
            .put(
                "startTime",
                started != null
                    ? Timestamps.format(started)
                    : spec.startTime() == null ? null : Timestamps.format(spec.startTime()))
            .put("endTime", ended == null ? null : Timestamps.format(ended))
            .put("maxExecutionTimeInSeconds", spec.maxExecutionTimeInSeconds())
            .put("type", spec.type().wire)
            .put("status", status.wire);
    if (spec.method() != null) {
      o.put("cloudToDeviceMethod", spec.method().json());
    }
    if (spec.updateTwinJson() != null) {
      o.put("updateTwin", spec.updateTwinJson());
    }
    if (failureReason != null) {
      o.put("failureReason", failureReason);
    }
    if (statusMessage != null) {
      o.put("statusMessage", statusMessage);
    }
    o.put(
        "deviceJobStatistics",
        new JsonObject()
            .put("deviceCount", devices.size())
            .put("failedCount", failed)
            .put("succeededCount", succeeded)
            .put("runningCount", running)
            .put("pendingCount", pending.size()));
    JobCodec.putRollout(o, spec.rollout());
    return o;
  }
}
