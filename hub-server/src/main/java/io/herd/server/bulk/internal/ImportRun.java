package io.herd.server.bulk.internal;

import io.herd.registry.BulkError;
import io.herd.registry.BulkOperation;
import io.herd.registry.BulkResult;
import io.herd.server.bulk.BulkJob;
import io.herd.server.bulk.BulkJobStore;
import io.herd.server.bulk.ImportChunk;
import io.herd.server.bulk.ImportError;
import io.herd.server.internal.RegistryBulk;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Imports a device list: reads the input blob as a stream of lines, applies them in chunks of up to
 * 100 distinct devices through {@link RegistryBulk} (one registry commit each, then the twin
 * parts), and commits after each chunk the number of lines done together with the chunk's
 * per-device errors. Reading pauses while a chunk is applied, so memory holds one chunk and one
 * network or file buffer whatever the size of the list. At the end the errors go to the output blob
 * ({@code importErrors.log}).
 *
 * <p>A run that resumes (after a restart) reads the blob again and skips the lines committed as
 * done. When the hub stops in an orderly way, {@link #stop} lets the chunk in flight commit its
 * progress first. For a crash, each chunk is recorded before it is applied, in one write, with a
 * pre-image of every device it applies ({@link ChunkImages}); a run that finds a chunk recorded
 * beyond the lines done replays that chunk first: a device that is no longer as its pre-image is
 * one the interrupted attempt applied and counts as succeeded (an identity applied without its twin
 * part gets the twin part alone), the others are applied as that attempt would have applied them.
 * So no device is applied twice, however the hub stopped.
 */
public final class ImportRun implements JobRun {
  private static final Logger LOG = LoggerFactory.getLogger(ImportRun.class);

  /** Devices per chunk: the registry's bulk limit. */
  static final int CHUNK = 100;

  /** Longest line read; IoT Hub's twin limits keep real lines far below it. */
  static final int MAX_LINE_BYTES = 1024 * 1024;

  /** Errors collected before they are committed even without devices to apply. */
  private static final int MAX_PENDING_ERRORS = 1000;

  private static final int ERROR_PAGE = 1000;

  private final BulkJob job;
  private final JobStorage storage;
  private final RegistryBulk bulk;
  private final ChunkImages images;
  private final BulkJobStore store;
  private final Promise<Outcome> done = Promise.promise();
  private final LineSplitter splitter = new LineSplitter(MAX_LINE_BYTES);
  private final ArrayDeque<LineSplitter.Line> pending = new ArrayDeque<>();

  private BlobLocation in;
  private BlobLocation out;
  private JobStorage.Input input;
  private boolean ended;
  private boolean busy;
  private boolean settled;
  private boolean stopRequested;
  private boolean cancelRequested;
  private Throwable inputFailure;

  /** The chunk a crash interrupted, to replay before anything else; null when there is none. */
  private ImportChunk interrupted;

  // The chunk being collected.
  private List<BulkOperation> ops = new ArrayList<>();
  private Map<String, Long> lineOf = new HashMap<>();
  private List<ImportError> errors = new ArrayList<>();

  private long consumedLine;
  private long consumedBytes;
  private long committedLine;
  private long succeeded;
  private long failed;
  private int progress;

  public ImportRun(
      BulkJob job, JobStorage storage, RegistryBulk bulk, ChunkImages images, BulkJobStore store) {
    this.job = job;
    this.storage = storage;
    this.bulk = bulk;
    this.images = images;
    this.store = store;
    this.committedLine = job.linesDone();
    this.succeeded = job.succeeded();
    this.failed = job.failed();
    this.progress = job.progress();
  }

  @Override
  public Future<Outcome> run() {
    store
        .startedChunk(job.jobId())
        .compose(
            chunk -> {
              // A chunk within the lines done committed its progress; only one beyond them did not.
              interrupted = chunk.filter(c -> c.throughLine() > job.linesDone()).orElse(null);
              return storage.locate("inputBlobContainerUri", job.inputContainer(), job.inputBlob());
            },
            e -> Future.failedFuture("cannot read the job's last chunk: " + JobRun.reason(e)))
        .compose(
            loc -> {
              in = loc;
              return storage.locate(
                  "outputBlobContainerUri", job.outputContainer(), job.outputBlob());
            })
        .compose(
            loc -> {
              out = loc;
              return storage
                  .open(in)
                  .recover(
                      e ->
                          Future.failedFuture(
                              "cannot read " + in.display() + ": " + JobRun.reason(e)));
            })
        .onComplete(
            ar -> {
              if (ar.failed()) {
                settle(new Outcome(End.FAILED, progress, JobRun.reason(ar.cause())));
              } else {
                start(ar.result());
              }
            });
    return done.future();
  }

  @Override
  public void stop() {
    stopRequested = true;
    pump();
  }

  @Override
  public void cancel() {
    cancelRequested = true;
    pump();
  }

  private void start(JobStorage.Input opened) {
    if (settled) {
      opened.abort().run();
      return;
    }
    input = opened;
    if (stopRequested || cancelRequested) {
      pump();
      return;
    }
    ReadStream<Buffer> stream = opened.stream();
    stream.handler(
        data -> {
          splitter.feed(data, pending::add);
          stream.pause();
          pump();
        });
    stream.endHandler(
        v -> {
          ended = true;
          splitter.finish(pending::add);
          pump();
        });
    stream.exceptionHandler(
        e -> {
          inputFailure = e;
          pump();
        });
    stream.resume();
  }

  /** Works through the lines read so far; called again whenever a step completes. */
  private void pump() {
    try {
      work();
    } catch (RuntimeException e) {
      // A bug; the job fails instead of hanging, and the hub can still stop.
      LOG.error("import failed [job: {}]", job.jobId(), e);
      busy = false;
      settle(new Outcome(End.FAILED, progress, "internal error: " + JobRun.reason(e)));
    }
  }

  private void work() {
    if (busy || settled || input == null && !(stopRequested || cancelRequested)) {
      return;
    }
    if (cancelRequested) {
      settle(new Outcome(End.CANCELLED, progress, null));
      return;
    }
    if (stopRequested) {
      settle(new Outcome(End.STOPPED, progress, null));
      return;
    }
    if (inputFailure != null) {
      settle(
          new Outcome(
              End.FAILED,
              progress,
              "reading "
                  + in.display()
                  + " failed after line "
                  + consumedLine
                  + ": "
                  + JobRun.reason(inputFailure)));
      return;
    }
    while (!pending.isEmpty()) {
      LineSplitter.Line line = pending.peek();
      if (line.number() <= job.linesDone()) {
        // Committed by an earlier run of this job.
        pending.poll();
        consumed(line);
        continue;
      }
      DeviceLinesCodec.Entry entry =
          DeviceLinesCodec.parse(line.number(), line.text(), MAX_LINE_BYTES);
      if (entry.op() != null && lineOf.containsKey(entry.op().device().deviceId())) {
        // A device appears once per registry call; this line starts the next chunk.
        flush();
        return;
      }
      pending.poll();
      consumed(line);
      if (entry.error() != null) {
        errors.add(entry.error());
      } else if (entry.op() != null) {
        ops.add(entry.op());
        lineOf.put(entry.op().device().deviceId(), line.number());
      }
      if (ops.size() >= CHUNK
          || errors.size() >= MAX_PENDING_ERRORS
          || interrupted != null && consumedLine >= interrupted.throughLine()) {
        flush();
        return;
      }
    }
    if (!ended) {
      input.stream().resume();
    } else if (!ops.isEmpty() || !errors.isEmpty() || consumedLine > committedLine) {
      flush();
    } else {
      writeErrorLog();
    }
  }

  private void consumed(LineSplitter.Line line) {
    consumedLine = line.number();
    consumedBytes = line.end();
  }

  /**
   * Records the chunk collected, applies it (or replays the interrupted one), then commits the
   * lines it covers with its errors.
   */
  private void flush() {
    busy = true;
    List<BulkOperation> chunk = ops;
    Map<String, Long> lines = lineOf;
    List<ImportError> chunkErrors = errors;
    long through = consumedLine;
    int percent = input.size() > 0 ? (int) Math.min(99, consumedBytes * 100 / input.size()) : 0;
    ops = new ArrayList<>();
    lineOf = new HashMap<>();
    errors = new ArrayList<>();
    ImportChunk replaying = interrupted;
    long[] counts = new long[2];
    record(chunk, through, replaying)
        .compose(
            running -> {
              if (!running) {
                return Future.succeededFuture(false);
              }
              return apply(chunk, through, replaying)
                  .compose(
                      result -> {
                        Set<String> failedIds = new HashSet<>();
                        for (BulkError e : result.errors()) {
                          long line = lines.get(e.deviceId());
                          if (failedIds.add(e.deviceId())) {
                            chunkErrors.add(
                                new ImportError(
                                    line,
                                    e.deviceId(),
                                    e.errorCode().wireName(),
                                    "Line " + line + ": " + e.message()));
                          }
                        }
                        chunkErrors.sort(Comparator.comparingLong(ImportError::line));
                        counts[0] = succeeded + chunk.size() - failedIds.size();
                        counts[1] = failed + chunkErrors.size();
                        return store.progress(
                            job.jobId(),
                            through,
                            Math.max(percent, progress),
                            counts[0],
                            counts[1],
                            chunkErrors);
                      });
            })
        .onComplete(
            ar -> {
              busy = false;
              if (ar.failed()) {
                settle(
                    new Outcome(
                        End.FAILED,
                        progress,
                        "applying the lines up to "
                            + through
                            + " failed: "
                            + JobRun.reason(ar.cause())));
                return;
              }
              if (!ar.result()) {
                // No longer running: cancelled meanwhile.
                cancelRequested = true;
              } else {
                committedLine = through;
                succeeded = counts[0];
                failed = counts[1];
                progress = Math.max(percent, progress);
                if (replaying != null && through >= replaying.throughLine()) {
                  interrupted = null;
                }
              }
              pump();
            });
  }

  /**
   * Records a chunk about to be applied with its devices' pre-images, so that a crash before its
   * progress commits leaves enough to replay it; false when the job no longer runs. The interrupted
   * chunk keeps the record it has: a crash while it is replayed replays it again against the same
   * pre-images.
   */
  private Future<Boolean> record(List<BulkOperation> chunk, long through, ImportChunk replaying) {
    if (chunk.isEmpty() || replaying != null) {
      return Future.succeededFuture(true);
    }
    return store.startChunk(job.jobId(), new ImportChunk(committedLine, through, images.of(chunk)));
  }

  /** Applies a chunk; the interrupted one without what its first attempt applied. */
  private Future<BulkResult> apply(List<BulkOperation> chunk, long through, ImportChunk replaying) {
    if (chunk.isEmpty()) {
      return Future.succeededFuture(new BulkResult(List.of()));
    }
    if (replaying == null) {
      return bulk.apply(chunk);
    }
    ChunkImages.Replay replay = images.replay(chunk, replaying);
    LOG.info(
        "replaying an interrupted chunk [job: {}, lines: {}-{}, applied-before: {},"
            + " twin-parts-only: {}, to-apply: {}]",
        job.jobId(),
        committedLine + 1,
        through,
        replay.applied(),
        replay.twinPartsOnly().size(),
        replay.apply().size());
    return bulk.apply(replay.apply(), replay.twinPartsOnly());
  }

  /** Writes every error of the job to the output blob and completes. */
  private void writeErrorLog() {
    busy = true;
    storage
        .create(out, job.jobId())
        .compose(
            output ->
                writeErrors(output, 0)
                    .compose(v -> output.publish())
                    .recover(e -> output.discard().compose(v -> Future.failedFuture(e))))
        .onComplete(
            ar -> {
              busy = false;
              if (ar.failed()) {
                if (stopRequested || cancelRequested) {
                  pump();
                  return;
                }
                settle(
                    new Outcome(
                        End.FAILED,
                        progress,
                        "cannot write " + out.display() + ": " + JobRun.reason(ar.cause())));
                return;
              }
              String summary =
                  failed == 0
                      ? null
                      : failed
                          + " of "
                          + (succeeded + failed)
                          + " devices failed to import; see "
                          + job.outputBlob();
              settle(new Outcome(End.COMPLETED, 100, summary));
            });
  }

  private Future<Void> writeErrors(JobStorage.Output output, long afterLine) {
    return store
        .errors(job.jobId(), afterLine, ERROR_PAGE)
        .compose(
            page -> {
              if (page.isEmpty()) {
                return Future.succeededFuture();
              }
              Buffer text = Buffer.buffer();
              for (ImportError e : page) {
                text.appendBuffer(DeviceLinesCodec.errorLine(e).toBuffer()).appendByte((byte) '\n');
              }
              long last = page.get(page.size() - 1).line();
              return output.write(text).compose(v -> writeErrors(output, last));
            });
  }

  private void settle(Outcome outcome) {
    if (settled) {
      return;
    }
    settled = true;
    if (input != null && !ended) {
      input.abort().run();
    }
    done.complete(outcome);
  }
}
