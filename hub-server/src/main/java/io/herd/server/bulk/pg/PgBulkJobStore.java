package io.herd.server.bulk.pg;

import io.herd.server.bulk.BulkJob;
import io.herd.server.bulk.BulkJobStatus;
import io.herd.server.bulk.BulkJobStore;
import io.herd.server.bulk.BulkJobType;
import io.herd.server.bulk.ImportChunk;
import io.herd.server.bulk.ImportError;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Jobs in PostgreSQL; a job's progress and the errors it covers commit in one transaction. The
 * chunk an import applies is kept in the job's row (its devices as JSON) until the job ends.
 */
public final class PgBulkJobStore implements BulkJobStore {
  private static final String COLUMNS =
      "job_id, type, status, progress, created_time, start_time, end_time, input_container,"
          + " input_blob, output_container, output_blob, exclude_keys, failure_reason, lines_done,"
          + " succeeded, failed";
  private static final String INSERT =
      "INSERT INTO bulk_jobs ("
          + COLUMNS
          + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
  private static final String FIND = "SELECT " + COLUMNS + " FROM bulk_jobs WHERE job_id = $1";
  private static final String LIST = "SELECT " + COLUMNS + " FROM bulk_jobs ORDER BY seq";
  private static final String NEXT =
      "SELECT "
          + COLUMNS
          + " FROM bulk_jobs WHERE status IN ('enqueued', 'running')"
          + " ORDER BY status = 'running' DESC, seq LIMIT 1";
  private static final String START =
      "UPDATE bulk_jobs SET status = 'running', start_time = COALESCE(start_time, $2)"
          + " WHERE job_id = $1 AND status IN ('enqueued', 'running') RETURNING "
          + COLUMNS;
  private static final String PROGRESS =
      "UPDATE bulk_jobs SET lines_done = $2, progress = $3, succeeded = $4, failed = $5"
          + " WHERE job_id = $1 AND status = 'running'";
  private static final String ADD_ERROR =
      "INSERT INTO bulk_job_errors (job_id, line, device_id, error_code, message)"
          + " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
  private static final String START_CHUNK =
      "UPDATE bulk_jobs SET chunk_after = $2, chunk_through = $3, chunk_devices = $4"
          + " WHERE job_id = $1 AND status = 'running'";
  private static final String STARTED_CHUNK =
      "SELECT chunk_after, chunk_through, chunk_devices FROM bulk_jobs"
          + " WHERE job_id = $1 AND chunk_through IS NOT NULL";

  /** An ended job's chunk is of no more use. */
  private static final String NO_CHUNK =
      ", chunk_after = NULL, chunk_through = NULL, chunk_devices = NULL";

  private static final String FINISH =
      "UPDATE bulk_jobs SET status = $2, progress = $3, end_time = $4, failure_reason = $5"
          + NO_CHUNK
          + " WHERE job_id = $1 AND status = 'running'";
  private static final String CANCEL =
      "UPDATE bulk_jobs SET status = 'cancelled', end_time = $2"
          + NO_CHUNK
          + " WHERE job_id = $1 AND status IN ('enqueued', 'running')";
  private static final String ERRORS =
      "SELECT line, device_id, error_code, message FROM bulk_job_errors"
          + " WHERE job_id = $1 AND line > $2 ORDER BY line LIMIT $3";

  private final Pool pool;

  public PgBulkJobStore(Pool pool) {
    this.pool = pool;
  }

  @Override
  public Future<Void> insert(BulkJob j) {
    return pool.preparedQuery(INSERT)
        .execute(
            Tuple.from(
                new Object[] {
                  j.jobId(),
                  j.type().wire(),
                  j.status().wire(),
                  j.progress(),
                  offset(j.createdTime()),
                  offset(j.startTime()),
                  offset(j.endTime()),
                  j.inputContainer(),
                  j.inputBlob(),
                  j.outputContainer(),
                  j.outputBlob(),
                  j.excludeKeys(),
                  j.failureReason(),
                  j.linesDone(),
                  j.succeeded(),
                  j.failed()
                }))
        .mapEmpty();
  }

  @Override
  public Future<Optional<BulkJob>> find(String jobId) {
    return pool.preparedQuery(FIND).execute(Tuple.of(jobId)).map(PgBulkJobStore::first);
  }

  @Override
  public Future<List<BulkJob>> list() {
    return pool.query(LIST)
        .execute()
        .map(
            rows -> {
              List<BulkJob> out = new ArrayList<>(rows.size());
              rows.forEach(r -> out.add(job(r)));
              return out;
            });
  }

  @Override
  public Future<Optional<BulkJob>> next() {
    return pool.query(NEXT).execute().map(PgBulkJobStore::first);
  }

  @Override
  public Future<Optional<BulkJob>> start(String jobId, Instant at) {
    return pool.preparedQuery(START)
        .execute(Tuple.of(jobId, offset(at)))
        .map(PgBulkJobStore::first);
  }

  @Override
  public Future<Boolean> progress(
      String jobId,
      long linesDone,
      int progress,
      long succeeded,
      long failed,
      List<ImportError> errors) {
    Tuple args = Tuple.of(jobId, linesDone, progress, succeeded, failed);
    if (errors.isEmpty()) {
      return pool.preparedQuery(PROGRESS).execute(args).map(r -> r.rowCount() == 1);
    }
    List<Tuple> rows = new ArrayList<>(errors.size());
    for (ImportError e : errors) {
      rows.add(Tuple.of(jobId, e.line(), e.deviceId(), e.errorCode(), e.message()));
    }
    return pool.withTransaction(
        conn ->
            conn.preparedQuery(PROGRESS)
                .execute(args)
                .compose(
                    r ->
                        r.rowCount() == 1
                            ? conn.preparedQuery(ADD_ERROR).executeBatch(rows).map(true)
                            : Future.succeededFuture(false)));
  }

  @Override
  public Future<Boolean> startChunk(String jobId, ImportChunk chunk) {
    JsonArray devices = new JsonArray();
    for (ImportChunk.PreImage d : chunk.devices()) {
      devices.add(
          new JsonObject()
              .put("id", d.deviceId())
              .put("etag", d.etag())
              .put("twin", d.twinServiceVersion()));
    }
    return pool.preparedQuery(START_CHUNK)
        .execute(Tuple.of(jobId, chunk.afterLine(), chunk.throughLine(), devices))
        .map(r -> r.rowCount() == 1);
  }

  @Override
  public Future<Optional<ImportChunk>> startedChunk(String jobId) {
    return pool.preparedQuery(STARTED_CHUNK)
        .execute(Tuple.of(jobId))
        .map(
            rows -> {
              var it = rows.iterator();
              if (!it.hasNext()) {
                return Optional.empty();
              }
              Row r = it.next();
              List<ImportChunk.PreImage> devices = new ArrayList<>();
              for (Object o : r.getJsonArray(2)) {
                JsonObject d = (JsonObject) o;
                devices.add(
                    new ImportChunk.PreImage(
                        d.getString("id"), d.getString("etag"), d.getLong("twin")));
              }
              return Optional.of(new ImportChunk(r.getLong(0), r.getLong(1), devices));
            });
  }

  @Override
  public Future<Boolean> finish(
      String jobId, BulkJobStatus status, int progress, Instant at, String failureReason) {
    return pool.preparedQuery(FINISH)
        .execute(Tuple.of(jobId, status.wire(), progress, offset(at), failureReason))
        .map(r -> r.rowCount() == 1);
  }

  @Override
  public Future<Optional<BulkJob>> cancel(String jobId, Instant at) {
    return pool.preparedQuery(CANCEL)
        .execute(Tuple.of(jobId, offset(at)))
        .compose(r -> find(jobId));
  }

  @Override
  public Future<List<ImportError>> errors(String jobId, long afterLine, int max) {
    return pool.preparedQuery(ERRORS)
        .execute(Tuple.of(jobId, afterLine, max))
        .map(
            rows -> {
              List<ImportError> out = new ArrayList<>(rows.size());
              for (Row r : rows) {
                out.add(
                    new ImportError(r.getLong(0), r.getString(1), r.getString(2), r.getString(3)));
              }
              return out;
            });
  }

  private static Optional<BulkJob> first(RowSet<Row> rows) {
    var it = rows.iterator();
    return it.hasNext() ? Optional.of(job(it.next())) : Optional.empty();
  }

  private static BulkJob job(Row r) {
    return new BulkJob(
        r.getString(0),
        BulkJobType.parse("type", r.getString(1)),
        BulkJobStatus.fromWire(r.getString(2)),
        r.getInteger(3),
        instant(r.getOffsetDateTime(4)),
        instant(r.getOffsetDateTime(5)),
        instant(r.getOffsetDateTime(6)),
        r.getString(7),
        r.getString(8),
        r.getString(9),
        r.getString(10),
        r.getBoolean(11),
        r.getString(12),
        r.getLong(13),
        r.getLong(14),
        r.getLong(15));
  }

  private static OffsetDateTime offset(Instant t) {
    return t == null ? null : t.atOffset(ZoneOffset.UTC);
  }

  private static Instant instant(OffsetDateTime t) {
    return t == null ? null : t.toInstant();
  }
}
