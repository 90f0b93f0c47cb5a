package io.herd.query;

import io.herd.query.ast.Expr;
import io.herd.query.ast.Query;
import io.herd.query.eval.Evaluator;
import io.herd.query.eval.Functions;
import io.herd.query.eval.PredicateCompiler;
import io.herd.query.parse.Parser;
import io.herd.query.plan.Binder;
import io.herd.query.plan.Optimizer;
import io.herd.query.plan.Plan;
import java.util.ArrayList;
import java.util.List;

/**
 * Compiles twin queries (azure-iothub-wire.md §6): lex, parse, bind, optimize, compile. Compiled
 * queries are immutable; callers may cache them by text.
 */
public final class QueryEngine {
  private QueryEngine() {}

  /**
   * Compiles a full query.
   *
   * @throws QuerySyntaxException for a malformed or invalid query, with the offset and what was
   *     expected there
   */
  public static CompiledQuery compile(String text) {
    Query parsed = Parser.parse(text);
    Plan plan = Plan.of(parsed);
    Query q = plan.query();
    List<CompiledQuery.Column> columns = new ArrayList<>();
    boolean aggregating = !q.groupBy().isEmpty();
    int i = 0;
    for (Query.Projection p : q.select()) {
      i++;
      Expr e = p.expr();
      if (e instanceof Expr.Call c && Functions.isAggregate(c.name())) {
        aggregating = true;
        Evaluator arg = c.args().isEmpty() ? null : PredicateCompiler.evaluator(c.args().get(0));
        columns.add(new CompiledQuery.Column(name(p, i), null, c.name(), arg));
      } else {
        columns.add(
            new CompiledQuery.Column(name(p, i), PredicateCompiler.evaluator(e), null, null));
      }
    }
    List<Evaluator> groupBy = q.groupBy().stream().map(PredicateCompiler::evaluator).toList();
    return new CompiledQuery(
        text, plan, PredicateCompiler.predicate(q.where()), columns, groupBy, aggregating);
  }

  /**
   * Compiles a bare condition such as a job's {@code queryCondition} ({@code *} or empty means all
   * device twins) into {@code SELECT * FROM devices WHERE condition}.
   */
  public static CompiledQuery compileCondition(String condition) {
    String c = condition == null ? "" : condition.strip();
    if (c.isEmpty() || c.equals("*")) {
      return compile("SELECT * FROM devices");
    }
    Expr where = Optimizer.optimize(Binder.bindCondition(Parser.parseCondition(condition)));
    Plan plan = new Plan(new Query(-1, List.of(), Query.Source.DEVICES, where, List.of()));
    return new CompiledQuery(
        condition, plan, PredicateCompiler.predicate(where), List.of(), List.of(), false);
  }

  /** The row key: the alias, or the last path segment, or {@code $n} for the n-th item. */
  private static String name(Query.Projection p, int index) {
    if (p.alias() != null) {
      return p.alias();
    }
    if (p.expr() instanceof Expr.Path path) {
      return path.last();
    }
    return "$" + index;
  }
}
