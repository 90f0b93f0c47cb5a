package io.herd.server.bulk.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.core.pg.SchemaMigrator;
import io.herd.server.bulk.BulkJob;
import io.herd.server.bulk.BulkJobRequest;
import io.herd.server.bulk.BulkJobStatus;
import io.herd.server.bulk.BulkJobType;
import io.herd.server.bulk.ImportChunk;
import io.herd.server.bulk.ImportError;
import io.herd.testkit.TestPostgres;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Jobs over real PostgreSQL: what runs next, a runner that cannot overwrite a cancel, and the chunk
 * an import applies.
 */
class PgBulkJobStoreIT {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00.123456Z");

  private Vertx vertx;
  private Pool pool;
  private PgBulkJobStore store;

  @BeforeEach
  void open() {
    vertx = Vertx.vertx();
    pool =
        PgBuilder.pool()
            .with(new PoolOptions().setMaxSize(4))
            .connectingTo(TestPostgres.freshDatabase())
            .using(vertx)
            .build();
    Future.await(SchemaMigrator.migrate(pool, BulkSchema.migrations()));
    store = new PgBulkJobStore(pool);
  }

  @AfterEach
  void close() {
    Future.await(pool.close());
    Future.await(vertx.close());
  }

  private BulkJob insert(String id, BulkJobType type, Instant at) {
    BulkJobRequest request =
        type == BulkJobType.IMPORT
            ? new BulkJobRequest(type, "file:///in", "devices.txt", "file:///out", "e.log", false)
            : new BulkJobRequest(type, null, null, "file:///out", "devices.txt", true);
    BulkJob job = BulkJob.enqueued(id, request, at);
    Future.await(store.insert(job));
    return job;
  }

  @Test
  void aJobReadsBackAsInserted() {
    BulkJob job = insert("j1", BulkJobType.EXPORT, T0);
    assertThat(Future.await(store.find("j1"))).contains(job);
    assertThat(Future.await(store.find("nope"))).isEmpty();
  }

  @Test
  void theRunningJobComesFirstThenTheOldestEnqueued() {
    insert("a", BulkJobType.IMPORT, T0);
    insert("b", BulkJobType.EXPORT, T0.plusSeconds(1));
    insert("c", BulkJobType.EXPORT, T0.plusSeconds(2));
    assertThat(Future.await(store.next()).orElseThrow().jobId()).isEqualTo("a");
    BulkJob started = Future.await(store.start("b", T0.plusSeconds(5))).orElseThrow();
    assertThat(started.status()).isEqualTo(BulkJobStatus.RUNNING);
    assertThat(started.startTime()).isEqualTo(T0.plusSeconds(5));
    assertThat(Future.await(store.next()).orElseThrow().jobId()).isEqualTo("b");
    // Resuming keeps the first start time.
    assertThat(Future.await(store.start("b", T0.plusSeconds(9))).orElseThrow().startTime())
        .isEqualTo(T0.plusSeconds(5));
    assertThat(Future.await(store.finish("b", BulkJobStatus.COMPLETED, 100, T0, null))).isTrue();
    assertThat(Future.await(store.next()).orElseThrow().jobId()).isEqualTo("a");
    assertThat(Future.await(store.list()))
        .extracting(BulkJob::jobId)
        .containsExactly("a", "b", "c");
  }

  @Test
  void progressCommitsWithItsErrorsOnlyWhileTheJobRuns() {
    insert("imp", BulkJobType.IMPORT, T0);
    // Not started yet: nothing is written.
    assertThat(
            Future.await(
                store.progress("imp", 5, 10, 4, 1, List.of(new ImportError(3, "d", "X", "m")))))
        .isFalse();
    Future.await(store.start("imp", T0));
    List<ImportError> errors = new ArrayList<>();
    for (int line = 1; line <= 2500; line += 2) {
      errors.add(new ImportError(line, "d" + line, "DeviceNotFound", "Line " + line));
    }
    assertThat(Future.await(store.progress("imp", 2500, 40, 1250, 1250, errors))).isTrue();
    BulkJob job = Future.await(store.find("imp")).orElseThrow();
    assertThat(job.linesDone()).isEqualTo(2500);
    assertThat(job.progress()).isEqualTo(40);
    assertThat(job.failed()).isEqualTo(1250);

    List<ImportError> read = new ArrayList<>();
    long after = 0;
    while (true) {
      List<ImportError> page = Future.await(store.errors("imp", after, 500));
      if (page.isEmpty()) {
        break;
      }
      read.addAll(page);
      after = page.get(page.size() - 1).line();
    }
    assertThat(read).isEqualTo(errors);

    BulkJob cancelled = Future.await(store.cancel("imp", T0.plusSeconds(1))).orElseThrow();
    assertThat(cancelled.status()).isEqualTo(BulkJobStatus.CANCELLED);
    assertThat(cancelled.endTime()).isEqualTo(T0.plusSeconds(1));
    // The runner finds out when it next writes; it cannot undo the cancel.
    assertThat(Future.await(store.progress("imp", 2600, 50, 1, 1, List.of()))).isFalse();
    assertThat(Future.await(store.finish("imp", BulkJobStatus.COMPLETED, 100, T0, null))).isFalse();
    assertThat(Future.await(store.find("imp")).orElseThrow().status())
        .isEqualTo(BulkJobStatus.CANCELLED);
    assertThat(Future.await(store.start("imp", T0))).isEmpty();
  }

  @Test
  void aChunkIsRecordedWhileTheJobRunsReplacedByTheNextAndDroppedWhenItEnds() {
    insert("imp", BulkJobType.IMPORT, T0);
    ImportChunk first =
        new ImportChunk(
            0,
            120,
            List.of(
                new ImportChunk.PreImage("new", null, 0L),
                new ImportChunk.PreImage("old", "MTI=", null),
                new ImportChunk.PreImage("twin \"q\"", "Nw==", 4L)));
    assertThat(Future.await(store.startChunk("imp", first))).isFalse();
    assertThat(Future.await(store.startedChunk("imp"))).isEmpty();

    Future.await(store.start("imp", T0));
    assertThat(Future.await(store.startChunk("imp", first))).isTrue();
    assertThat(Future.await(store.startedChunk("imp"))).contains(first);
    // Progress leaves it: whether it is beyond the lines done is the reader's to see.
    Future.await(store.progress("imp", 120, 10, 3, 0, List.of()));
    assertThat(Future.await(store.startedChunk("imp"))).contains(first);
    ImportChunk second =
        new ImportChunk(120, 135, List.of(new ImportChunk.PreImage("new", "MTM=", null)));
    assertThat(Future.await(store.startChunk("imp", second))).isTrue();
    assertThat(Future.await(store.startedChunk("imp"))).contains(second);

    assertThat(Future.await(store.finish("imp", BulkJobStatus.COMPLETED, 100, T0, null))).isTrue();
    assertThat(Future.await(store.startedChunk("imp"))).isEmpty();
    assertThat(Future.await(store.startChunk("imp", first))).isFalse();

    insert("gone", BulkJobType.IMPORT, T0);
    Future.await(store.start("gone", T0));
    Future.await(store.startChunk("gone", first));
    Future.await(store.cancel("gone", T0));
    assertThat(Future.await(store.startedChunk("gone"))).isEmpty();
    assertThat(Future.await(store.startedChunk("missing"))).isEmpty();
  }

  @Test
  void cancellingAnEndedJobLeavesItAsItWas() {
    insert("done", BulkJobType.EXPORT, T0);
    Future.await(store.start("done", T0));
    Future.await(store.finish("done", BulkJobStatus.FAILED, 30, T0.plusSeconds(2), "no disk"));
    BulkJob after = Future.await(store.cancel("done", T0.plusSeconds(9))).orElseThrow();
    assertThat(after.status()).isEqualTo(BulkJobStatus.FAILED);
    assertThat(after.failureReason()).isEqualTo("no disk");
    assertThat(after.endTime()).isEqualTo(T0.plusSeconds(2));
    assertThat(Future.await(store.cancel("missing", T0))).isEmpty();
  }
}
