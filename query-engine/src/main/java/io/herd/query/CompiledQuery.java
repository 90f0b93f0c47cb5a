package io.herd.query;

import io.herd.core.twin.Twin;
import io.herd.query.ast.Query;
import io.herd.query.eval.Evaluator;
import io.herd.query.eval.TwinPredicate;
import io.herd.query.plan.Plan;
import java.util.List;

/**
 * A compiled query: immutable, thread-safe and cacheable by its text. Run it with {@link
 * QueryExecutor}.
 */
public final class CompiledQuery {
  /** What the rows are, as IoT Hub's {@code x-ms-item-type} names it. */
  public enum ItemType {
    TWIN("twin"),
    RAW("raw"),
    DEVICE_JOB("deviceJob");

    public final String wire;

    ItemType(String wire) {
      this.wire = wire;
    }
  }

  /**
   * One item of the select list: its row key and either a scalar evaluator or an aggregate (the
   * canonical aggregate name and its argument, null for COUNT()).
   */
  public record Column(String name, Evaluator value, String aggregate, Evaluator argument) {
    public boolean isAggregate() {
      return aggregate != null;
    }
  }

  private final String text;
  private final Plan plan;
  private final TwinPredicate where;
  private final List<Column> columns;
  private final List<Evaluator> groupBy;
  private final boolean aggregating;

  CompiledQuery(
      String text,
      Plan plan,
      TwinPredicate where,
      List<Column> columns,
      List<Evaluator> groupBy,
      boolean aggregating) {
    this.text = text;
    this.plan = plan;
    this.where = where;
    this.columns = List.copyOf(columns);
    this.groupBy = List.copyOf(groupBy);
    this.aggregating = aggregating;
  }

  public String text() {
    return text;
  }

  public Plan plan() {
    return plan;
  }

  /** The canonical text of the optimized query. */
  public String explain() {
    return plan.explain();
  }

  public Query.Source source() {
    return plan.query().from();
  }

  /** The compiled WHERE condition ({@link TwinPredicate#ALL} when there is none). */
  public TwinPredicate where() {
    return where;
  }

  /**
   * Whether a twin is in the queried collection: device twins for devices, module twins for
   * modules; for devices.jobs every row given (job rows as twins whose tags hold the row).
   */
  public boolean inSource(Twin t) {
    if (source() == Query.Source.JOBS) {
      // Job rows come from the jobs, never from the twins; the caller feeds only those.
      return true;
    }
    return (source() == Query.Source.MODULES) == t.key().isModule();
  }

  /** Whether a twin is in the collection and passes the condition. */
  public boolean matches(Twin t) {
    return inSource(t) && where.test(t);
  }

  public ItemType itemType() {
    if (!columns.isEmpty()) {
      return ItemType.RAW;
    }
    return source() == Query.Source.JOBS ? ItemType.DEVICE_JOB : ItemType.TWIN;
  }

  /** The select list; empty for {@code SELECT *}. */
  public List<Column> columns() {
    return columns;
  }

  public List<Evaluator> groupBy() {
    return groupBy;
  }

  /** Whether rows are groups (GROUP BY or aggregates in the select list). */
  public boolean aggregating() {
    return aggregating;
  }

  /** TOP n, or -1. */
  public long top() {
    return plan.query().top();
  }

  @Override
  public String toString() {
    return explain();
  }
}
