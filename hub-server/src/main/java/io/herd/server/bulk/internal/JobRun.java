package io.herd.server.bulk.internal;

import io.vertx.core.Future;

/**
 * One running job. Every method is called on the context the run was started on, and all of its
 * work happens there or on the jobs' worker pool.
 */
public interface JobRun {

  /** How a run ended. */
  enum End {
    /** Done; the job completes, per-device errors and all. */
    COMPLETED,
    /** The job as a whole could not be done. */
    FAILED,
    /** The hub is stopping; the job stays running and resumes at the next start. */
    STOPPED,
    /** The job was cancelled (its status says so already). */
    CANCELLED
  }

  /**
   * The outcome of a run.
   *
   * @param failureReason for FAILED, why; for COMPLETED, a summary of per-device errors or null
   */
  record Outcome(End end, int progress, String failureReason) {}

  /** Starts the run; the future completes once it has ended and let go of its resources. */
  Future<Outcome> run();

  /** The hub is stopping: end after the step in flight, leaving the job to resume. */
  void stop();

  /** The job was cancelled: end after the step in flight. */
  void cancel();

  /** A failure's message for people, never null. */
  static String reason(Throwable t) {
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
