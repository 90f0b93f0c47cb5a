package io.herd.server.jobs;

import io.herd.server.methods.MethodCall;
import io.herd.twin.TwinUpdate;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * A job as created: what to do, to which devices, when, and how fast.
 *
 * @param startTime when to start; null means at once
 * @param updateTwin for twin jobs, the patch as sent (for the response) and as applied
 * @param method for method jobs
 */
public record JobSpec(
    String jobId,
    JobType type,
    String queryCondition,
    Instant startTime,
    long maxExecutionTimeInSeconds,
    JsonObject updateTwinJson,
    TwinUpdate updateTwin,
    MethodCall method,
    Rollout rollout) {}
