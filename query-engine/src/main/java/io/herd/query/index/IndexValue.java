package io.herd.query.index;

import io.herd.query.ast.Expr;
import io.herd.query.eval.Values;

/**
 * An indexed value, ordered first by type (null, booleans, numbers, strings) and then as the query
 * language compares within that type, so equal values under {@code =} are one key (1 and 1.0 too).
 */
record IndexValue(int rank, Object value) implements Comparable<IndexValue> {
  static final int NULL = 0;
  static final int BOOLEAN = 1;
  static final int NUMBER = 2;
  static final int STRING = 3;

  /** The key for a query value, or null when the value is not indexed (undefined, objects). */
  static IndexValue of(Object v) {
    if (v instanceof String) {
      return new IndexValue(STRING, v);
    }
    if (v instanceof Number n) {
      if (n instanceof Double d && d.isNaN()) {
        return null;
      }
      return new IndexValue(NUMBER, v);
    }
    if (v instanceof Boolean) {
      return new IndexValue(BOOLEAN, v);
    }
    if (v == Expr.Null.NULL) {
      return new IndexValue(NULL, v);
    }
    return null;
  }

  /** The smallest and the largest possible key of a rank, as range bounds. */
  static IndexValue lowest(int rank) {
    return new IndexValue(rank, null);
  }

  @Override
  public int compareTo(IndexValue o) {
    if (rank != o.rank) {
      return Integer.compare(rank, o.rank);
    }
    // a null value is the rank's lower bound
    if (value == null || o.value == null) {
      return value == o.value ? 0 : value == null ? -1 : 1;
    }
    return switch (rank) {
      case NUMBER -> Values.compareNumbers((Number) value, (Number) o.value);
      case STRING -> ((String) value).compareTo((String) o.value);
      case BOOLEAN -> Boolean.compare((Boolean) value, (Boolean) o.value);
      default -> 0;
    };
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IndexValue v && compareTo(v) == 0;
  }

  @Override
  public int hashCode() {
    return rank;
  }
}
