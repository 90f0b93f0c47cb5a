package io.herd.query;

import io.herd.core.twin.Twin;
import io.herd.query.eval.Evaluator;
import io.herd.query.eval.Values;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The groups of an aggregating query (GROUP BY, or aggregates over all matching twins), filled one
 * matching twin at a time so that no scan has to collect its twins first. Groups are keyed by the
 * values of the GROUP BY expressions, compared with {@code equals} (so 1 and 1.0 are two groups);
 * rows come in the order the groups were first seen. Not thread-safe.
 */
public final class Groups {
  private final CompiledQuery query;
  private final List<CompiledQuery.Column> columns;
  private final List<Evaluator> keys;
  private final Map<List<Object>, Group> groups = new LinkedHashMap<>();

  public Groups(CompiledQuery query) {
    if (!query.aggregating()) {
      throw new IllegalArgumentException("not an aggregating query: " + query);
    }
    this.query = query;
    this.columns = query.columns();
    this.keys = query.groupBy();
    if (keys.isEmpty()) {
      // Aggregates without GROUP BY give one row even when nothing matches.
      groups.put(List.of(), new Group(null));
    }
  }

  /** Adds a twin that matches the query to the group of its key values. */
  public void add(Twin t) {
    Object[] key = new Object[keys.size()];
    for (int i = 0; i < key.length; i++) {
      key[i] = keys.get(i).eval(t);
    }
    group(Arrays.asList(key), t).add(t);
  }

  /**
   * The group with these key values (one per GROUP BY expression, null for undefined), made with
   * {@code first} standing for its twins when new.
   */
  public Group group(List<Object> key, Twin first) {
    Group g = groups.get(key);
    if (g == null) {
      g = new Group(first);
      groups.put(key, g);
    }
    return g;
  }

  /** The result rows, at most {@code limit}; see {@link QueryExecutor} for their shape. */
  public List<Object> rows(long limit) {
    List<Object> rows = new ArrayList<>();
    for (Group g : groups.values()) {
      if (rows.size() >= limit) {
        break;
      }
      Map<String, Object> row = new LinkedHashMap<>();
      for (int i = 0; i < columns.size(); i++) {
        CompiledQuery.Column c = columns.get(i);
        Object v;
        if (c.isAggregate()) {
          v = g.result(i, c.aggregate());
        } else {
          // A keyed group whose twins all vanished while it was filled has no twin to show.
          v = g.first == null && !keys.isEmpty() ? null : c.value().eval(g.first);
        }
        QueryExecutor.put(row, c.name(), v);
      }
      rows.add(row);
    }
    return rows;
  }

  public CompiledQuery query() {
    return query;
  }

  /** Accumulators for one group; {@code first} stands for the group's key values. */
  public final class Group {
    private final Twin first;
    private final long[] count;
    private final long[] longSum;
    private final double[] doubleSum;
    private final boolean[] isDouble;
    private final Object[] best;

    private Group(Twin first) {
      int n = columns.size();
      this.first = first;
      count = new long[n];
      longSum = new long[n];
      doubleSum = new double[n];
      isDouble = new boolean[n];
      best = new Object[n];
    }

    /** Adds one twin: counts it and feeds each aggregate its argument's value for the twin. */
    public void add(Twin t) {
      for (int i = 0; i < columns.size(); i++) {
        CompiledQuery.Column c = columns.get(i);
        if (c.isAggregate()) {
          add(i, c.aggregate(), c.argument() == null ? null : c.argument().eval(t));
        }
      }
    }

    /**
     * Adds {@code n} twins to every {@code COUNT()}; for queries whose aggregates are all COUNT.
     */
    public void addCount(long n) {
      for (int i = 0; i < columns.size(); i++) {
        if ("COUNT".equals(columns.get(i).aggregate())) {
          count[i] += n;
        }
      }
    }

    /**
     * Adds one twin given the value of aggregate {@code i}'s argument for it (ignored by COUNT).
     */
    public void add(int i, Object v) {
      add(i, columns.get(i).aggregate(), v);
    }

    private void add(int i, String fn, Object v) {
      switch (fn) {
        case "COUNT" -> count[i]++;
        case "SUM", "AVG" -> {
          if (v instanceof Number n) {
            count[i]++;
            doubleSum[i] += n.doubleValue();
            if (v instanceof Long l && !isDouble[i]) {
              try {
                longSum[i] = Math.addExact(longSum[i], l);
              } catch (ArithmeticException overflow) {
                isDouble[i] = true;
              }
            } else {
              isDouble[i] = true;
            }
          }
        }
        case "MIN", "MAX" -> {
          if (v instanceof Number || v instanceof String) {
            if (best[i] == null
                || (fn.equals("MIN") ? order(v, best[i]) < 0 : order(v, best[i]) > 0)) {
              best[i] = v;
            }
          }
        }
        default -> throw new IllegalStateException(fn);
      }
    }

    private Object result(int i, String fn) {
      return switch (fn) {
        case "COUNT" -> count[i];
        case "SUM" ->
            count[i] == 0 ? null : isDouble[i] ? (Object) doubleSum[i] : (Object) longSum[i];
        case "AVG" -> count[i] == 0 ? null : (Object) (doubleSum[i] / count[i]);
        default -> best[i];
      };
    }
  }

  /**
   * Numbers before strings; within a type, by value. Numbers of equal value still have an order, so
   * that MIN and MAX give the same one whatever order the twins come in (the row and column paths
   * scan differently): a double before a long ({@code 0.0 < 0}), and {@code -0.0 < 0.0}.
   */
  static int order(Object a, Object b) {
    if (a instanceof Number x && b instanceof Number y) {
      int byValue = Values.compareNumbers(x, y);
      if (byValue != 0) {
        return byValue;
      }
      if (x instanceof Long && y instanceof Long) {
        return 0;
      }
      if (x instanceof Long || y instanceof Long) {
        return x instanceof Long ? 1 : -1;
      }
      return Double.compare(x.doubleValue(), y.doubleValue());
    }
    if (a instanceof String x && b instanceof String y) {
      return x.compareTo(y);
    }
    return a instanceof Number ? -1 : 1;
  }
}
