package io.herd.query.eval;

import io.herd.query.ast.Expr;
import io.herd.query.ast.Expr.BinaryOp;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Compiles bound, optimized expressions into closures over a twin: paths become {@link Accessor}s
 * resolved once, comparisons against a constant are specialised by the constant's type, IN lists of
 * constants become hash sets, and AND/OR at the top of a condition become short-circuit boolean
 * tests. Nothing is parsed, rendered or resolved per row.
 */
public final class PredicateCompiler {
  /** How a path is read: from the twin, through the accessor {@link Fields} resolves. */
  private static final Function<Expr.Path, Evaluator> FROM_TWIN =
      p -> Fields.resolve(p.segments()).accessor()::get;

  /** A condition (null means no condition). */
  public static TwinPredicate predicate(Expr e) {
    return new PredicateCompiler(FROM_TWIN).condition(e);
  }

  /** Compiles any expression to a value-producing evaluator (null result = undefined). */
  public static Evaluator evaluator(Expr e) {
    return evaluator(e, FROM_TWIN);
  }

  /**
   * Compiles an expression whose paths {@code paths} reads, rather than the twin: the column store
   * evaluates an expression over one path once per distinct value of that path this way, with the
   * same semantics as the row predicate.
   */
  public static Evaluator evaluator(Expr e, Function<Expr.Path, Evaluator> paths) {
    return new PredicateCompiler(paths).value(e);
  }

  private final Function<Expr.Path, Evaluator> paths;

  private PredicateCompiler(Function<Expr.Path, Evaluator> paths) {
    this.paths = paths;
  }

  private TwinPredicate condition(Expr e) {
    if (e == null) {
      return TwinPredicate.ALL;
    }
    if (e instanceof Expr.Literal l) {
      boolean pass = Boolean.TRUE.equals(l.value());
      return t -> pass;
    }
    if (e instanceof Expr.Logical l) {
      TwinPredicate[] parts =
          l.operands().stream().map(this::condition).toArray(TwinPredicate[]::new);
      if (l.and()) {
        return t -> {
          for (TwinPredicate p : parts) {
            if (!p.test(t)) {
              return false;
            }
          }
          return true;
        };
      }
      return t -> {
        for (TwinPredicate p : parts) {
          if (p.test(t)) {
            return true;
          }
        }
        return false;
      };
    }
    if (e instanceof Expr.Binary b && b.op().isComparison()) {
      TwinPredicate special = comparison(b);
      if (special != null) {
        return special;
      }
    }
    Evaluator ev = value(e);
    return t -> Boolean.TRUE.equals(ev.eval(t));
  }

  /** {@code path op constant} (either side) as a direct boolean test, or null if not that shape. */
  private TwinPredicate comparison(Expr.Binary b) {
    BinaryOp op = b.op();
    Expr other;
    Object constant;
    if (b.right() instanceof Expr.Literal l) {
      other = b.left();
      constant = l.value();
    } else if (b.left() instanceof Expr.Literal l) {
      other = b.right();
      constant = l.value();
      op = op.flipped();
    } else {
      return null;
    }
    if (constant == null) {
      return t -> false; // comparing with undefined is never true
    }
    Evaluator ev = value(other);
    BinaryOp o = op;
    if (constant instanceof String s) {
      if (o == BinaryOp.EQ) {
        return t -> s.equals(ev.eval(t));
      }
      return t -> ev.eval(t) instanceof String v && Values.test(o, v.compareTo(s));
    }
    if (constant instanceof Long n) {
      long c = n;
      return t -> {
        Object v = ev.eval(t);
        if (v instanceof Long x) {
          return Values.test(o, Long.compare(x, c));
        }
        return v instanceof Double d && Values.test(o, Values.compareNumbers(d, n));
      };
    }
    if (constant instanceof Double d) {
      return t -> ev.eval(t) instanceof Number v && Values.test(o, Values.compareNumbers(v, d));
    }
    Object c = constant;
    return t -> Values.compare(o, ev.eval(t), c) == Boolean.TRUE;
  }

  private Evaluator value(Expr e) {
    if (e instanceof Expr.Literal l) {
      Object v = l.value();
      return t -> v;
    }
    if (e instanceof Expr.Path p) {
      return paths.apply(p);
    }
    if (e instanceof Expr.Unary u) {
      Evaluator o = value(u.operand());
      return u.op() == Expr.UnaryOp.NOT
          ? t -> Values.not(o.eval(t))
          : t -> Values.negate(o.eval(t));
    }
    if (e instanceof Expr.Binary b) {
      Evaluator l = value(b.left());
      Evaluator r = value(b.right());
      BinaryOp op = b.op();
      return op.isComparison()
          ? t -> Values.compare(op, l.eval(t), r.eval(t))
          : t -> Values.arithmetic(op, l.eval(t), r.eval(t));
    }
    if (e instanceof Expr.Logical l) {
      Evaluator[] parts = l.operands().stream().map(this::value).toArray(Evaluator[]::new);
      boolean and = l.and();
      return t -> {
        boolean all = true;
        for (Evaluator p : parts) {
          Object v = p.eval(t);
          if (v instanceof Boolean x) {
            if (x != and) {
              return !and;
            }
          } else {
            all = false;
          }
        }
        return all ? and : null;
      };
    }
    if (e instanceof Expr.In in) {
      return in(in);
    }
    if (e instanceof Expr.Array a) {
      Evaluator[] items = a.items().stream().map(this::value).toArray(Evaluator[]::new);
      return t -> {
        List<Object> out = new ArrayList<>(items.length);
        for (Evaluator i : items) {
          Object v = i.eval(t);
          out.add(v == null ? Expr.Null.NULL : v);
        }
        return out;
      };
    }
    if (e instanceof Expr.Call c) {
      if (Functions.isAggregate(c.name())) {
        throw new IllegalArgumentException("aggregates are evaluated by the executor: " + c);
      }
      Evaluator[] args = c.args().stream().map(this::value).toArray(Evaluator[]::new);
      String name = c.name();
      return t -> {
        Object[] vs = new Object[args.length];
        for (int i = 0; i < args.length; i++) {
          vs[i] = args[i].eval(t);
        }
        return Values.call(name, vs);
      };
    }
    throw new IllegalStateException("unknown expression " + e);
  }

  private Evaluator in(Expr.In in) {
    Evaluator operand = value(in.operand());
    boolean negated = in.negated();
    if (in.items().stream().allMatch(i -> i instanceof Expr.Literal)) {
      // Constant lists: strings and whole numbers go into hash sets (numbers as Double when
      // fractional, so 1 and 1.0 still meet); other constants are few and checked one by one.
      Set<String> strings = new HashSet<>();
      Set<Double> numbers = new HashSet<>();
      List<Object> others = new ArrayList<>();
      List<Object> allNumbers = new ArrayList<>();
      for (Expr i : in.items()) {
        Object v = ((Expr.Literal) i).value();
        if (v instanceof String s) {
          strings.add(s);
        } else if (v instanceof Number n && isExactDouble(n)) {
          numbers.add(n.doubleValue() == 0 ? 0.0 : n.doubleValue());
          allNumbers.add(n);
        } else if (v != null) {
          others.add(v);
        }
      }
      others.forEach(
          o -> {
            if (o instanceof Number) {
              allNumbers.add(o);
            }
          });
      Object[] rest = others.toArray();
      Object[] numberItems = allNumbers.toArray();
      return t -> {
        Object v = operand.eval(t);
        if (v == null) {
          return null;
        }
        boolean hit;
        if (v instanceof String s) {
          hit = strings.contains(s);
        } else if (v instanceof Number n && isExactDouble(n)) {
          hit = numbers.contains(n.doubleValue() == 0 ? 0.0 : n.doubleValue());
          if (!hit) {
            hit = Values.in(v, rest, false) == Boolean.TRUE;
          }
        } else if (v instanceof Number) {
          hit = Values.in(v, numberItems, false) == Boolean.TRUE;
        } else {
          hit = Values.in(v, rest, false) == Boolean.TRUE;
        }
        return hit != negated;
      };
    }
    Evaluator[] items = in.items().stream().map(this::value).toArray(Evaluator[]::new);
    return t -> {
      Object[] vs = new Object[items.length];
      for (int i = 0; i < items.length; i++) {
        vs[i] = items[i].eval(t);
      }
      return Values.in(operand.eval(t), vs, negated);
    };
  }

  /** Whether a number's double value identifies it exactly (so hashing doubles is safe). */
  private static boolean isExactDouble(Number n) {
    if (n instanceof Double) {
      return true;
    }
    long l = n.longValue();
    return Math.abs(l) <= (1L << 53);
  }
}
