package io.herd.server.bulk;

import java.time.Instant;

/**
 * One import or export job as stored.
 *
 * @param progress percent done, 0 to 100
 * @param startTime when it first started running; null while enqueued
 * @param endTime when it reached a terminal status; null before
 * @param inputContainer the container URI an import reads; null for exports
 * @param outputBlob the export's device list, or the import's error log
 * @param linesDone input lines (1-based, blank and bad lines included) whose outcome is committed;
 *     an import resumes after them
 * @param succeeded devices imported or exported so far
 * @param failed devices (lines) that could not be imported so far, each in the error log
 */
public record BulkJob(
    String jobId,
    BulkJobType type,
    BulkJobStatus status,
    int progress,
    Instant createdTime,
    Instant startTime,
    Instant endTime,
    String inputContainer,
    String inputBlob,
    String outputContainer,
    String outputBlob,
    boolean excludeKeys,
    String failureReason,
    long linesDone,
    long succeeded,
    long failed) {

  /** A new job as created by a request: enqueued, nothing done yet. */
  public static BulkJob enqueued(String jobId, BulkJobRequest r, Instant now) {
    return new BulkJob(
        jobId,
        r.type(),
        BulkJobStatus.ENQUEUED,
        0,
        now,
        null,
        null,
        r.inputContainer(),
        r.inputBlob(),
        r.outputContainer(),
        r.outputBlob(),
        r.excludeKeys(),
        null,
        0,
        0,
        0);
  }
}
