package io.herd.server.api;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.query.index.TwinIndex;
import io.herd.twin.TwinChange;
import io.herd.twin.TwinStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The query indexes of the hub, kept current from the twin change feed. An index is built on a
 * worker thread: it subscribes to every change first, then scans the hot twins and sets each key
 * from the twin's current state, so changes made during the build are never lost. Only built
 * indexes are offered to the planner.
 */
public final class QueryIndexes {
  private static final Logger LOG = LoggerFactory.getLogger(QueryIndexes.class);

  private record Entry(TwinIndex index, TwinStore.Subscription subscription) {}

  private final Vertx vertx;
  private final TwinStore twins;
  private final Map<String, Entry> ready = new ConcurrentHashMap<>();

  public QueryIndexes(Vertx vertx, TwinStore twins) {
    this.vertx = vertx;
    this.twins = twins;
  }

  /** The built indexes by canonical path, for {@link io.herd.query.index.IndexPlanner}. */
  public Map<String, TwinIndex> indexes() {
    Map<String, TwinIndex> out = new java.util.HashMap<>();
    ready.forEach((path, e) -> out.put(path, e.index()));
    return out;
  }

  /**
   * Builds the index on {@code path}, or returns the existing one.
   *
   * @throws HubException ARGUMENT_INVALID when the path names nothing a twin has
   */
  public Future<TwinIndex> create(String path) {
    String canonical = canonical(path);
    Entry existing = ready.get(canonical);
    if (existing != null) {
      return Future.succeededFuture(existing.index());
    }
    return vertx.executeBlocking(() -> build(canonical), false);
  }

  private static String canonical(String path) {
    try {
      return TwinIndex.canonicalPath(path);
    } catch (IllegalArgumentException e) {
      throw HubException.badRequest(e.getMessage());
    }
  }

  private TwinIndex build(String path) {
    TwinIndex index = TwinIndex.on(path);
    TwinStore.Subscription subscription = twins.subscribeAll(change -> apply(index, change));
    twins.forEach(t -> index.refresh(t.key(), k -> twins.find(k).orElse(null)));
    Entry raced = ready.putIfAbsent(path, new Entry(index, subscription));
    if (raced != null) {
      subscription.close(); // two requests built it at once; keep the first
      return raced.index();
    }
    LOG.info("query index ready [path: {}, twins: {}]", path, index.size());
    return index;
  }

  private static void apply(TwinIndex index, TwinChange change) {
    index.update(change.key(), change.kind() == TwinChange.Kind.DELETED ? null : change.twin());
  }

  /** Builds every index in {@code paths}; fails on the first unknown path. */
  public Future<Void> createAll(List<String> paths) {
    Future<?> all = Future.succeededFuture();
    for (String p : paths) {
      all = all.compose(v -> create(p));
    }
    return all.mapEmpty();
  }

  /**
   * Drops the index on {@code path}.
   *
   * @throws HubException GENERIC_NOT_FOUND when there is none
   */
  public TwinIndex drop(String path) {
    String canonical = canonical(path);
    Entry e = ready.remove(canonical);
    if (e == null) {
      throw new HubException(ErrorCode.GENERIC_NOT_FOUND, "No query index on " + canonical);
    }
    e.subscription().close();
    LOG.info("query index dropped [path: {}]", canonical);
    return e.index();
  }
}
