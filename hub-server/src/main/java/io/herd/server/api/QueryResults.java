package io.herd.server.api;

import io.herd.core.twin.Twin;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Queries' matching twins in key order, kept for a while under a random id that continuation tokens
 * carry, so that the next pages of a query resume where the last one stopped instead of scanning
 * again. Bounded by entries, by twins held in all and by idle time; an entry that is gone only
 * costs its query one more scan.
 */
final class QueryResults {
  /**
   * One query's matches in key order, as its pass read them; {@code query} is its text and {@code
   * changes} the count of the query columns' change feed then ({@code -1} when unknown).
   */
  static final class Entry {
    final String id;
    final String query;
    final Twin[] twins;
    final long changes;
    volatile long lastUsed;

    private Entry(String id, String query, Twin[] twins, long changes, long now) {
      this.id = id;
      this.query = query;
      this.twins = twins;
      this.changes = changes;
      this.lastUsed = now;
    }
  }

  private final Map<String, Entry> entries = new ConcurrentHashMap<>();
  private final ReentrantLock evicting = new ReentrantLock();
  private final SecureRandom random = new SecureRandom();
  private final int maxEntries;
  private final long maxKeys;
  private final long idleNanos;
  private final LongSupplier nanoTime;

  QueryResults(int maxEntries, long maxKeys, long idleNanos, LongSupplier nanoTime) {
    this.maxEntries = maxEntries;
    this.maxKeys = maxKeys;
    this.idleNanos = idleNanos;
    this.nanoTime = nanoTime;
  }

  /** Defaults: 64 queries, 8 million twins in all, 5 minutes idle. */
  static QueryResults defaults() {
    return new QueryResults(64, 8_000_000, 300_000_000_000L, System::nanoTime);
  }

  /** Keeps a query's matches; returns the new entry. */
  Entry put(String query, Twin[] twins, long changes) {
    byte[] id = new byte[12];
    random.nextBytes(id);
    Entry e =
        new Entry(
            Base64.getUrlEncoder().withoutPadding().encodeToString(id),
            query,
            twins,
            changes,
            nanoTime.getAsLong());
    evicting.lock();
    try {
      entries.put(e.id, e);
      evict();
    } finally {
      evicting.unlock();
    }
    return e;
  }

  /** The entry with this id if it is still kept and belongs to this query text, else null. */
  Entry get(String id, String query) {
    Entry e = id == null ? null : entries.get(id);
    if (e == null || !e.query.equals(query)) {
      return null;
    }
    long now = nanoTime.getAsLong();
    if (now - e.lastUsed > idleNanos) {
      entries.remove(id, e);
      return null;
    }
    e.lastUsed = now;
    return e;
  }

  int size() {
    return entries.size();
  }

  private void evict() {
    long now = nanoTime.getAsLong();
    entries.values().removeIf(e -> now - e.lastUsed > idleNanos);
    long keys = 0;
    for (Entry e : entries.values()) {
      keys += e.twins.length;
    }
    while (entries.size() > maxEntries || (keys > maxKeys && entries.size() > 1)) {
      Entry oldest = null;
      for (Entry e : entries.values()) {
        if (oldest == null || e.lastUsed < oldest.lastUsed) {
          oldest = e;
        }
      }
      entries.remove(oldest.id);
      keys -= oldest.twins.length;
    }
  }
}
