package io.herd.server.bulk.internal;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.CopyOptions;
import io.vertx.core.file.FileSystem;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.streams.ReadStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * Reads and writes the blobs of jobs, without blocking an event loop: files through Vert.x's
 * asynchronous file system, HTTP(S) blobs with GET and PUT (with {@code x-ms-blob-type: BlockBlob},
 * so Azure SAS container URLs work). Outputs go to a temporary file first and replace the blob
 * whole when published, so a job that stops half way leaves no half-written blob. Path checks run
 * on a small named worker pool, which also serves the jobs' CPU-heavy steps.
 */
public final class JobStorage implements AutoCloseable {
  /** A blob server that sends nothing for this long fails the job. */
  private static final long IDLE_TIMEOUT_MS = 10 * 60 * 1000L;

  private final Vertx vertx;
  private final Path jobsDir;
  private final Path workDir;
  private final HttpClient http;
  private final WorkerExecutor workers;

  /**
   * @param jobsDir the real path of the only directory file URIs may reach
   * @param workDir where outputs bound for HTTP(S) are assembled
   */
  public JobStorage(Vertx vertx, Path jobsDir, Path workDir) {
    this.vertx = vertx;
    this.jobsDir = jobsDir;
    this.workDir = workDir;
    this.http =
        vertx.createHttpClient(
            new HttpClientOptions().setConnectTimeout(30_000).setKeepAlive(true));
    this.workers = vertx.createSharedWorkerExecutor("herd-bulk-jobs", 2);
  }

  /** Runs {@code task} on the jobs' worker pool; completes on the caller's context. */
  public <T> Future<T> onWorker(Callable<T> task) {
    return workers.executeBlocking(task, false);
  }

  /** {@link BlobLocations#locate}, on a worker thread. */
  public Future<BlobLocation> locate(String field, String containerUri, String blobName) {
    return onWorker(() -> BlobLocations.locate(jobsDir, field, containerUri, blobName));
  }

  /**
   * An input blob being read.
   *
   * @param stream paused; resume it after setting its handlers
   * @param size bytes, -1 when the server did not say
   * @param abort stops reading early
   */
  public record Input(ReadStream<Buffer> stream, long size, Runnable abort) {}

  /** Opens a blob for reading; fails when it cannot be read, saying why. */
  public Future<Input> open(BlobLocation blob) {
    if (blob instanceof BlobLocation.LocalFile f) {
      FileSystem fs = vertx.fileSystem();
      String path = f.file().toString();
      return fs.props(path)
          .compose(
              props -> {
                if (props.isDirectory()) {
                  return Future.failedFuture("it is a directory");
                }
                return fs.open(path, new OpenOptions().setRead(true).setWrite(false))
                    .map(
                        file -> {
                          file.pause();
                          return new Input(file, props.size(), file::close);
                        });
              });
    }
    String url = ((BlobLocation.Remote) blob).url();
    return http.request(
            new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setAbsoluteURI(url)
                .setIdleTimeout(IDLE_TIMEOUT_MS))
        .compose(req -> req.send())
        .compose(
            response -> {
              if (response.statusCode() != 200) {
                abort(response);
                return Future.failedFuture(answer("GET", response));
              }
              response.pause();
              String length = response.getHeader(HttpHeaders.CONTENT_LENGTH);
              long size = -1;
              if (length != null) {
                try {
                  size = Long.parseLong(length.trim());
                } catch (NumberFormatException e) {
                  size = -1;
                }
              }
              return Future.succeededFuture(new Input(response, size, () -> abort(response)));
            });
  }

  /**
   * Stops a response early; the reset this causes is expected, not an error to log. A response that
   * has ended already needs nothing.
   */
  private static void abort(HttpClientResponse response) {
    try {
      response.exceptionHandler(e -> {});
    } catch (IllegalStateException ended) {
      return;
    }
    response.request().reset();
  }

  private static String answer(String method, HttpClientResponse response) {
    return method + " answered " + response.statusCode() + " " + response.statusMessage();
  }

  /** Starts an output blob; nothing is visible at {@code blob} until it is published. */
  public Future<Output> create(BlobLocation blob, String jobId) {
    FileSystem fs = vertx.fileSystem();
    Path temp;
    if (blob instanceof BlobLocation.LocalFile f) {
      // Beside the blob, so publishing is an atomic rename.
      temp = f.file().resolveSibling("." + f.file().getFileName() + "." + jobId + ".part");
    } else {
      temp = workDir.resolve(jobId + ".part");
    }
    return fs.mkdirs(temp.getParent().toString())
        .compose(
            v ->
                fs.open(
                    temp.toString(),
                    new OpenOptions().setWrite(true).setCreate(true).setTruncateExisting(true)))
        .map(file -> new Output(blob, temp, file));
  }

  /** An output blob being written. */
  public final class Output {
    private final BlobLocation blob;
    private final Path temp;
    private final AsyncFile file;

    private Output(BlobLocation blob, Path temp, AsyncFile file) {
      this.blob = blob;
      this.temp = temp;
      this.file = file;
    }

    public Future<Void> write(Buffer data) {
      return file.write(data);
    }

    /** Replaces the blob with what was written. */
    public Future<Void> publish() {
      FileSystem fs = vertx.fileSystem();
      Future<Void> closed = file.close();
      if (blob instanceof BlobLocation.LocalFile f) {
        return closed.compose(
            v ->
                fs.move(
                    temp.toString(),
                    f.file().toString(),
                    new CopyOptions().setReplaceExisting(true).setAtomicMove(true)));
      }
      String url = ((BlobLocation.Remote) blob).url();
      return closed
          .compose(v -> fs.props(temp.toString()))
          .compose(
              props ->
                  fs.open(temp.toString(), new OpenOptions().setRead(true).setWrite(false))
                      .compose(body -> put(url, body, props.size()).eventually(body::close)))
          .eventually(() -> fs.delete(temp.toString()).recover(e -> Future.succeededFuture()));
    }

    private Future<Void> put(String url, AsyncFile body, long size) {
      return http.request(
              new RequestOptions()
                  .setMethod(HttpMethod.PUT)
                  .setAbsoluteURI(url)
                  .setIdleTimeout(IDLE_TIMEOUT_MS)
                  .putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(size))
                  .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
                  .putHeader("x-ms-blob-type", "BlockBlob"))
          .compose(req -> req.send(body))
          .compose(
              response ->
                  response
                      .body()
                      .compose(
                          b ->
                              response.statusCode() / 100 == 2
                                  ? Future.succeededFuture()
                                  : Future.failedFuture(answer("PUT", response))));
    }

    /** Drops what was written; the blob stays as it was. */
    public Future<Void> discard() {
      FileSystem fs = vertx.fileSystem();
      return file.close()
          .recover(e -> Future.succeededFuture())
          .compose(v -> fs.delete(temp.toString()))
          .recover(e -> Future.succeededFuture());
    }
  }

  /** Aborts HTTP transfers in flight and stops the worker pool. */
  @Override
  public void close() {
    http.close();
    workers.close();
  }
}
