package io.herd.query.column;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinKey;
import io.herd.query.eval.Fields;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Twins in dense slots, and per twin path a dictionary-coded column over the slots, so that a scan
 * reads a few small arrays in order instead of walking a million twins' trees (see {@link
 * ColumnQuery}). Each slot also keeps its twin, as of the latest change, for what columns cannot
 * answer and for the rows a query returns.
 *
 * <p>The caller feeds every committed change to {@link #update} (and the initial state through
 * {@link #refresh}); each call sets a slot from the twin it is given, under one writer lock, so
 * replaying the latest state of a twin always converges. Readers take a {@link Snapshot} under the
 * same lock, so every change whose {@code update} returned before is visible to them; later changes
 * may or may not be, per slot and column (a query re-checks the rows it returns on the twin
 * itself). Heap: about 14 bytes per twin for the slots, 4 per twin and column, plus the
 * dictionaries; see {@link #heapBytes}.
 */
public final class TwinColumns {
  static final byte FREE = 0;
  static final byte DEVICE = 1;
  static final byte MODULE = 2;

  /** Slots a column build fills per hold of the writer lock, so writers wait little. */
  private static final int CHUNK = 8192;

  private final ReentrantLock writer = new ReentrantLock();
  private final int maxDistinct;

  private Twin[] twins = new Twin[1024];
  private byte[] kinds = new byte[1024];

  /** Slots ever used: {@code [0, high)}; free ones among them are in {@link #free}. */
  private int high;

  private int[] free = new int[64];
  private int freeCount;

  /** Open addressing, linear probing: slot + 1 per entry, 0 for empty. */
  private int[] table = new int[2048];

  private int live;

  /** Calls of {@link #update} and {@link #refresh} so far; written under the writer lock. */
  private volatile long changes;

  private final LinkedHashMap<String, Column> columns = new LinkedHashMap<>();
  private final Set<String> rejected = new TreeSet<>();

  /**
   * @param maxDistinct the most distinct values a column may hold; a path with more is dropped (and
   *     rejected from then on), since its dictionary would cost more than it saves
   */
  public TwinColumns(int maxDistinct) {
    if (maxDistinct < 1) {
      throw new IllegalArgumentException("maxDistinct must be positive");
    }
    this.maxDistinct = maxDistinct;
  }

  /** The canonical spelling of a twin path, as it appears in a bound query. */
  public static String canonicalPath(String path) {
    return String.join(".", Fields.resolve(path).canonical());
  }

  // ---- writers

  /** Sets the slot of {@code key} to {@code twin}; null removes the twin. */
  public void update(TwinKey key, Twin twin) {
    writer.lock();
    try {
      set(key, twin);
    } finally {
      writer.unlock();
    }
  }

  /**
   * Sets the slot of {@code key} from the twin {@code current} returns for it (null if none),
   * looked up while holding the writer lock: a change committed after the look-up is applied after
   * it, so an initial load racing the change feed never overwrites a newer twin with an older one.
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
    changes++; // one writer at a time: the lock is held
    int slot = find(key);
    if (twin == null) {
      if (slot >= 0) {
        release(slot, key);
      }
      return;
    }
    if (slot < 0) {
      slot = allocate(key, twin);
      for (Column c : columns.values()) {
        if (slot < c.filled) {
          c.add(slot, twin);
        }
      }
    } else {
      twins[slot] = twin;
      for (Column c : columns.values()) {
        if (slot < c.filled) {
          c.change(slot, twin);
        }
      }
    }
    housekeep();
  }

  /** Drops columns with too many values, compacts those with many dead codes. */
  private void housekeep() {
    for (Iterator<Map.Entry<String, Column>> it = columns.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Column> e = it.next();
      Column c = e.getValue();
      if (c.distinct > maxDistinct) {
        it.remove();
        rejected.add(e.getKey());
      } else if (c.wasteful()) {
        e.setValue(c.compacted(Math.min(high, c.filled)));
      }
    }
  }

  private int allocate(TwinKey key, Twin twin) {
    int slot;
    if (freeCount > 0) {
      slot = free[--freeCount];
    } else {
      if (high == twins.length) {
        growSlots();
      }
      slot = high++;
    }
    twins[slot] = twin;
    kinds[slot] = key.isModule() ? MODULE : DEVICE;
    live++;
    if (live * 5 > table.length * 3) {
      rehash(table.length * 2); // takes in the new slot too
    } else {
      insert(key, slot);
    }
    return slot;
  }

  private void release(int slot, TwinKey key) {
    for (Column c : columns.values()) {
      if (slot < c.filled) {
        c.remove(slot);
      }
    }
    delete(key);
    twins[slot] = null;
    kinds[slot] = FREE;
    live--;
    if (freeCount == free.length) {
      free = Arrays.copyOf(free, freeCount * 2);
    }
    free[freeCount++] = slot;
  }

  private void growSlots() {
    int n = twins.length + (twins.length >> 1);
    twins = Arrays.copyOf(twins, n);
    kinds = Arrays.copyOf(kinds, n);
    for (Column c : columns.values()) {
      c.grow(n);
    }
  }

  // ---- the key -> slot table

  private static int hash(TwinKey key) {
    int h =
        key.deviceId().hashCode() * 31 + (key.moduleId() == null ? 0 : key.moduleId().hashCode());
    return (h ^ (h >>> 16)) * 0x9E3779B9;
  }

  private int find(TwinKey key) {
    int mask = table.length - 1;
    for (int i = hash(key) & mask; ; i = (i + 1) & mask) {
      int e = table[i];
      if (e == 0) {
        return -1;
      }
      if (twins[e - 1].key().equals(key)) {
        return e - 1;
      }
    }
  }

  private void insert(TwinKey key, int slot) {
    int mask = table.length - 1;
    int i = hash(key) & mask;
    while (table[i] != 0) {
      i = (i + 1) & mask;
    }
    table[i] = slot + 1;
  }

  /** Removes {@code key}, shifting later entries of its probe run back (no tombstones). */
  private void delete(TwinKey key) {
    int mask = table.length - 1;
    int i = hash(key) & mask;
    while (!twins[table[i] - 1].key().equals(key)) {
      i = (i + 1) & mask;
    }
    int j = i;
    while (true) {
      j = (j + 1) & mask;
      int e = table[j];
      if (e == 0) {
        break;
      }
      int home = hash(twins[e - 1].key()) & mask;
      // The entry at j may move to the hole at i unless its home lies cyclically in (i, j].
      boolean stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!stays) {
        table[i] = e;
        i = j;
      }
    }
    table[i] = 0;
  }

  private void rehash(int capacity) {
    table = new int[capacity];
    for (int s = 0; s < high; s++) {
      if (kinds[s] != FREE) {
        insert(twins[s].key(), s);
      }
    }
  }

  // ---- columns

  /**
   * Adds a column on {@code path} and fills it from the twins; see {@link #add(Collection,
   * boolean)}. Returns whether the path has a column now: false when it has more distinct values
   * than this store allows (it is then rejected for good).
   *
   * @throws IllegalArgumentException when the path names nothing a twin has
   */
  public boolean add(String path, boolean pinned) {
    return add(List.of(path), pinned).contains(canonicalPath(path));
  }

  /**
   * Adds columns on {@code paths} and fills them from the twins in one pass, a chunk of slots at a
   * time so that writers are never held up for long; returns once they are ready, with the paths
   * (canonical) that have a column now, built or already there. Paths rejected before or now for
   * having more distinct values than this store allows are left out. A lazily added column ({@code
   * pinned} false) may be dropped by {@link #dropLeastRecentlyUsed}.
   *
   * @throws IllegalArgumentException when a path names nothing a twin has
   */
  public Set<String> add(Collection<String> paths, boolean pinned) {
    Map<String, Fields.Resolved> wanted = new LinkedHashMap<>();
    for (String p : paths) {
      Fields.Resolved r = Fields.resolve(p);
      wanted.put(String.join(".", r.canonical()), r);
    }
    Set<String> present = new TreeSet<>();
    List<String> building = new ArrayList<>();
    writer.lock();
    try {
      for (Map.Entry<String, Fields.Resolved> e : wanted.entrySet()) {
        String path = e.getKey();
        if (columns.containsKey(path)) {
          present.add(path);
        } else if (!rejected.contains(path)) {
          Column c = new Column(path, e.getValue().accessor(), pinned, twins.length);
          c.filled = 0;
          columns.put(path, c);
          building.add(path);
        }
      }
    } finally {
      writer.unlock();
    }
    int from = 0;
    while (!building.isEmpty()) {
      writer.lock();
      try {
        // Housekeeping may have replaced (compacted) or dropped a column since the last chunk.
        List<Column> cs = new ArrayList<>();
        for (String path : building) {
          cs.add(columns.get(path));
        }
        int to = Math.min(high, from + CHUNK);
        for (int s = from; s < to; s++) {
          if (kinds[s] != FREE) {
            Twin t = twins[s];
            for (Column c : cs) {
              c.add(s, t);
            }
          }
        }
        for (Column c : cs) {
          c.filled = to == high ? Integer.MAX_VALUE : to;
          c.lastUsed = System.nanoTime();
        }
        from = to;
        housekeep();
        building.removeIf(path -> !columns.containsKey(path));
        if (to == high) {
          present.addAll(building);
          building.clear();
        }
      } finally {
        writer.unlock();
      }
    }
    return present;
  }

  /** Drops the column on {@code path}; false when there is none. */
  public boolean drop(String path) {
    String canonical = canonicalPath(path);
    writer.lock();
    try {
      return columns.remove(canonical) != null;
    } finally {
      writer.unlock();
    }
  }

  /** Drops the lazily added column that queries used least recently; false when there is none. */
  public boolean dropLeastRecentlyUsed() {
    writer.lock();
    try {
      String oldest = null;
      long when = Long.MAX_VALUE;
      for (Column c : columns.values()) {
        if (!c.pinned && c.ready() && c.lastUsed < when) {
          oldest = c.path;
          when = c.lastUsed;
        }
      }
      if (oldest == null) {
        return false;
      }
      columns.remove(oldest);
      return true;
    } finally {
      writer.unlock();
    }
  }

  /** The paths of the ready columns. */
  public Set<String> paths() {
    writer.lock();
    try {
      Set<String> out = new TreeSet<>();
      for (Column c : columns.values()) {
        if (c.ready()) {
          out.add(c.path);
        }
      }
      return out;
    } finally {
      writer.unlock();
    }
  }

  /** How many ready columns were added lazily (not pinned). */
  public int unpinned() {
    writer.lock();
    try {
      int n = 0;
      for (Column c : columns.values()) {
        n += !c.pinned && c.ready() ? 1 : 0;
      }
      return n;
    } finally {
      writer.unlock();
    }
  }

  /** Whether the path was dropped for having too many distinct values. */
  public boolean isRejected(String path) {
    writer.lock();
    try {
      return rejected.contains(canonicalPath(path));
    } finally {
      writer.unlock();
    }
  }

  /** How many distinct defined values the column on {@code path} holds, or -1 without one. */
  public int distinct(String path) {
    writer.lock();
    try {
      Column c = columns.get(canonicalPath(path));
      return c == null ? -1 : c.distinct;
    } finally {
      writer.unlock();
    }
  }

  /** Live twins. */
  public int size() {
    writer.lock();
    try {
      return live;
    } finally {
      writer.unlock();
    }
  }

  /**
   * Rough heap of the slots and columns in bytes, beyond the twins themselves: per slot a twin
   * reference, a kind byte and its share of the key table; per column its arrays and dictionary.
   */
  public long heapBytes() {
    writer.lock();
    try {
      long bytes = 5L * twins.length + 4L * table.length + 4L * free.length;
      for (Column c : columns.values()) {
        bytes += c.heapBytes();
      }
      return bytes;
    } finally {
      writer.unlock();
    }
  }

  // ---- readers

  /**
   * How many changes were fed in so far. When it reads the same before and after a reader read some
   * twins, none of them changed in between; every change is fed in before it is acknowledged.
   */
  public long changes() {
    return changes;
  }

  /** What a query reads: the slots and the ready columns among {@code paths}, as of now. */
  Snapshot snapshot(Collection<String> paths) {
    writer.lock();
    try {
      long now = System.nanoTime();
      Map<String, ColumnView> views = new LinkedHashMap<>();
      for (String p : paths) {
        Column c = columns.get(p);
        if (c != null && c.ready()) {
          c.lastUsed = now;
          views.put(p, c.view());
        }
      }
      return new Snapshot(twins, kinds, high, views);
    } finally {
      writer.unlock();
    }
  }

  /**
   * The slots as a reader saw them: {@code twins} and {@code kinds} may change in place after the
   * snapshot (a slot's newer twin, a freed or reused slot), never beyond {@code high}.
   */
  record Snapshot(Twin[] twins, byte[] kinds, int high, Map<String, ColumnView> columns) {}

  /** Paths of columns that are ready, building or rejected; for diagnostics. */
  @Override
  public String toString() {
    List<String> ready = new ArrayList<>(paths());
    return "columns " + ready + " over " + size() + " twins";
  }
}
