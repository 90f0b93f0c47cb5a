package io.herd.server.api;

import io.herd.query.CompiledQuery;
import io.herd.query.column.ColumnQuery;
import io.herd.query.column.TwinColumns;
import io.herd.twin.TwinChange;
import io.herd.twin.TwinStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The query columns of the hub ({@link TwinColumns}), kept current from the twin change feed like
 * {@link QueryIndexes}: the store subscribes to every change first, then takes each hot twin as it
 * is now, so changes made meanwhile are never lost; the feed runs before a change is acknowledged,
 * so a query issued after the acknowledgement reads it. The store is made when first needed: at
 * start-up for configured paths, else by the first scan. A scan then adds the columns of the paths
 * it reads alone, up to a number of them (the least recently used goes first); a path with too many
 * distinct values is left to the twins.
 */
public final class QueryColumns {
  private static final Logger LOG = LoggerFactory.getLogger(QueryColumns.class);

  private final Vertx vertx;
  private final TwinStore twins;
  private final List<String> pinned;
  private final int auto;
  private final int maxValues;
  private final AtomicBoolean opening = new AtomicBoolean();
  private final ReentrantLock building = new ReentrantLock();
  private volatile TwinColumns store;
  private volatile TwinStore.Subscription subscription;

  /**
   * @param pinned paths held from start-up
   * @param auto most further columns built as scans need them; 0 for none
   * @param maxValues most distinct values a column may hold
   */
  public QueryColumns(Vertx vertx, TwinStore twins, List<String> pinned, int auto, int maxValues) {
    this.vertx = vertx;
    this.twins = twins;
    this.pinned = List.copyOf(pinned);
    this.auto = auto;
    this.maxValues = maxValues;
  }

  /** Builds the configured columns, on a worker thread. */
  public Future<Void> start() {
    if (pinned.isEmpty()) {
      return Future.succeededFuture();
    }
    return vertx.executeBlocking(
        () -> {
          build(open(), pinned, true);
          return null;
        },
        false);
  }

  /** The store, if it exists yet. */
  public TwinColumns store() {
    return store;
  }

  /**
   * The columns for a query about to scan the twins, after building what is missing and allowed:
   * the store on first use, and a column for each path the query reads alone. Blocking: call on a
   * worker thread. Null when columns are off or another thread is still making the store; the
   * caller then scans the twins. A column another thread is building is not waited for: the query
   * reads that path from the twins meanwhile.
   */
  TwinColumns forScan(CompiledQuery q) {
    if (pinned.isEmpty() && auto == 0) {
      return null;
    }
    TwinColumns c = store;
    if (c == null) {
      if (!opening.compareAndSet(false, true)) {
        return null;
      }
      c = open();
    }
    if (auto == 0) {
      return c;
    }
    Set<String> ready = c.paths();
    List<String> missing = new ArrayList<>();
    for (String p : ColumnQuery.paths(q)) {
      if (!ready.contains(p) && !c.isRejected(p)) {
        missing.add(p);
      }
    }
    if (missing.isEmpty() || !building.tryLock()) {
      return c;
    }
    try {
      missing = missing.subList(0, Math.min(missing.size(), auto));
      while (c.unpinned() + missing.size() > auto && c.dropLeastRecentlyUsed()) {
        LOG.debug("query column dropped, least recently used [columns: {}]", c.paths());
      }
      build(c, missing, false);
    } finally {
      building.unlock();
    }
    return c;
  }

  private TwinColumns open() {
    long t0 = System.nanoTime();
    TwinColumns c = new TwinColumns(maxValues);
    subscription =
        twins.subscribeAll(
            change ->
                c.update(
                    change.key(), change.kind() == TwinChange.Kind.DELETED ? null : change.twin()));
    try {
      twins.forEach(t -> c.refresh(t.key(), k -> twins.find(k).orElse(null)));
    } catch (RuntimeException e) {
      subscription.close();
      opening.set(false); // the next scan tries again
      throw e;
    }
    store = c;
    LOG.info(
        "query column store ready [twins: {}, ms: {}]",
        c.size(),
        (System.nanoTime() - t0) / 1_000_000);
    return c;
  }

  private static void build(TwinColumns c, List<String> paths, boolean pin) {
    long t0 = System.nanoTime();
    Set<String> ready = c.add(paths, pin);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    for (String p : paths) {
      String path = TwinColumns.canonicalPath(p);
      if (ready.contains(path)) {
        LOG.info(
            "query column ready [path: {}, distinct-values: {}, ms: {}]",
            path,
            c.distinct(path),
            ms);
      } else {
        LOG.info("query column refused, too many distinct values [path: {}, ms: {}]", path, ms);
      }
    }
    LOG.info("query columns [columns: {}, heap-bytes: {}]", c.paths(), c.heapBytes());
  }

  /** Stops following the change feed. */
  public void close() {
    TwinStore.Subscription s = subscription;
    if (s != null) {
      s.close();
    }
  }
}
