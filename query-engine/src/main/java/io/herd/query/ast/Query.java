package io.herd.query.ast;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A parsed query. {@code select} is empty for {@code SELECT *}; {@code where} is null when absent;
 * {@code top} is -1 when absent.
 */
public record Query(
    long top, List<Projection> select, Source from, Expr where, List<Expr> groupBy) {
  public Query {
    select = List.copyOf(select);
    groupBy = List.copyOf(groupBy);
  }

  public boolean selectsAll() {
    return select.isEmpty();
  }

  /** Where rows come from. */
  public enum Source {
    DEVICES("devices"),
    MODULES("devices.modules"),
    JOBS("devices.jobs");

    public final String text;

    Source(String text) {
      this.text = text;
    }
  }

  /** One element of the select list; {@code alias} is null when not given. */
  public record Projection(Expr expr, String alias) {
    @Override
    public String toString() {
      return alias == null ? expr.toString() : expr + " AS " + alias;
    }
  }

  public Query withWhere(Expr w) {
    return new Query(top, select, from, w, groupBy);
  }

  public Query with(List<Projection> s, Expr w, List<Expr> g) {
    return new Query(top, s, from, w, g);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("SELECT ");
    if (top >= 0) {
      sb.append("TOP ").append(top).append(' ');
    }
    sb.append(
        select.isEmpty()
            ? "*"
            : select.stream().map(Object::toString).collect(Collectors.joining(", ")));
    sb.append(" FROM ").append(from.text);
    if (where != null) {
      sb.append(" WHERE ").append(where);
    }
    if (!groupBy.isEmpty()) {
      sb.append(" GROUP BY ")
          .append(groupBy.stream().map(Object::toString).collect(Collectors.joining(", ")));
    }
    return sb.toString();
  }
}
