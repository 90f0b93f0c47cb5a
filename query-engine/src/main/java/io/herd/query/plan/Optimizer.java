package io.herd.query.plan;

import io.herd.query.ast.Expr;
import io.herd.query.ast.Query;
import io.herd.query.eval.Functions;
import io.herd.query.eval.Values;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Rewrites a bound query into a cheaper equivalent: folds constant subexpressions, flattens nested
 * AND/OR, short-circuits AND with a constant false and OR with a constant true, and orders the
 * operands of AND/OR cheapest first (sound because both are commutative under the language's
 * three-valued logic). IN lists of constants are turned into hash sets by the compiler.
 */
public final class Optimizer {
  private Optimizer() {}

  public static Query optimize(Query q) {
    List<Query.Projection> select = new ArrayList<>();
    for (Query.Projection p : q.select()) {
      select.add(new Query.Projection(optimize(p.expr()), p.alias()));
    }
    return q.with(
        select,
        q.where() == null ? null : optimize(q.where()),
        q.groupBy().stream().map(Optimizer::optimize).toList());
  }

  public static Expr optimize(Expr e) {
    if (e instanceof Expr.Literal l) {
      return l;
    }
    if (e instanceof Expr.Path p) {
      return p;
    }
    if (e instanceof Expr.Unary u) {

      Expr o = optimize(u.operand());
      if (o instanceof Expr.Literal l) {
        return new Expr.Literal(
            u.op() == Expr.UnaryOp.NOT ? Values.not(l.value()) : Values.negate(l.value()),
            u.offset());
      }
      return new Expr.Unary(u.op(), o, u.offset());
    }
    if (e instanceof Expr.Binary b) {

      Expr l = optimize(b.left());
      Expr r = optimize(b.right());
      if (l instanceof Expr.Literal x && r instanceof Expr.Literal y) {
        return new Expr.Literal(
            b.op().isComparison()
                ? Values.compare(b.op(), x.value(), y.value())
                : Values.arithmetic(b.op(), x.value(), y.value()),
            b.offset());
      }
      return new Expr.Binary(b.op(), l, r, b.offset());
    }
    if (e instanceof Expr.Logical l) {
      return logical(l);
    }
    if (e instanceof Expr.In in) {

      Expr o = optimize(in.operand());
      List<Expr> items = in.items().stream().map(Optimizer::optimize).toList();
      if (o instanceof Expr.Literal ol && items.stream().allMatch(i -> i instanceof Expr.Literal)) {
        return new Expr.Literal(
            Values.in(
                ol.value(),
                items.stream().map(i -> ((Expr.Literal) i).value()).toArray(),
                in.negated()),
            in.offset());
      }
      return new Expr.In(o, items, in.negated(), in.offset());
    }
    if (e instanceof Expr.Array a) {
      return new Expr.Array(a.items().stream().map(Optimizer::optimize).toList(), a.offset());
    }
    if (e instanceof Expr.Call c) {

      List<Expr> args = c.args().stream().map(Optimizer::optimize).toList();
      if (!Functions.isAggregate(c.name())
          && args.stream().allMatch(x -> x instanceof Expr.Literal)) {
        return new Expr.Literal(
            Values.call(c.name(), args.stream().map(x -> ((Expr.Literal) x).value()).toArray()),
            c.offset());
      }
      return new Expr.Call(c.name(), args, c.offset());
    }
    throw new IllegalStateException("unknown expression " + e);
  }

  private static Expr logical(Expr.Logical l) {
    List<Expr> flat = new ArrayList<>();
    for (Expr o : l.operands()) {
      Expr x = optimize(o);
      if (x instanceof Expr.Logical inner && inner.and() == l.and()) {
        flat.addAll(inner.operands());
      } else {
        flat.add(x);
      }
    }
    // false AND anything is false; true OR anything is true
    for (Expr x : flat) {
      if (x instanceof Expr.Literal lit && Boolean.valueOf(!l.and()).equals(lit.value())) {
        return new Expr.Literal(!l.and(), l.offset());
      }
    }
    // true AND x is x (false OR x is x) when x can only be true, false or undefined
    if (flat.stream().allMatch(x -> x instanceof Expr.Literal || isBooleanValued(x))
        && flat.stream().anyMatch(x -> !(x instanceof Expr.Literal))) {
      flat.removeIf(
          x -> x instanceof Expr.Literal lit && Boolean.valueOf(l.and()).equals(lit.value()));
      if (flat.size() == 1) {
        return flat.get(0);
      }
    }
    if (flat.stream().allMatch(x -> x instanceof Expr.Literal)) {
      return new Expr.Literal(
          Values.logical(l.and(), flat.stream().map(x -> ((Expr.Literal) x).value()).toArray()),
          l.offset());
    }
    flat.sort(Comparator.comparingInt(Optimizer::cost));
    return new Expr.Logical(l.and(), flat, l.offset());
  }

  /** Whether an expression always yields true, false or undefined. */
  static boolean isBooleanValued(Expr e) {
    if (e instanceof Expr.Binary b) {
      return b.op().isComparison();
    }
    if (e instanceof Expr.Call c) {
      return c.name().startsWith("IS_")
          || c.name().equals("STARTSWITH")
          || c.name().equals("ENDSWITH")
          || c.name().equals("CONTAINS")
          || c.name().equals("ARRAY_CONTAINS");
    }
    return e instanceof Expr.In
        || e instanceof Expr.Logical
        || (e instanceof Expr.Unary u && u.op() == Expr.UnaryOp.NOT);
  }

  /** A rough per-row cost: identity fields are cheapest, deep paths and functions dearer. */
  static int cost(Expr e) {
    if (e instanceof Expr.Literal l) {
      return 0;
    }
    if (e instanceof Expr.Path p) {
      return p.segments().get(0).equals("tags") || p.segments().get(0).equals("properties")
          ? 2 + p.segments().size()
          : 1;
    }
    if (e instanceof Expr.Unary u) {
      return 1 + cost(u.operand());
    }
    if (e instanceof Expr.Binary b) {
      return 1 + cost(b.left()) + cost(b.right());
    }
    if (e instanceof Expr.Logical l) {
      return l.operands().stream().mapToInt(Optimizer::cost).sum();
    }
    if (e instanceof Expr.In in) {
      return 2 + cost(in.operand()) + in.items().stream().mapToInt(Optimizer::cost).sum();
    }
    if (e instanceof Expr.Array a) {
      return 1 + a.items().stream().mapToInt(Optimizer::cost).sum();
    }
    if (e instanceof Expr.Call c) {
      return 5 + c.args().stream().mapToInt(Optimizer::cost).sum();
    }
    throw new IllegalStateException("unknown expression " + e);
  }
}
