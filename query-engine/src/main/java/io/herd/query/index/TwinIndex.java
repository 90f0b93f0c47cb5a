package io.herd.query.index;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinKey;
import io.herd.query.eval.Accessor;
import io.herd.query.eval.Fields;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * An equality and range index on one twin path: value to the keys of the twins that have it. Values
 * are read with the query engine's own {@link Fields} accessors, so the index and a predicate agree
 * on what a twin's value is. Undefined values and objects are not indexed (no comparison with a
 * constant is true for them).
 *
 * <p>Readers never block; {@link #update} calls are serialised by a lock, so the change feed and
 * the initial build may both write. Each update sets a key to the value of the twin it is given, so
 * replaying the latest state of a twin always converges.
 */
public final class TwinIndex {
  private final String path;
  private final Accessor accessor;
  private final ConcurrentSkipListMap<IndexValue, Set<TwinKey>> byValue =
      new ConcurrentSkipListMap<>();
  private final ConcurrentHashMap<TwinKey, IndexValue> byKey = new ConcurrentHashMap<>();
  private final ReentrantLock writer = new ReentrantLock();

  private TwinIndex(String path, Accessor accessor) {
    this.path = path;
    this.accessor = accessor;
  }

  /**
   * An empty index on {@code path} ({@code tags.site}, {@code properties.reported.fw.version},
   * {@code status}, ...).
   *
   * @throws IllegalArgumentException when the path names nothing a twin has
   */
  public static TwinIndex on(String path) {
    return new TwinIndex(canonicalPath(path), resolve(path).accessor());
  }

  /** The canonical spelling of a twin path, as it appears in a bound query. */
  public static String canonicalPath(String path) {
    return String.join(".", resolve(path).canonical());
  }

  private static Fields.Resolved resolve(String path) {
    if (path == null || path.isBlank()) {
      throw new IllegalArgumentException("an index needs a twin path such as tags.site");
    }
    try {
      return Fields.resolve(path);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot index '" + path + "': " + e.getMessage(), e);
    }
  }

  /** The canonical path. */
  public String path() {
    return path;
  }

  /** How many twins have an indexed value. */
  public int size() {
    return byKey.size();
  }

  /** How many distinct values are indexed. */
  public int distinctValues() {
    return byValue.size();
  }

  /** Sets the entry of {@code key} to the value {@code twin} has now; null removes the twin. */
  public void update(TwinKey key, Twin twin) {
    writer.lock();
    try {
      set(key, twin);
    } finally {
      writer.unlock();
    }
  }

  /**
   * Sets the entry of {@code key} from the twin {@code current} returns for it (null if none),
   * looked up while holding the writer lock. The initial build uses it while the change feed is
   * already applying changes: a change committed after the look-up is applied after it, so a scan
   * never overwrites a newer value with an older one.
   */
  public void refresh(TwinKey key, Function<TwinKey, Twin> current) {
    writer.lock();
    try {
      set(key, current.apply(key));
    } finally {
      writer.unlock();
    }
  }

  private void set(TwinKey key, Twin twin) {
    IndexValue now = twin == null ? null : IndexValue.of(accessor.get(twin));
    IndexValue before = now == null ? byKey.remove(key) : byKey.put(key, now);
    if (before != null && before.equals(now)) {
      return;
    }
    if (before != null) {
      Set<TwinKey> keys = byValue.get(before);
      if (keys != null) {
        keys.remove(key);
        if (keys.isEmpty()) {
          byValue.remove(before);
        }
      }
    }
    if (now != null) {
      byValue.computeIfAbsent(now, v -> ConcurrentHashMap.newKeySet()).add(key);
    }
  }

  /**
   * The keys of twins whose value equals one of {@code values} (query values: String, Long, Double,
   * Boolean, NULL); unsorted.
   */
  public List<TwinKey> equalTo(Collection<?> values) {
    List<TwinKey> out = new ArrayList<>();
    for (Object v : values) {
      IndexValue iv = IndexValue.of(v);
      Set<TwinKey> keys = iv == null ? null : byValue.get(iv);
      if (keys != null) {
        out.addAll(keys);
      }
    }
    return out;
  }

  /** How many keys {@link #equalTo} would return, without copying them. */
  public long countEqualTo(Collection<?> values) {
    long n = 0;
    for (Object v : values) {
      IndexValue iv = IndexValue.of(v);
      Set<TwinKey> keys = iv == null ? null : byValue.get(iv);
      n += keys == null ? 0 : keys.size();
    }
    return n;
  }

  /**
   * The keys of twins whose value lies in a range of one type: both bounds are numbers or strings
   * (null for open), of the same type when both are given; unsorted.
   */
  public List<TwinKey> between(
      Object low, boolean lowInclusive, Object high, boolean highInclusive) {
    List<TwinKey> out = new ArrayList<>();
    for (Set<TwinKey> keys : range(low, lowInclusive, high, highInclusive).values()) {
      out.addAll(keys);
    }
    return out;
  }

  /** How many keys {@link #between} would return. */
  public long countBetween(Object low, boolean lowInclusive, Object high, boolean highInclusive) {
    long n = 0;
    for (Set<TwinKey> keys : range(low, lowInclusive, high, highInclusive).values()) {
      n += keys.size();
    }
    return n;
  }

  private NavigableMap<IndexValue, Set<TwinKey>> range(
      Object low, boolean lowInclusive, Object high, boolean highInclusive) {
    IndexValue lo = low == null ? null : IndexValue.of(low);
    IndexValue hi = high == null ? null : IndexValue.of(high);
    IndexValue any = lo != null ? lo : hi;
    if (any == null
        || (any.rank() != IndexValue.NUMBER && any.rank() != IndexValue.STRING)
        || (lo != null && hi != null && lo.rank() != hi.rank())) {
      throw new IllegalArgumentException("a range needs number or string bounds of one type");
    }
    int rank = any.rank();
    if (lo == null) {
      lo = IndexValue.lowest(rank);
      lowInclusive = true;
    }
    NavigableMap<IndexValue, Set<TwinKey>> m =
        hi == null
            ? byValue.subMap(lo, lowInclusive, IndexValue.lowest(rank + 1), false)
            : lo.compareTo(hi) > 0
                ? new ConcurrentSkipListMap<>()
                : byValue.subMap(lo, lowInclusive, hi, highInclusive);
    return m;
  }

  /** A snapshot of the value counts, for tests and diagnostics: value to number of twins. */
  public Map<Object, Integer> counts() {
    Map<Object, Integer> out = new java.util.LinkedHashMap<>();
    byValue.forEach((v, keys) -> out.put(v.value(), keys.size()));
    return out;
  }

  @Override
  public String toString() {
    return "index on " + path + " (" + size() + " twins)";
  }
}
