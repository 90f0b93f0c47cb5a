package io.herd.query;

import io.herd.core.twin.Twin;
import io.herd.query.ast.Expr;
import java.util.ArrayList;
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

  static void put(Map<String, Object> row, String key, Object v) {
    if (v != null) {
      row.put(key, v == Expr.Null.NULL ? null : v);
    }
  }

  private static List<Object> aggregate(CompiledQuery q, Iterable<Twin> twins, long limit) {
    Groups groups = new Groups(q);
    for (Twin t : twins) {
      if (q.matches(t)) {
        groups.add(t);
      }
    }
    return groups.rows(limit);
  }
}
