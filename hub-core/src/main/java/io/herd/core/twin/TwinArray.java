package io.herd.core.twin;

import java.util.Arrays;

/**
 * An immutable JSON array in a twin. Arrays are leaves: a patch replaces them whole and IoT Hub
 * keeps no metadata inside them. Elements are String, Long, Double, Boolean, null, {@code
 * TwinArray}, or objects held as {@link TwinNode}s without metadata.
 */
public final class TwinArray {
  private final Object[] items;

  TwinArray(Object[] items) {
    this.items = items;
  }

  /** An array of the given elements (String, Long, Double, Boolean, null, TwinNode, TwinArray). */
  public static TwinArray of(Object... items) {
    return new TwinArray(items.clone());
  }

  public int size() {
    return items.length;
  }

  public Object get(int i) {
    return items[i];
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TwinArray a && Arrays.deepEquals(items, a.items);
  }

  @Override
  public int hashCode() {
    return Arrays.deepHashCode(items);
  }
}
