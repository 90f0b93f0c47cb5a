package io.herd.server.jobs;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * One device's part in a job, immutable; a change makes a new one, so queries on other threads read
 * consistent rows.
 *
 * @param outcome for method jobs, {@code {"deviceMethodResponse":{"status":..,"payload":..}}}
 * @param errorCode IoT Hub's error name when the device failed, else null
 */
public record DeviceJob(
    String jobId,
    JobType jobType,
    String deviceId,
    DeviceJobStatus status,
    Instant created,
    Instant started,
    Instant ended,
    Instant lastUpdated,
    JsonObject outcome,
    String errorCode,
    String errorDescription) {

  public static DeviceJob pending(String jobId, JobType type, String deviceId, Instant created) {
    return new DeviceJob(
        jobId,
        type,
        deviceId,
        DeviceJobStatus.PENDING,
        created,
        null,
        null,
        created,
        null,
        null,
        null);
  }

  public DeviceJob running(Instant at) {
    return new DeviceJob(
        jobId, jobType, deviceId, DeviceJobStatus.RUNNING, created, at, null, at, null, null, null);
  }

  public DeviceJob completed(Instant at, JsonObject outcome) {
    return new DeviceJob(
        jobId,
        jobType,
        deviceId,
        DeviceJobStatus.COMPLETED,
        created,
        started,
        at,
        at,
        outcome,
        null,
        null);
  }

  public DeviceJob failed(Instant at, JsonObject outcome, String code, String description) {
    return new DeviceJob(
        jobId,
        jobType,
        deviceId,
        DeviceJobStatus.FAILED,
        created,
        started,
        at,
        at,
        outcome,
        code,
        description);
  }

  public DeviceJob closed(DeviceJobStatus to, Instant at, String code, String description) {
    return new DeviceJob(
        jobId, jobType, deviceId, to, created, started, at, at, null, code, description);
  }
}
