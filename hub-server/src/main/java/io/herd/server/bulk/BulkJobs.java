package io.herd.server.bulk;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.registry.DeviceRegistry;
import io.herd.server.bulk.internal.ChunkImages;
import io.herd.server.bulk.internal.ExportRun;
import io.herd.server.bulk.internal.ImportRun;
import io.herd.server.bulk.internal.JobRun;
import io.herd.server.bulk.internal.JobStorage;
import io.herd.server.internal.RegistryBulk;
import io.herd.twin.TwinStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Import and export jobs of the identity registry ({@code POST /jobs/create}, azure-iothub-wire.md
 * §5.7): durable in a {@link BulkJobStore}, run one at a time in the order they were created, as
 * IoT Hub does. A job left running by a stopped hub resumes when the next one opens: an import
 * after its last committed chunk (replaying first a chunk a crash interrupted, without applying a
 * device twice), an export from the beginning.
 *
 * <p>Scheduling state lives on one context of its own; the API methods may be called from any.
 */
public final class BulkJobs {
  private static final Logger LOG = LoggerFactory.getLogger(BulkJobs.class);
  private static final long RETRY_MS = 5_000;

  /** How long {@link #close} waits for the step in flight before giving up on it. */
  private static final long CLOSE_WAIT_MS = 30_000;

  private final Context context;
  private final BulkJobStore store;
  private final DeviceRegistry registry;
  private final TwinStore twins;
  private final RegistryBulk bulk;
  private final ChunkImages images;
  private final JobStorage storage;
  private final Clock clock;

  // Touched on the context only.
  private JobRun current;
  private String currentId;
  private boolean scanning;
  private boolean rescan;
  private boolean closing;
  private Promise<Void> idle;

  private BulkJobs(
      Context context,
      BulkJobStore store,
      DeviceRegistry registry,
      TwinStore twins,
      JobStorage storage,
      Clock clock) {
    this.context = context;
    this.store = store;
    this.registry = registry;
    this.twins = twins;
    this.bulk = new RegistryBulk(registry, twins);
    this.images = new ChunkImages(registry, twins);
    this.storage = storage;
    this.clock = clock;
  }

  /**
   * Opens the jobs and resumes the one left running, if any.
   *
   * @param jobsDir the only directory {@code file://} containers may name; created if missing
   * @param workDir scratch space for outputs bound for HTTP(S); emptied here
   */
  public static Future<BulkJobs> open(
      Vertx vertx,
      BulkJobStore store,
      DeviceRegistry registry,
      TwinStore twins,
      Path jobsDir,
      Path workDir,
      Clock clock) {
    return vertx
        .executeBlocking(
            () -> {
              Files.createDirectories(jobsDir);
              if (Files.isDirectory(workDir)) {
                try (var leftovers = Files.list(workDir)) {
                  for (Path p : (Iterable<Path>) leftovers::iterator) {
                    Files.deleteIfExists(p);
                  }
                }
              }
              return jobsDir.toRealPath();
            })
        .map(
            realJobsDir -> {
              BulkJobs jobs =
                  new BulkJobs(
                      vertx.getOrCreateContext(),
                      store,
                      registry,
                      twins,
                      new JobStorage(vertx, realJobsDir, workDir),
                      clock);
              jobs.context.runOnContext(v -> jobs.schedule());
              return jobs;
            });
  }

  /** Validates the request's containers and enqueues the job. */
  public Future<BulkJob> create(BulkJobRequest request) {
    Future<?> inputOk =
        request.type() == BulkJobType.IMPORT
            ? storage.locate("inputBlobContainerUri", request.inputContainer(), request.inputBlob())
            : Future.succeededFuture();
    return inputOk
        .compose(
            v ->
                storage.locate(
                    "outputBlobContainerUri", request.outputContainer(), request.outputBlob()))
        .compose(
            v -> {
              BulkJob job =
                  BulkJob.enqueued(UUID.randomUUID().toString(), request, clock.instant());
              return store.insert(job).map(job);
            })
        .onSuccess(
            job -> {
              LOG.info("bulk job enqueued [job: {}, type: {}]", job.jobId(), job.type().wire());
              context.runOnContext(x -> schedule());
            });
  }

  /** Fails with JobNotFound when there is no such job. */
  public Future<BulkJob> get(String jobId) {
    return store.find(jobId).map(j -> j.orElseThrow(() -> notFound(jobId)));
  }

  /** Every job, oldest first. */
  public Future<List<BulkJob>> list() {
    return store.list();
  }

  /**
   * Cancels an enqueued or running job (a running one stops after the step in flight) and returns
   * it; a job that has ended is returned as it is.
   */
  public Future<BulkJob> cancel(String jobId) {
    return store
        .cancel(jobId, clock.instant())
        .map(j -> j.orElseThrow(() -> notFound(jobId)))
        .onSuccess(
            job ->
                context.runOnContext(
                    v -> {
                      if (current != null && jobId.equals(currentId)) {
                        current.cancel();
                      }
                    }));
  }

  private static HubException notFound(String jobId) {
    return new HubException(ErrorCode.JOB_NOT_FOUND, "Job " + jobId + " not found");
  }

  /** Starts the next job unless one runs. On the context. */
  private void schedule() {
    if (closing || current != null) {
      return;
    }
    if (scanning) {
      rescan = true;
      return;
    }
    scanning = true;
    rescan = false;
    boolean[] found = new boolean[1];
    store
        .next()
        .compose(
            next -> {
              if (next.isEmpty() || closing) {
                return Future.succeededFuture(Optional.<BulkJob>empty());
              }
              found[0] = true;
              return store.start(next.get().jobId(), clock.instant());
            })
        .onComplete(
            ar -> {
              scanning = false;
              if (ar.succeeded() && ar.result().isPresent() && !closing) {
                run(ar.result().get());
                return;
              }
              if (closing) {
                idle();
              } else if (ar.failed()) {
                LOG.warn("cannot start the next bulk job; trying again in 5 s", ar.cause());
                context.owner().setTimer(RETRY_MS, t -> schedule());
              } else if (rescan || found[0]) {
                // Something changed meanwhile, or the job found was cancelled before it started.
                schedule();
              }
            });
  }

  private void run(BulkJob job) {
    JobRun run =
        job.type() == BulkJobType.IMPORT
            ? new ImportRun(job, storage, bulk, images, store)
            : new ExportRun(job, storage, registry, twins, store);
    current = run;
    currentId = job.jobId();
    LOG.info(
        "bulk job running [job: {}, type: {}, resumed-after-line: {}]",
        job.jobId(),
        job.type().wire(),
        job.linesDone());
    Future<JobRun.Outcome> ran;
    try {
      ran = run.run();
    } catch (RuntimeException e) {
      ran = Future.failedFuture(e);
    }
    ran.recover(
            e -> {
              LOG.error("bulk job failed [job: {}]", job.jobId(), e);
              return Future.succeededFuture(
                  new JobRun.Outcome(
                      JobRun.End.FAILED, job.progress(), "internal error: " + JobRun.reason(e)));
            })
        .compose(outcome -> record(job, outcome))
        .onComplete(
            ar -> {
              if (ar.failed()) {
                LOG.warn("cannot record the end of bulk job [job: {}]", job.jobId(), ar.cause());
              }
              current = null;
              currentId = null;
              if (closing) {
                idle();
              } else {
                schedule();
              }
            });
  }

  private Future<?> record(BulkJob job, JobRun.Outcome outcome) {
    switch (outcome.end()) {
      case COMPLETED:
      case FAILED:
        BulkJobStatus status =
            outcome.end() == JobRun.End.COMPLETED ? BulkJobStatus.COMPLETED : BulkJobStatus.FAILED;
        LOG.info(
            "bulk job ended [job: {}, status: {}, reason: {}]",
            job.jobId(),
            status.wire(),
            outcome.failureReason());
        return store.finish(
            job.jobId(), status, outcome.progress(), clock.instant(), outcome.failureReason());
      case CANCELLED:
        LOG.info("bulk job cancelled [job: {}]", job.jobId());
        return Future.succeededFuture();
      default:
        LOG.info("bulk job paused until the next start [job: {}]", job.jobId());
        return Future.succeededFuture();
    }
  }

  private void idle() {
    if (idle != null && current == null && !scanning) {
      idle.tryComplete();
    }
  }

  /**
   * Stops running jobs for a hub shutdown: the step in flight finishes (an import's chunk commits
   * its progress), network transfers are cut, and a job still running resumes at the next start.
   */
  public Future<Void> close() {
    Promise<Void> stopped = Promise.promise();
    context.runOnContext(
        v -> {
          closing = true;
          idle = stopped;
          if (current != null) {
            current.stop();
          }
          storage.close();
          idle();
          if (!stopped.future().isComplete()) {
            context
                .owner()
                .setTimer(
                    CLOSE_WAIT_MS,
                    t -> {
                      if (stopped.tryComplete()) {
                        LOG.warn(
                            "bulk job did not stop in time; it resumes at the next start"
                                + " [job: {}]",
                            currentId);
                      }
                    });
          }
        });
    return stopped.future();
  }
}
