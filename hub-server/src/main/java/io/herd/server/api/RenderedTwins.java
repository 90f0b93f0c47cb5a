package io.herd.server.api;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinJsonWriter;
import io.herd.core.twin.TwinKey;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Twins rendered as JSON for query pages, kept by twin snapshot: a {@link Twin} is immutable, so
 * the bytes of one snapshot never change, and a changed twin is a new snapshot whose look-up
 * misses. Bounded by bytes in two generations: look-ups try the young one, then the old one (moving
 * a hit there to the young one); when the young one holds half the bound it becomes the old one and
 * the former old one is dropped. Thread-safe; a race at worst renders a twin twice.
 */
final class RenderedTwins {
  private record Entry(Twin twin, byte[] json) {}

  private static final class Generation {
    final ConcurrentHashMap<TwinKey, Entry> entries = new ConcurrentHashMap<>();
    final AtomicLong bytes = new AtomicLong();
  }

  private final long maxBytes;
  private final ReentrantLock aging = new ReentrantLock();
  private volatile Generation young = new Generation();
  private volatile Generation old = new Generation();
  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong misses = new AtomicLong();

  /**
   * @param maxBytes the most bytes kept, about; 0 keeps nothing
   */
  RenderedTwins(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** Appends {@code t} as JSON to {@code out}, from what is kept or rendered now (and kept). */
  void write(TwinJsonWriter out, Twin t, TwinJsonWriter scratch) {
    if (maxBytes == 0) {
      out.twin(t);
      return;
    }
    byte[] json = get(t);
    if (json == null) {
      misses.incrementAndGet();
      json = scratch.reset().twin(t).toByteArray();
      put(t, json);
    } else {
      hits.incrementAndGet();
    }
    out.raw(json);
  }

  private byte[] get(Twin t) {
    Entry e = young.entries.get(t.key());
    if (e != null && e.twin == t) {
      return e.json;
    }
    e = old.entries.get(t.key());
    if (e != null && e.twin == t) {
      put(t, e.json);
      return e.json;
    }
    return null;
  }

  private void put(Twin t, byte[] json) {
    Generation g = young;
    Entry before = g.entries.put(t.key(), new Entry(t, json));
    g.bytes.addAndGet(json.length - (before == null ? 0 : before.json.length));
    if (g.bytes.get() > maxBytes / 2 && aging.tryLock()) {
      try {
        if (young == g) {
          old = g;
          young = new Generation();
        }
      } finally {
        aging.unlock();
      }
    }
  }

  long hits() {
    return hits.get();
  }

  long misses() {
    return misses.get();
  }

  /** Bytes kept now, both generations. */
  long bytes() {
    return young.bytes.get() + old.bytes.get();
  }
}
