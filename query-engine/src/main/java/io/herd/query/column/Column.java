package io.herd.query.column;

import io.herd.core.twin.Twin;
import io.herd.query.eval.Accessor;
import java.util.Arrays;
import java.util.HashMap;

/**
 * One twin path held column-wise and dictionary-coded: per slot the code of the value the path has
 * in that slot's twin; per code the value (compared with {@code equals}, so 1 and 1.0 get two
 * codes) and how many live slots hold it. Code 0 is undefined. Codes are only ever appended, never
 * reused, so a reader that saw {@code size} codes can trust values below it whatever writers do
 * later; {@link #compacted} makes a fresh column once enough codes are dead. Mutated only under the
 * writer lock of {@link TwinColumns}.
 */
final class Column {
  final String path;
  final Accessor accessor;
  final boolean pinned;
  int[] codes;
  Object[] values = new Object[16];
  int[] counts = new int[16];
  int size = 1;

  /** Codes with a live slot, undefined not included. */
  int distinct;

  /**
   * While the column is being built, slots below this are coded and writers keep them current; the
   * builder codes the rest. {@link Integer#MAX_VALUE} once built.
   */
  int filled = Integer.MAX_VALUE;

  private final HashMap<Object, Integer> byValue;
  long lastUsed;

  Column(String path, Accessor accessor, boolean pinned, int slots) {
    this(path, accessor, pinned, new int[slots], new HashMap<>());
  }

  private Column(
      String path, Accessor accessor, boolean pinned, int[] codes, HashMap<Object, Integer> map) {
    this.path = path;
    this.accessor = accessor;
    this.pinned = pinned;
    this.codes = codes;
    this.byValue = map;
  }

  /** The code for a value, assigned when the value is new; 0 for undefined. */
  private int codeOf(Object v) {
    if (v == null) {
      return 0;
    }
    Integer c = byValue.get(v);
    if (c != null) {
      return c;
    }
    if (size == values.length) {
      int n = size + (size >> 1);
      values = Arrays.copyOf(values, n);
      counts = Arrays.copyOf(counts, n);
    }
    int code = size;
    values[code] = v;
    byValue.put(v, code);
    size = code + 1;
    return code;
  }

  /** A slot that held no twin now holds {@code t}. */
  void add(int slot, Twin t) {
    int c = codeOf(accessor.get(t));
    codes[slot] = c;
    increment(c);
  }

  /** The twin in a live slot changed. */
  void change(int slot, Twin t) {
    int c = codeOf(accessor.get(t));
    int old = codes[slot];
    if (c != old) {
      codes[slot] = c;
      increment(c);
      decrement(old);
    }
  }

  /** A live slot's twin is gone. */
  void remove(int slot) {
    decrement(codes[slot]);
    codes[slot] = 0;
  }

  private void increment(int c) {
    if (counts[c]++ == 0 && c != 0) {
      distinct++;
    }
  }

  private void decrement(int c) {
    if (--counts[c] == 0 && c != 0) {
      distinct--;
    }
  }

  boolean ready() {
    return filled == Integer.MAX_VALUE;
  }

  void grow(int slots) {
    codes = Arrays.copyOf(codes, slots);
  }

  /** Whether dead codes outnumber live ones enough that a {@link #compacted} copy pays off. */
  boolean wasteful() {
    int dead = size - 1 - distinct;
    return dead > 1024 && dead > distinct;
  }

  /**
   * A copy holding only the live codes, renumbered; the slots {@code [0, high)} re-coded. This
   * column is left as it was, for readers that still hold it.
   */
  Column compacted(int high) {
    int[] remap = new int[size];
    Column c = new Column(path, accessor, pinned, new int[codes.length], new HashMap<>());
    c.lastUsed = lastUsed;
    c.filled = filled;
    for (int code = 1; code < size; code++) {
      if (counts[code] > 0) {
        int n = c.codeOf(values[code]);
        remap[code] = n;
        c.counts[n] = counts[code];
        c.distinct++;
      }
    }
    c.counts[0] = counts[0];
    for (int s = 0; s < high; s++) {
      c.codes[s] = remap[codes[s]];
    }
    return c;
  }

  /** What a reader needs, as of now; the writer lock must be held. */
  ColumnView view() {
    return new ColumnView(path, codes, values, counts, size);
  }

  /** Rough heap held by this column beyond the twins' own values, in bytes. */
  long heapBytes() {
    // codes, values and counts arrays; about 48 bytes per dictionary entry in the hash map.
    return 4L * codes.length + 8L * values.length + 48L * byValue.size();
  }
}
