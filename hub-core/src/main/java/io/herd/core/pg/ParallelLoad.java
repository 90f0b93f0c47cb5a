package io.herd.core.pg;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Streams a large table at start-up and decodes its rows on a small worker pool, so loading
 * millions of JSON documents uses every core instead of one event loop. The stream pauses while too
 * many chunks wait for decoding, so memory stays bounded however fast PostgreSQL sends.
 */
public final class ParallelLoad {
  private static final int CHUNK = 5_000;
  private static final int MAX_CHUNKS_IN_FLIGHT = 4;

  private ParallelLoad() {}

  /**
   * Runs {@code sql} in a read-only transaction.
   *
   * @param extract copies what is needed out of a row; runs on the event loop, must be cheap
   * @param decode turns the extracted value into objects and hands them on; runs on worker threads,
   *     concurrently with itself
   */
  public static <R> Future<Void> stream(
      Pool pool, String sql, Function<Row, R> extract, Consumer<R> decode) {
    int workers = Math.max(1, Runtime.getRuntime().availableProcessors());
    AtomicInteger threads = new AtomicInteger();
    ExecutorService pool0 =
        Executors.newFixedThreadPool(
            workers,
            r -> {
              Thread t = new Thread(r, "herd-load-" + threads.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    return pool.withTransaction(
            conn ->
                conn.prepare(sql)
                    .compose(
                        ps -> {
                          Promise<Void> done = Promise.promise();
                          RowStream<Row> rows = ps.createStream(CHUNK);
                          State<R> state = new State<>(rows, pool0, decode, done);
                          rows.exceptionHandler(state::fail);
                          rows.endHandler(v -> state.end());
                          rows.handler(row -> state.add(extract.apply(row)));
                          return done.future().eventually(() -> ps.close());
                        }))
        .eventually(
            () -> {
              pool0.shutdown();
              return Future.succeededFuture();
            });
  }

  /** Chunking and flow control; touched from the event loop and from workers. */
  private static final class State<R> {
    private final RowStream<Row> rows;
    private final ExecutorService workers;
    private final Consumer<R> decode;
    private final Promise<Void> done;
    private final io.vertx.core.Context context = io.vertx.core.Vertx.currentContext();
    private final AtomicInteger inFlight = new AtomicInteger();
    private List<R> chunk = new ArrayList<>(CHUNK);
    private volatile boolean ended;
    private volatile boolean paused;

    State(RowStream<Row> rows, ExecutorService workers, Consumer<R> decode, Promise<Void> done) {
      this.rows = rows;
      this.workers = workers;
      this.decode = decode;
      this.done = done;
    }

    void add(R item) {
      chunk.add(item);
      if (chunk.size() >= CHUNK) {
        flush();
      }
    }

    private void flush() {
      if (chunk.isEmpty()) {
        return;
      }
      List<R> batch = chunk;
      chunk = new ArrayList<>(CHUNK);
      if (inFlight.incrementAndGet() >= MAX_CHUNKS_IN_FLIGHT) {
        paused = true;
        rows.pause();
      }
      workers.execute(
          () -> {
            try {
              batch.forEach(decode);
            } catch (RuntimeException e) {
              fail(e);
            }
            int left = inFlight.decrementAndGet();
            if (paused && left < MAX_CHUNKS_IN_FLIGHT / 2) {
              paused = false;
              context.runOnContext(v -> rows.resume());
            }
            if (left == 0 && ended) {
              context.runOnContext(v -> done.tryComplete());
            }
          });
    }

    void end() {
      flush();
      ended = true;
      if (inFlight.get() == 0) {
        done.tryComplete();
      }
    }

    void fail(Throwable t) {
      context.runOnContext(v -> done.tryFail(t));
    }
  }
}
