package io.herd.query.plan;

import io.herd.query.QuerySyntaxException;
import io.herd.query.ast.Expr;
import io.herd.query.ast.Query;
import io.herd.query.eval.Fields;
import io.herd.query.eval.Functions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Checks a parsed query against what twins have and what the language allows: resolves every path
 * (spelling system fields canonically), canonicalises function names, checks arities, and keeps
 * aggregates to the select list. Every error carries the offset of the offending expression.
 */
public final class Binder {
  /** Whether paths name {@code devices.jobs} row fields instead of twin fields. */
  private final boolean jobs;

  private Binder(boolean jobs) {
    this.jobs = jobs;
  }

  public static Query bind(Query q) {
    return new Binder(q.from() == Query.Source.JOBS).bindQuery(q);
  }

  private Query bindQuery(Query q) {
    boolean grouped = !q.groupBy().isEmpty();
    List<Query.Projection> select = new ArrayList<>();
    boolean anyAggregate = false;
    for (Query.Projection p : q.select()) {
      Expr e = p.expr();
      if (e instanceof Expr.Call c && Functions.isAggregate(canonicalName(c))) {
        anyAggregate = true;
        select.add(new Query.Projection(bindCall(c, false), p.alias()));
      } else {
        select.add(new Query.Projection(bind(e, false), p.alias()));
      }
    }
    List<Expr> groupBy = new ArrayList<>();
    for (Expr g : q.groupBy()) {
      groupBy.add(bind(g, false));
    }
    if (anyAggregate || grouped) {
      if (q.selectsAll()) {
        throw new QuerySyntaxException(
            q.groupBy().get(0).offset(),
            "expected a select list of group keys and aggregates with GROUP BY, found SELECT *");
      }
      Set<String> keys = groupBy.stream().map(Object::toString).collect(Collectors.toSet());
      for (Query.Projection p : select) {
        if (!(p.expr() instanceof Expr.Call c && Functions.isAggregate(c.name()))
            && !keys.contains(p.expr().toString())) {
          throw new QuerySyntaxException(
              p.expr().offset(),
              "expected an aggregate or a GROUP BY key in the select list, found '"
                  + p.expr()
                  + "'");
        }
      }
    }
    Expr where = q.where() == null ? null : bind(q.where(), false);
    return q.with(select, where, groupBy);
  }

  /** Binds a bare condition (no select list). */
  public static Expr bindCondition(Expr e) {
    return new Binder(false).bind(e, false);
  }

  private static String canonicalName(Expr.Call c) {
    String n = Functions.canonical(c.name());
    if (n == null) {
      throw new QuerySyntaxException(
          c.offset(),
          "expected a known function (IS_DEFINED, STARTSWITH, LOWER, ABS, ARRAY_CONTAINS, ...),"
              + " found '"
              + c.name()
              + "'");
    }
    return n;
  }

  private Expr bindCall(Expr.Call c, boolean nested) {
    String name = canonicalName(c);
    Functions.Arity a = Functions.arity(name);
    if (c.args().size() < a.min() || c.args().size() > a.max()) {
      throw new QuerySyntaxException(
          c.offset(), "expected " + a.describe() + " for " + name + ", found " + c.args().size());
    }
    List<Expr> args = new ArrayList<>();
    for (Expr arg : c.args()) {
      args.add(bind(arg, true));
    }
    return new Expr.Call(name, args, c.offset());
  }

  private Expr bind(Expr e, boolean insideAggregate) {
    if (e instanceof Expr.Literal l) {
      return l;
    }
    if (e instanceof Expr.Path p) {

      try {
        if (jobs) {
          return new Expr.Path(JobFields.canonical(p.segments()), p.offset());
        }
        return new Expr.Path(Fields.resolve(p.segments()).canonical(), p.offset());
      } catch (Fields.UnknownFieldException x) {
        throw new QuerySyntaxException(p.offset(), x.getMessage());
      }
    }
    if (e instanceof Expr.Unary u) {
      return new Expr.Unary(u.op(), bind(u.operand(), insideAggregate), u.offset());
    }
    if (e instanceof Expr.Binary b) {
      return new Expr.Binary(
          b.op(), bind(b.left(), insideAggregate), bind(b.right(), insideAggregate), b.offset());
    }
    if (e instanceof Expr.Logical l) {
      return new Expr.Logical(
          l.and(), l.operands().stream().map(o -> bind(o, insideAggregate)).toList(), l.offset());
    }
    if (e instanceof Expr.In in) {
      return new Expr.In(
          bind(in.operand(), insideAggregate),
          in.items().stream().map(o -> bind(o, insideAggregate)).toList(),
          in.negated(),
          in.offset());
    }
    if (e instanceof Expr.Array a) {
      return new Expr.Array(
          a.items().stream().map(o -> bind(o, insideAggregate)).toList(), a.offset());
    }
    if (e instanceof Expr.Call c) {

      if (Functions.isAggregate(canonicalName(c))) {
        throw new QuerySyntaxException(
            c.offset(),
            "expected an aggregate such as "
                + canonicalName(c)
                + "() only at the top of a select list item");
      }
      return bindCall(c, insideAggregate);
    }
    throw new IllegalStateException("unknown expression " + e);
  }
}
