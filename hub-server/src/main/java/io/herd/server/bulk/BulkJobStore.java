package io.herd.server.bulk;

import io.vertx.core.Future;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Durable jobs and their per-device errors. Changes that belong to a running job apply only while
 * it is still running, so a job cancelled meanwhile is never overwritten by its runner.
 */
public interface BulkJobStore {

  Future<Void> insert(BulkJob job);

  Future<Optional<BulkJob>> find(String jobId);

  /** Every job, oldest first. */
  Future<List<BulkJob>> list();

  /** The job to run next: the one left running by an earlier process, else the oldest enqueued. */
  Future<Optional<BulkJob>> next();

  /**
   * Marks an enqueued (or still running, when resuming) job running; empty when it is neither, for
   * example because it was cancelled.
   */
  Future<Optional<BulkJob>> start(String jobId, Instant at);

  /**
   * Commits a running job's progress and the errors of the lines it covers, atomically.
   *
   * @return false, changing nothing, when the job is no longer running
   */
  Future<Boolean> progress(
      String jobId, long linesDone, int progress, long succeeded, long failed, List<ImportError> e);

  /**
   * Records the chunk a running import is about to apply, in one write, replacing the chunk
   * recorded before; it is kept until the job ends.
   *
   * @return false, changing nothing, when the job is no longer running
   */
  Future<Boolean> startChunk(String jobId, ImportChunk chunk);

  /** The chunk recorded last for a job that has not ended, if any. */
  Future<Optional<ImportChunk>> startedChunk(String jobId);

  /**
   * Ends a running job with {@code status} (completed or failed).
   *
   * @return false when the job was no longer running
   */
  Future<Boolean> finish(
      String jobId, BulkJobStatus status, int progress, Instant at, String failureReason);

  /**
   * Cancels an enqueued or running job; a job already ended stays as it is.
   *
   * @return the job after the change, empty when there is no such job
   */
  Future<Optional<BulkJob>> cancel(String jobId, Instant at);

  /** Up to {@code max} errors of a job after line {@code afterLine}, in line order. */
  Future<List<ImportError>> errors(String jobId, long afterLine, int max);
}
