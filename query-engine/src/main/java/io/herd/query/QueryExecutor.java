package io.herd.query;

import io.herd.core.twin.Twin;
import io.herd.query.ast.Expr;
import io.herd.query.eval.Evaluator;
import io.herd.query.eval.Values;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a compiled query over a snapshot of twins. Rows of {@code SELECT *} are the {@link Twin}s
 * themselves; other rows are {@code Map<String, Object>} keyed by alias or last path segment, with
 * undefined values left out and JSON null as {@code null}. Objects and arrays stay {@code TwinNode}
 * and {@code TwinArray} for the renderer.
 */
public final class QueryExecutor {
  private QueryExecutor() {}

  /**
   * @param top the most rows to return (≤ 0: no limit beyond the query's own TOP)
   */
  public static List<Object> run(CompiledQuery q, Iterable<Twin> twins, int top) {
    long limit = q.top() >= 0 ? q.top() : Long.MAX_VALUE;
    if (top > 0) {
      limit = Math.min(limit, top);
    }
    List<Object> rows = new ArrayList<>();
    if (q.aggregating()) {
      return aggregate(q, twins, limit);
    }
    if (limit == 0) {
      return rows;
    }
    for (Twin t : twins) {
      if (!q.matches(t)) {
        continue;
      }
      rows.add(q.columns().isEmpty() ? t : project(q, t));
      if (rows.size() >= limit) {
        break;
      }
    }
    return rows;
  }

  private static Map<String, Object> project(CompiledQuery q, Twin t) {
    Map<String, Object> row = new LinkedHashMap<>();
    for (CompiledQuery.Column c : q.columns()) {
      put(row, c.name(), c.value().eval(t));
    }
    return row;
  }

  private static void put(Map<String, Object> row, String key, Object v) {
    if (v != null) {
      row.put(key, v == Expr.Null.NULL ? null : v);
    }
  }

  private static List<Object> aggregate(CompiledQuery q, Iterable<Twin> twins, long limit) {
    List<CompiledQuery.Column> cols = q.columns();
    Map<List<Object>, Group> groups = new LinkedHashMap<>();
    List<Evaluator> keys = q.groupBy();
    if (keys.isEmpty()) {
      groups.put(List.of(), new Group(cols.size(), null));
    }
    for (Twin t : twins) {
      if (!q.matches(t)) {
        continue;
      }
      Object[] key = new Object[keys.size()];
      for (int i = 0; i < key.length; i++) {
        key[i] = keys.get(i).eval(t);
      }
      Group g = groups.computeIfAbsent(Arrays.asList(key), k -> new Group(cols.size(), t));
      for (int i = 0; i < cols.size(); i++) {
        CompiledQuery.Column c = cols.get(i);
        if (c.isAggregate()) {
          g.add(i, c.aggregate(), c.argument() == null ? null : c.argument().eval(t));
        }
      }
    }
    List<Object> rows = new ArrayList<>();
    for (Group g : groups.values()) {
      if (rows.size() >= limit) {
        break;
      }
      Map<String, Object> row = new LinkedHashMap<>();
      for (int i = 0; i < cols.size(); i++) {
        CompiledQuery.Column c = cols.get(i);
        put(row, c.name(), c.isAggregate() ? g.result(i, c.aggregate()) : c.value().eval(g.first));
      }
      rows.add(row);
    }
    return rows;
  }

  /** Accumulators for one group; {@code first} stands for the group's key values. */
  private static final class Group {
    final Twin first;
    final long[] count;
    final long[] longSum;
    final double[] doubleSum;
    final boolean[] isDouble;
    final Object[] best;

    Group(int n, Twin first) {
      this.first = first;
      count = new long[n];
      longSum = new long[n];
      doubleSum = new double[n];
      isDouble = new boolean[n];
      best = new Object[n];
    }

    void add(int i, String fn, Object v) {
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

    Object result(int i, String fn) {
      return switch (fn) {
        case "COUNT" -> count[i];
        case "SUM" ->
            count[i] == 0 ? null : isDouble[i] ? (Object) doubleSum[i] : (Object) longSum[i];
        case "AVG" -> count[i] == 0 ? null : (Object) (doubleSum[i] / count[i]);
        default -> best[i];
      };
    }
  }

  /** Numbers before strings; within a type, by value. */
  static int order(Object a, Object b) {
    if (a instanceof Number x && b instanceof Number y) {
      return Values.compareNumbers(x, y);
    }
    if (a instanceof String x && b instanceof String y) {
      return x.compareTo(y);
    }
    return a instanceof Number ? -1 : 1;
  }
}
