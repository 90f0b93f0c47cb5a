package io.herd.server.jobs.pg;

import io.herd.core.pg.Statements;
import io.herd.server.jobs.DeviceJob;
import io.herd.server.jobs.DeviceJobStatus;
import io.herd.server.jobs.JobStatus;
import io.herd.server.jobs.JobStore;
import io.herd.server.jobs.JobType;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/** Jobs in PostgreSQL: each batch one transaction, each kind of change one batched statement. */
public final class PgJobStore implements JobStore {
  private static final String UPSERT_JOB =
      "INSERT INTO jobs (job_id, spec, status, created_time, start_time, end_time, failure_reason,"
          + " status_message) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (job_id) DO UPDATE"
          + " SET status = EXCLUDED.status, start_time = EXCLUDED.start_time, end_time ="
          + " EXCLUDED.end_time, failure_reason = EXCLUDED.failure_reason, status_message ="
          + " EXCLUDED.status_message";
  private static final String START =
      "INSERT INTO job_devices (job_id, device_id, status, created_time, last_updated)"
          + " SELECT $1, d, 'pending', $3, $3 FROM unnest($2::text[]) AS d";
  private static final String CLAIM =
      "UPDATE job_devices SET status = 'running', start_time = $3, last_updated = $3"
          + " WHERE job_id = $1 AND device_id = ANY($2::text[])";
  private static final String OUTCOME =
      "UPDATE job_devices SET status = $3, end_time = $4, last_updated = $4, outcome = $5,"
          + " error_code = $6, error_description = $7 WHERE job_id = $1 AND device_id = $2";
  private static final String CLOSE =
      "UPDATE job_devices SET status = $3, end_time = $4, last_updated = $4, error_code = $5,"
          + " error_description = $6 WHERE job_id = $1 AND status = $2";

  private final Pool pool;

  public PgJobStore(Pool pool) {
    this.pool = pool;
  }

  @Override
  public Future<Void> write(Batch b) {
    List<Function<SqlClient, Future<?>>> steps = new ArrayList<>();
    if (!b.jobs().isEmpty()) {
      List<Tuple> rows = new ArrayList<>();
      for (JobRecord j : b.jobs()) {
        rows.add(
            Tuple.tuple()
                .addString(j.jobId())
                .addValue(j.spec())
                .addString(j.status().wire)
                .addValue(ts(j.created()))
                .addValue(ts(j.started()))
                .addValue(ts(j.ended()))
                .addString(j.failureReason())
                .addString(j.statusMessage()));
      }
      steps.add(c -> c.preparedQuery(UPSERT_JOB).executeBatch(rows));
    }
    for (Start s : b.starts()) {
      Tuple t =
          Tuple.tuple()
              .addString(s.jobId())
              .addArrayOfString(s.deviceIds().toArray(new String[0]))
              .addValue(ts(s.at()));
      steps.add(c -> c.preparedQuery(START).execute(t));
    }
    if (!b.claims().isEmpty()) {
      List<Tuple> rows = new ArrayList<>();
      for (Claim cl : b.claims()) {
        rows.add(
            Tuple.tuple()
                .addString(cl.jobId())
                .addArrayOfString(cl.deviceIds().toArray(new String[0]))
                .addValue(ts(cl.at())));
      }
      steps.add(c -> c.preparedQuery(CLAIM).executeBatch(rows));
    }
    if (!b.outcomes().isEmpty()) {
      List<Tuple> rows = new ArrayList<>(b.outcomes().size());
      for (DeviceJob d : b.outcomes()) {
        rows.add(
            Tuple.tuple()
                .addString(d.jobId())
                .addString(d.deviceId())
                .addString(d.status().wire)
                .addValue(ts(d.ended() != null ? d.ended() : d.lastUpdated()))
                .addValue(d.outcome())
                .addString(d.errorCode())
                .addString(d.errorDescription()));
      }
      steps.add(c -> c.preparedQuery(OUTCOME).executeBatch(rows));
    }
    if (!b.closes().isEmpty()) {
      List<Tuple> rows = new ArrayList<>();
      for (Close cl : b.closes()) {
        rows.add(
            Tuple.tuple()
                .addString(cl.jobId())
                .addString(cl.from().wire)
                .addString(cl.to().wire)
                .addValue(ts(cl.at()))
                .addString(cl.errorCode())
                .addString(cl.errorDescription()));
      }
      steps.add(c -> c.preparedQuery(CLOSE).executeBatch(rows));
    }
    return Statements.atomically(pool, steps);
  }

  @Override
  public Future<Void> loadAll(Consumer<JobRecord> jobs, Consumer<DeviceJob> devices) {
    Map<String, JobType> types = new HashMap<>();
    return pool.query(
            "SELECT job_id, spec, status, created_time, start_time, end_time, failure_reason,"
                + " status_message FROM jobs ORDER BY created_time, job_id")
        .execute()
        .compose(
            rows -> {
              for (Row r : rows) {
                JsonObject spec = (JsonObject) r.getValue("spec");
                types.put(r.getString("job_id"), JobType.parse(spec.getString("type")));
                jobs.accept(
                    new JobRecord(
                        spec,
                        JobStatus.parse(r.getString("status")),
                        instant(r, "created_time"),
                        instant(r, "start_time"),
                        instant(r, "end_time"),
                        r.getString("failure_reason"),
                        r.getString("status_message")));
              }
              return pool.query(
                      "SELECT job_id, device_id, status, created_time, start_time, end_time,"
                          + " last_updated, outcome, error_code, error_description FROM job_devices")
                  .execute();
            })
        .map(
            rows -> {
              for (Row r : rows) {
                String jobId = r.getString("job_id");
                Object outcome = r.getValue("outcome");
                devices.accept(
                    new DeviceJob(
                        jobId,
                        types.get(jobId),
                        r.getString("device_id"),
                        DeviceJobStatus.ofWire(r.getString("status")),
                        instant(r, "created_time"),
                        instant(r, "start_time"),
                        instant(r, "end_time"),
                        instant(r, "last_updated"),
                        outcome instanceof JsonObject o ? o : null,
                        r.getString("error_code"),
                        r.getString("error_description")));
              }
              return null;
            });
  }

  private static OffsetDateTime ts(Instant i) {
    return i == null ? null : i.atOffset(ZoneOffset.UTC);
  }

  private static Instant instant(Row r, String column) {
    OffsetDateTime t = r.getOffsetDateTime(column);
    return t == null ? null : t.toInstant();
  }
}
