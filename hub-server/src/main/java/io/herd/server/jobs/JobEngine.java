package io.herd.server.jobs;

import io.herd.adapter.common.MethodResult;
import io.herd.core.Contexts;
import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.Timestamps;
import io.herd.query.CompiledQuery;
import io.herd.query.QueryEngine;
import io.herd.query.QueryNotSupportedException;
import io.herd.query.QuerySyntaxException;
import io.herd.server.methods.MethodCall;
import io.herd.twin.TwinUpdate;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs jobs v2 (azure-iothub-wire.md §5.7, §7): twin updates and direct methods over the devices a
 * query selects at the job's start, with Herd's rollout control. All state lives on one owner
 * context; every change is written to a {@link JobStore} in batches, one transaction at a time.
 *
 * <p>A device is claimed (written as running) before its operation starts, and its outcome is
 * written after; a restart fails the devices it finds running instead of running them again, and
 * picks up the pending ones. Several jobs run at once; each scheduler round gives every running job
 * a slice of at most {@link #SLICE} devices in turn, so their operations interleave fairly.
 */
public final class JobEngine {
  private static final Logger LOG = LoggerFactory.getLogger(JobEngine.class);

  /** How often the scheduler looks at its jobs. */
  static final long TICK_MS = 10;

  /** Devices a job may start per turn of the round robin. */
  static final int SLICE = 64;

  /** Device operations in progress over all jobs. */
  static final int MAX_IN_FLIGHT = 20_000;

  /** Jobs queued, scheduled or running at once; more fail with 429004. */
  public static final int MAX_ACTIVE_JOBS = 100;

  /** Outcomes waiting for their write before the engine stops starting devices. */
  private static final int MAX_UNWRITTEN = 50_000;

  /** What jobs act on: the fleet's twins and live connections. */
  public interface Targets {
    /**
     * The ids of the device twins that match, sorted, read now (on a worker, not an event loop).
     */
    Future<List<String>> select(CompiledQuery condition);

    Future<Void> updateTwin(String deviceId, TwinUpdate update);

    Future<MethodResult> invokeMethod(String deviceId, MethodCall method);
  }

  private final Vertx vertx;
  private final Context owner;
  private final JobStore store;
  private final Targets targets;
  private final Clock clock;

  /** Every job by id; jobs' device maps are read by queries on other threads. */
  private final ConcurrentHashMap<String, Job> jobs = new ConcurrentHashMap<>();

  // Owner context only.
  private final List<Job> active = new ArrayList<>();
  private int roundRobin;
  private int inFlight;
  private long timer = -1;
  private Writes writes = new Writes();
  private boolean writing;
  private boolean closed;

  /** Changes waiting for the next write, and who waits for them. */
  private static final class Writes {
    final Map<String, JobStore.JobRecord> jobs = new LinkedHashMap<>();
    final List<JobStore.Start> starts = new ArrayList<>();
    final List<JobStore.Claim> claims = new ArrayList<>();
    final List<DeviceJob> outcomes = new ArrayList<>();
    final List<JobStore.Close> closes = new ArrayList<>();
    final List<Promise<Void>> waiters = new ArrayList<>();

    JobStore.Batch batch() {
      return new JobStore.Batch(
          List.copyOf(jobs.values()),
          List.copyOf(starts),
          List.copyOf(claims),
          List.copyOf(outcomes),
          List.copyOf(closes));
    }
  }

  private JobEngine(Vertx vertx, Context owner, JobStore store, Targets targets, Clock clock) {
    this.vertx = vertx;
    this.owner = owner;
    this.store = store;
    this.targets = targets;
    this.clock = clock;
  }

  /**
   * Loads every job; devices found running were interrupted by a stop and are failed (never run
   * twice); unfinished jobs go on.
   */
  public static Future<JobEngine> open(Vertx vertx, JobStore store, Targets targets, Clock clock) {
    Context owner = vertx.getOrCreateContext();
    JobEngine engine = new JobEngine(vertx, owner, store, targets, clock);
    List<JobStore.JobRecord> records = new ArrayList<>();
    List<DeviceJob> rows = new ArrayList<>();
    return store
        .loadAll(records::add, rows::add)
        .compose(
            v ->
                engine.onOwner(
                    () -> {
                      engine.load(records, rows);
                      engine.timer = vertx.setPeriodic(TICK_MS, t -> engine.tick());
                      return engine.flush().map(engine);
                    }));
  }

  private void load(List<JobStore.JobRecord> records, List<DeviceJob> rows) {
    for (JobStore.JobRecord r : records) {
      JobSpec spec = JobCodec.parse(r.jobId(), r.spec());
      Job j = new Job(spec, r.created());
      j.status = r.status();
      j.started = r.started();
      j.ended = r.ended();
      j.failureReason = r.failureReason();
      j.statusMessage = r.statusMessage();
      jobs.put(j.spec.jobId(), j);
    }
    rows.sort(Comparator.comparing(DeviceJob::deviceId));
    Instant now = clock.instant();
    Map<String, Integer> interrupted = new HashMap<>();
    for (DeviceJob d : rows) {
      Job j = jobs.get(d.jobId());
      if (j == null) {
        continue;
      }
      if (d.status() == DeviceJobStatus.RUNNING) {
        d =
            d.failed(
                now,
                null,
                "JobInterrupted",
                "The hub stopped while this device's operation was in progress; it is not run"
                    + " again so that no device runs twice");
        interrupted.merge(j.spec.jobId(), 1, Integer::sum);
      }
      j.devices.put(d.deviceId(), d);
      j.count(d.status(), 1);
      if (d.status() == DeviceJobStatus.PENDING) {
        j.pending.add(d.deviceId());
      }
    }
    for (Job j : jobs.values()) {
      if (interrupted.containsKey(j.spec.jobId())) {
        writes.closes.add(
            new JobStore.Close(
                j.spec.jobId(),
                DeviceJobStatus.RUNNING,
                DeviceJobStatus.FAILED,
                now,
                "JobInterrupted",
                "The hub stopped while this device's operation was in progress; it is not run"
                    + " again so that no device runs twice"));
        LOG.info(
            "job resumed [job-id: {}, interrupted-devices: {}, pending: {}]",
            j.spec.jobId(),
            interrupted.get(j.spec.jobId()),
            j.pending.size());
      }
      if (!j.status.terminal()) {
        active.add(j);
        j.resetRate(System.nanoTime());
      }
    }
  }

  /** Stops the scheduler and waits for everything written so far; running operations are left. */
  public Future<Void> close() {
    return onOwner(
        () -> {
          closed = true;
          if (timer >= 0) {
            vertx.cancelTimer(timer);
            timer = -1;
          }
          return flush();
        });
  }

  // ---- API

  /** Creates a job; fails with 409104 when the id is taken, 429004 past the active-job limit. */
  public Future<JsonObject> create(JobSpec spec) {
    CompiledQuery condition;
    try {
      condition = QueryEngine.compileCondition(spec.queryCondition());
    } catch (QuerySyntaxException | QueryNotSupportedException e) {
      return Future.failedFuture(
          HubException.badRequest("Invalid queryCondition: " + e.getMessage()));
    }
    return onOwner(
        () -> {
          if (jobs.containsKey(spec.jobId())) {
            return Future.failedFuture(
                new HubException(
                    ErrorCode.JOB_ALREADY_EXISTS, "Job " + spec.jobId() + " already exists"));
          }
          if (active.size() >= MAX_ACTIVE_JOBS) {
            return Future.failedFuture(
                new HubException(
                    ErrorCode.THROTTLING_MAX_ACTIVE_JOB_COUNT_EXCEEDED,
                    "There are already "
                        + active.size()
                        + " active jobs, the most this hub runs at once; wait for one to end"));
          }
          Instant now = clock.instant();
          Job j = new Job(spec, now);
          j.condition = condition;
          j.status =
              spec.startTime() != null && spec.startTime().isAfter(now)
                  ? JobStatus.SCHEDULED
                  : JobStatus.QUEUED;
          jobs.put(spec.jobId(), j);
          active.add(j);
          LOG.info(
              "job created [job-id: {}, type: {}, condition: {}, start: {}]",
              spec.jobId(),
              spec.type().wire,
              spec.queryCondition(),
              spec.startTime() == null ? "now" : Timestamps.format(spec.startTime()));
          JsonObject response = j.json();
          return saved(j).map(response);
        });
  }

  public Future<JsonObject> get(String jobId) {
    return onOwner(() -> Future.succeededFuture(find(jobId).json()));
  }

  /** Cancels a job that has not ended: pending devices are cancelled, running ones finish. */
  public Future<JsonObject> cancel(String jobId) {
    return onOwner(
        () -> {
          Job j = find(jobId);
          if (!j.status.terminal()) {
            end(j, JobStatus.CANCELLED, null, DeviceJobStatus.CANCELLED, null, null);
            LOG.info("job cancelled [job-id: {}]", jobId);
          }
          JsonObject response = j.json();
          return saved(j).map(response);
        });
  }

  /** Jobs of a type and status (null for any), oldest first, as JobResponse JSON. */
  public Future<List<JsonObject>> list(JobType type, JobStatus status) {
    return onOwner(
        () -> {
          List<Job> all = new ArrayList<>(jobs.values());
          all.sort(Comparator.comparing((Job j) -> j.created).thenComparing(j -> j.spec.jobId()));
          List<JsonObject> out = new ArrayList<>();
          for (Job j : all) {
            if ((type == null || j.spec.type() == type) && (status == null || j.status == status)) {
              out.add(j.json());
            }
          }
          return Future.succeededFuture(out);
        });
  }

  /** Every device row of every job, as it is now; safe on any thread. */
  public void forEachDeviceJob(Consumer<DeviceJob> sink) {
    for (Job j : jobs.values()) {
      j.devices.values().forEach(sink);
    }
  }

  /** Device rows of all jobs (for tests and sizing). */
  public long deviceJobCount() {
    long n = 0;
    for (Job j : jobs.values()) {
      n += j.devices.size();
    }
    return n;
  }

  private Job find(String jobId) {
    Job j = jobs.get(jobId);
    if (j == null) {
      throw new HubException(ErrorCode.JOB_NOT_FOUND, "Job " + jobId + " not found");
    }
    return j;
  }

  // ---- scheduler

  private void tick() {
    if (closed) {
      return;
    }
    Instant now = clock.instant();
    long nanos = System.nanoTime();
    List<Job> dispatchable = new ArrayList<>();
    for (Job j : new ArrayList<>(active)) {
      if (j.status == JobStatus.QUEUED || j.status == JobStatus.SCHEDULED) {
        if (!j.starting && (j.spec.startTime() == null || !j.spec.startTime().isAfter(now))) {
          begin(j, now);
        }
        continue;
      }
      if (j.status != JobStatus.RUNNING || j.starting) {
        continue;
      }
      Instant deadline = j.started.plusSeconds(j.spec.maxExecutionTimeInSeconds());
      if (!now.isBefore(deadline) && !j.pending.isEmpty()) {
        String reason =
            "maxExecutionTimeInSeconds ("
                + j.spec.maxExecutionTimeInSeconds()
                + ") elapsed with "
                + j.pending.size()
                + " devices not started";
        end(
            j,
            JobStatus.FAILED,
            reason,
            DeviceJobStatus.FAILED,
            "JobExecutionTimeExceeded",
            "The job's maxExecutionTimeInSeconds elapsed before this device's turn");
        continue;
      }
      if (j.pending.isEmpty()) {
        if (j.running == 0) {
          end(j, JobStatus.COMPLETED, null, null, null, null);
        }
        continue;
      }
      Rollout r = j.spec.rollout();
      if (!r.open(now)) {
        String message =
            "waiting for a maintenance window; the next opens at "
                + Timestamps.format(r.nextOpening(now));
        if (!message.equals(j.statusMessage)) {
          j.statusMessage = message;
          saved(j);
        }
        j.resetRate(nanos);
        continue;
      }
      if (j.statusMessage != null) {
        j.statusMessage = null;
        saved(j);
      }
      j.refill(nanos);
      dispatchable.add(j);
    }
    dispatch(dispatchable, now);
    flush();
  }

  /** Gives running jobs devices to start, a slice each in turn. */
  private void dispatch(List<Job> ready, Instant now) {
    if (ready.isEmpty() || writes.outcomes.size() >= MAX_UNWRITTEN) {
      return;
    }
    Map<Job, List<String>> claimed = new LinkedHashMap<>();
    boolean progress = true;
    int start = roundRobin++;
    while (progress && inFlight < MAX_IN_FLIGHT) {
      progress = false;
      for (int k = 0; k < ready.size() && inFlight < MAX_IN_FLIGHT; k++) {
        Job j = ready.get(Math.floorMod(start + k, ready.size()));
        int n =
            (int)
                Math.min(
                    Math.min(SLICE, j.pending.size()),
                    Math.min(
                        (long) Math.floor(j.tokens),
                        Math.min(
                            j.spec.rollout().maxConcurrency() - j.running,
                            MAX_IN_FLIGHT - inFlight)));
        if (n <= 0) {
          continue;
        }
        List<String> ids = claimed.computeIfAbsent(j, x -> new ArrayList<>());
        for (int i = 0; i < n; i++) {
          String id = j.pending.poll();
          DeviceJob d = j.devices.get(id).running(now);
          j.devices.put(id, d);
          ids.add(id);
        }
        j.tokens -= n;
        j.running += n;
        j.started(n);
        inFlight += n;
        progress = true;
      }
    }
    for (Map.Entry<Job, List<String>> e : claimed.entrySet()) {
      Job j = e.getKey();
      List<String> ids = e.getValue();
      writes.claims.add(new JobStore.Claim(j.spec.jobId(), List.copyOf(ids), now));
      Promise<Void> written = Promise.promise();
      writes.waiters.add(written);
      written
          .future()
          .onComplete(
              ar -> {
                if (ar.failed()) {
                  // Not claimed durably: put them back, they run on a later turn.
                  for (int i = ids.size() - 1; i >= 0; i--) {
                    String id = ids.get(i);
                    j.devices.put(
                        id, j.devices.get(id).closed(DeviceJobStatus.PENDING, now, null, null));
                    j.pending.addFirst(id);
                  }
                  j.running -= ids.size();
                  inFlight -= ids.size();
                  return;
                }
                for (String id : ids) {
                  run(j, id);
                }
              });
    }
  }

  /** Selects the job's devices and writes them as pending, with the job running. */
  private void begin(Job j, Instant now) {
    j.starting = true;
    long t0 = System.nanoTime();
    CompiledQuery condition =
        j.condition != null ? j.condition : QueryEngine.compileCondition(j.spec.queryCondition());
    targets
        .select(condition)
        .onComplete(
            ar ->
                owner.runOnContext(
                    v -> {
                      if (j.status.terminal()) {
                        j.starting = false;
                        return;
                      }
                      if (ar.failed()) {
                        j.starting = false;
                        end(
                            j,
                            JobStatus.FAILED,
                            "The device set could not be selected: " + ar.cause().getMessage(),
                            null,
                            null,
                            null);
                        return;
                      }
                      Instant at = clock.instant();
                      List<String> ids = ar.result();
                      for (String id : ids) {
                        j.devices.put(id, DeviceJob.pending(j.spec.jobId(), j.spec.type(), id, at));
                        j.pending.add(id);
                      }
                      j.count(DeviceJobStatus.PENDING, ids.size());
                      j.status = JobStatus.RUNNING;
                      j.started = at;
                      writes.starts.add(new JobStore.Start(j.spec.jobId(), ids, at));
                      long selected = System.nanoTime();
                      saved(j)
                          .onComplete(
                              w -> {
                                LOG.info(
                                    "job started [job-id: {}, devices: {}, select-ms: {},"
                                        + " write-ms: {}]",
                                    j.spec.jobId(),
                                    ids.size(),
                                    (selected - t0) / 1_000_000,
                                    (System.nanoTime() - selected) / 1_000_000);
                                j.starting = false;
                                j.resetRate(System.nanoTime());
                                if (w.failed()) {
                                  LOG.warn("job start not stored [job-id: {}]", j.spec.jobId());
                                }
                              });
                    }));
  }

  private void run(Job j, String deviceId) {
    Future<JsonObject> op;
    try {
      if (j.spec.type() == JobType.SCHEDULE_UPDATE_TWIN) {
        op = targets.updateTwin(deviceId, j.spec.updateTwin()).map((JsonObject) null);
      } else {
        op = withLimit(targets.invokeMethod(deviceId, j.spec.method()), j.spec.rollout());
        op = op == null ? Future.failedFuture(new IllegalStateException("no result")) : op;
      }
    } catch (RuntimeException e) {
      op = Future.failedFuture(e);
    }
    op.onComplete(
        ar -> {
          if (Vertx.currentContext() == owner) {
            finished(j, deviceId, ar.succeeded() ? ar.result() : null, ar.cause());
          } else {
            owner.runOnContext(
                v -> finished(j, deviceId, ar.succeeded() ? ar.result() : null, ar.cause()));
          }
        });
  }

  /** A method call, as the outcome row shows it, failing at the job's per-device timeout. */
  private Future<JsonObject> withLimit(Future<MethodResult> call, Rollout r) {
    Future<JsonObject> outcome = call.map(JobEngine::methodOutcome);
    if (r.deviceTimeoutSeconds() == null) {
      return outcome;
    }
    Promise<JsonObject> p = Promise.promise();
    long t =
        vertx.setTimer(
            Duration.ofSeconds(r.deviceTimeoutSeconds()).toMillis(),
            x ->
                p.tryFail(
                    new HubException(
                        ErrorCode.GATEWAY_TIMEOUT,
                        "The device did not finish within the job's deviceTimeoutInSeconds ("
                            + r.deviceTimeoutSeconds()
                            + ")")));
    outcome.onComplete(
        ar -> {
          vertx.cancelTimer(t);
          if (ar.succeeded()) {
            p.tryComplete(ar.result());
          } else {
            p.tryFail(ar.cause());
          }
        });
    return p.future();
  }

  static JsonObject methodOutcome(MethodResult r) {
    return new JsonObject()
        .put(
            "deviceMethodResponse",
            new JsonObject().put("status", r.status()).put("payload", r.payloadValue()));
  }

  private void finished(Job j, String deviceId, JsonObject outcome, Throwable failure) {
    inFlight--;
    j.running--;
    Instant now = clock.instant();
    DeviceJob d = j.devices.get(deviceId);
    DeviceJob done;
    if (failure == null) {
      done = d.completed(now, outcome);
      j.succeeded++;
    } else {
      HubException e = HubException.from(failure);
      done = d.failed(now, null, e.errorCode().wireName(), e.getMessage());
      j.failed++;
    }
    j.devices.put(deviceId, done);
    writes.outcomes.add(done);
    Rollout.Abort abort = j.spec.rollout().abort();
    if (j.status == JobStatus.RUNNING
        && abort != null
        && abort.trips(j.succeeded + j.failed, j.failed)) {
      String reason =
          String.format(
              java.util.Locale.ROOT,
              "aborted: %d of %d finished devices failed (%.1f%%), above the threshold of %s%%"
                  + " after at least %d devices",
              j.failed,
              j.succeeded + j.failed,
              j.failed * 100.0 / (j.succeeded + j.failed),
              abort.failureThresholdPercentage(),
              abort.minNumberOfDevices());
      LOG.warn("job aborted [job-id: {}, reason: {}]", j.spec.jobId(), reason);
      end(j, JobStatus.FAILED, reason, DeviceJobStatus.CANCELLED, "JobAborted", reason);
    } else if (j.status == JobStatus.RUNNING && j.pending.isEmpty() && j.running == 0) {
      end(j, JobStatus.COMPLETED, null, null, null, null);
    }
  }

  /**
   * Ends a job; its pending devices become {@code pendingTo} (with the error given) and are written
   * with it. Devices still running finish and are recorded.
   */
  private void end(
      Job j,
      JobStatus status,
      String reason,
      DeviceJobStatus pendingTo,
      String code,
      String description) {
    Instant now = clock.instant();
    j.status = status;
    j.ended = now;
    j.failureReason = reason;
    j.statusMessage = null;
    if (pendingTo != null && !j.pending.isEmpty()) {
      for (String id : j.pending) {
        j.devices.put(id, j.devices.get(id).closed(pendingTo, now, code, description));
      }
      j.count(DeviceJobStatus.PENDING, -j.pending.size());
      j.count(pendingTo, j.pending.size());
      j.pending.clear();
      writes.closes.add(
          new JobStore.Close(
              j.spec.jobId(), DeviceJobStatus.PENDING, pendingTo, now, code, description));
    }
    active.remove(j);
    if (status != JobStatus.CANCELLED) {
      LOG.info(
          "job ended [job-id: {}, status: {}, succeeded: {}, failed: {}]",
          j.spec.jobId(),
          status.wire,
          j.succeeded,
          j.failed);
    }
    saved(j);
  }

  /** Queues the job's row for the next write; completes when written. */
  private Future<Void> saved(Job j) {
    writes.jobs.put(j.spec.jobId(), j.record());
    Promise<Void> p = Promise.promise();
    writes.waiters.add(p);
    if (!writing) {
      owner.runOnContext(v -> flush());
    }
    return p.future();
  }

  /** Writes what has gathered, one batch at a time; completes when this batch is written. */
  private Future<Void> flush() {
    if (writing) {
      return Future.succeededFuture();
    }
    Writes w = writes;
    if (w.jobs.isEmpty()
        && w.starts.isEmpty()
        && w.claims.isEmpty()
        && w.outcomes.isEmpty()
        && w.closes.isEmpty()) {
      w.waiters.forEach(Promise::complete);
      w.waiters.clear();
      return Future.succeededFuture();
    }
    writes = new Writes();
    writing = true;
    Promise<Void> done = Promise.promise();
    store
        .write(w.batch())
        .onComplete(
            ar ->
                owner.runOnContext(
                    v -> {
                      writing = false;
                      if (ar.failed()) {
                        LOG.warn("job changes not stored", ar.cause());
                      }
                      for (Promise<Void> p : w.waiters) {
                        p.handle(ar);
                      }
                      done.handle(ar);
                      if (!writes.waiters.isEmpty() || !writes.outcomes.isEmpty()) {
                        flush();
                      }
                    }));
    return done.future();
  }

  private <T> Future<T> onOwner(Supplier<Future<T>> op) {
    return Contexts.on(owner, op);
  }

  /** For tests: the ids of all jobs. */
  Collection<String> jobIds() {
    return jobs.keySet();
  }
}
