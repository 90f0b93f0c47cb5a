package io.herd.server.api;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.JsonFields;
import io.herd.registry.Permission;
import io.herd.registry.Principal;
import io.herd.server.jobs.JobCodec;
import io.herd.server.jobs.JobEngine;
import io.herd.server.jobs.JobSpec;
import io.herd.server.jobs.JobStatus;
import io.herd.server.jobs.JobType;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/** Jobs v2 over REST (azure-iothub-wire.md §5.7): create, get, cancel, query with paging. */
final class JobsApi {
  private final JobEngine engine;

  JobsApi(JobEngine engine) {
    this.engine = engine;
  }

  /** One page of {@code GET /jobs/v2/query}: JobResponse rows and the next token or null. */
  record Page(JsonArray rows, String continuation) {}

  Future<JsonObject> create(String jobId, Buffer body, Principal principal) {
    JobSpec spec = JobCodec.parse(jobId, JsonFields.parseObject(body));
    if (spec.type() == JobType.SCHEDULE_DEVICE_METHOD) {
      // Calling methods is ServiceConnect's right; scheduling is RegistryWrite's (checked by the
      // route).
      principal.require(Permission.SERVICE_CONNECT);
    }
    return engine.create(spec);
  }

  Future<JsonObject> get(String jobId) {
    return engine.get(jobId);
  }

  Future<JsonObject> cancel(String jobId) {
    return engine.cancel(jobId);
  }

  Future<Page> query(String jobType, String jobStatus, String maxItems, String continuation) {
    JobType type = jobType == null || jobType.isBlank() ? null : JobType.parse(jobType);
    JobStatus status = jobStatus == null || jobStatus.isBlank() ? null : JobStatus.parse(jobStatus);
    boolean none = jobStatus != null && !jobStatus.isBlank() && status == null;
    int pageSize = QueryApi.pageSize(maxItems);
    int offset = offset(continuation);
    return engine
        .list(type, status)
        .map(
            all -> {
              List<JsonObject> rows = none ? List.of() : all;
              int end = Math.min(rows.size(), offset + pageSize);
              JsonArray page = new JsonArray();
              for (int i = Math.min(offset, rows.size()); i < end; i++) {
                page.add(rows.get(i));
              }
              String next = end < rows.size() ? token(end) : null;
              return new Page(page, next);
            });
  }

  private static String token(int offset) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(("jobs:" + offset).getBytes(StandardCharsets.UTF_8));
  }

  private static int offset(String token) {
    if (token == null || token.isBlank()) {
      return 0;
    }
    try {
      String s = new String(Base64.getUrlDecoder().decode(token.trim()), StandardCharsets.UTF_8);
      if (s.startsWith("jobs:")) {
        int n = Integer.parseInt(s.substring(5));
        if (n >= 0) {
          return n;
        }
      }
    } catch (RuntimeException e) {
      // falls through to the error below
    }
    throw new HubException(
        ErrorCode.ARGUMENT_INVALID,
        "x-ms-continuation is not a token this hub issued for a jobs query; start again without it");
  }
}
