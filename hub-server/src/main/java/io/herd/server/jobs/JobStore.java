package io.herd.server.jobs;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;

/** Where jobs and their per-device outcomes live; every batch is one transaction. */
public interface JobStore {
  /** A job's row: its spec as created and where it stands. */
  record JobRecord(
      JsonObject spec,
      JobStatus status,
      Instant created,
      Instant started,
      Instant ended,
      String failureReason,
      String statusMessage) {
    public String jobId() {
      return spec.getString("jobId");
    }
  }

  /** The job's device set, fixed at its start, all pending. */
  record Start(String jobId, List<String> deviceIds, Instant at) {}

  /** Devices about to be worked on: running from now, so a restart never runs them again. */
  record Claim(String jobId, List<String> deviceIds, Instant at) {}

  /** Moves a job's devices from one status to another (pending to cancelled, running to failed). */
  record Close(
      String jobId,
      DeviceJobStatus from,
      DeviceJobStatus to,
      Instant at,
      String errorCode,
      String errorDescription) {}

  /** Changes written together, in this order: jobs, starts, claims, outcomes, closes. */
  record Batch(
      List<JobRecord> jobs,
      List<Start> starts,
      List<Claim> claims,
      List<DeviceJob> outcomes,
      List<Close> closes) {
    public boolean isEmpty() {
      return jobs.isEmpty()
          && starts.isEmpty()
          && claims.isEmpty()
          && outcomes.isEmpty()
          && closes.isEmpty();
    }
  }

  Future<Void> write(Batch batch);

  /** Feeds every job, then every device row (on the store's thread), and completes. */
  Future<Void> loadAll(Consumer<JobRecord> jobs, Consumer<DeviceJob> devices);
}
