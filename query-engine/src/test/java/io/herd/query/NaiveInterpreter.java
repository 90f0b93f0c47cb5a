package io.herd.query;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinArray;
import io.herd.core.twin.TwinNode;
import io.herd.query.ast.Expr;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A deliberately simple tree-walking interpreter over the unbound, unoptimized AST, written apart
 * from the compiler: paths are looked up by walking the twin on every call, numbers compare as
 * BigDecimal, nothing is cached or specialised. Property tests check the compiler against it.
 * Covers the paths and functions the generators produce.
 */
final class NaiveInterpreter {
  private NaiveInterpreter() {}

  static final Object UNDEFINED = null;

  static boolean matches(Expr condition, Twin t) {
    return eval(condition, t) instanceof Boolean b && b;
  }

  static Object eval(Expr e, Twin t) {
    if (e instanceof Expr.Literal l) {
      return l.value();
    }
    if (e instanceof Expr.Path p) {
      return path(p.segments(), t);
    }
    if (e instanceof Expr.Unary u) {
      Object v = eval(u.operand(), t);
      if (u.op() == Expr.UnaryOp.NOT) {
        return v instanceof Boolean b ? !b : UNDEFINED;
      }
      if (v instanceof Long l) {
        return -l;
      }
      return v instanceof Double d ? -d : UNDEFINED;
    }
    if (e instanceof Expr.Logical l) {
      List<Object> vs = new ArrayList<>();
      for (Expr o : l.operands()) {
        vs.add(eval(o, t));
      }
      if (l.and()) {
        if (vs.contains(Boolean.FALSE)) {
          return false;
        }
        return vs.stream().allMatch(Boolean.TRUE::equals) ? true : UNDEFINED;
      }
      if (vs.contains(Boolean.TRUE)) {
        return true;
      }
      return vs.stream().allMatch(Boolean.FALSE::equals) ? false : UNDEFINED;
    }
    if (e instanceof Expr.Binary b) {
      Object x = eval(b.left(), t);
      Object y = eval(b.right(), t);
      return b.op().isComparison() ? compare(b.op().symbol, x, y) : arithmetic(b.op().symbol, x, y);
    }
    if (e instanceof Expr.In in) {
      Object x = eval(in.operand(), t);
      if (x == UNDEFINED) {
        return UNDEFINED;
      }
      for (Expr item : in.items()) {
        if (Boolean.TRUE.equals(compare("=", x, eval(item, t)))) {
          return !in.negated();
        }
      }
      return in.negated();
    }
    if (e instanceof Expr.Call c) {
      List<Object> args = new ArrayList<>();
      for (Expr a : c.args()) {
        args.add(eval(a, t));
      }
      return call(c.name().toUpperCase(Locale.ROOT), args);
    }
    // The oracle covers what the generators produce; anything else fails the property loudly.
    throw new UnsupportedOperationException(
        "the generators made an expression the oracle lacks: " + e);
  }

  static Object path(List<String> segs, Twin t) {
    Object v;
    int i;
    switch (segs.get(0)) {
      case "deviceId":
        return segs.size() == 1 ? t.key().deviceId() : UNDEFINED;
      case "status":
        return segs.size() == 1 ? t.identity().status() : UNDEFINED;
      case "tags":
        v = t.tags();
        i = 1;
        break;
      case "properties":
        v = segs.get(1).equals("desired") ? t.desired() : t.reported();
        i = 2;
        break;
      default:
        throw new UnsupportedOperationException(
            "the generators made a path the oracle lacks: " + segs);
    }
    for (; i < segs.size(); i++) {
      if (!(v instanceof TwinNode n)) {
        return UNDEFINED;
      }
      v = n.get(segs.get(i));
    }
    return v;
  }

  static Object compare(String op, Object x, Object y) {
    if (x == UNDEFINED || y == UNDEFINED) {
      return UNDEFINED;
    }
    int c;
    if (x instanceof Number a && y instanceof Number b) {
      c = new BigDecimal(a.toString()).compareTo(new BigDecimal(b.toString()));
    } else if (x instanceof String a && y instanceof String b) {
      c = a.compareTo(b);
    } else if (x instanceof Boolean a && y instanceof Boolean b) {
      if (op.equals("=")) {
        return a.equals(b);
      }
      return op.equals("!=") ? !a.equals(b) : false;
    } else if (x == Expr.Null.NULL && y == Expr.Null.NULL) {
      return op.equals("=");
    } else {
      return false;
    }
    return switch (op) {
      case "=" -> c == 0;
      case "!=" -> c != 0;
      case "<" -> c < 0;
      case "<=" -> c <= 0;
      case ">" -> c > 0;
      case ">=" -> c >= 0;
      default -> throw new IllegalArgumentException(op);
    };
  }

  static Object arithmetic(String op, Object x, Object y) {
    if (!(x instanceof Number a) || !(y instanceof Number b)) {
      return UNDEFINED;
    }
    if (a instanceof Long l && b instanceof Long r) {
      // the generators keep integers small, so no overflow here
      switch (op) {
        case "+":
          return l + r;
        case "-":
          return l - r;
        case "*":
          return l * r;
        case "/":
          if (r == 0) {
            return UNDEFINED;
          }
          return l % r == 0 ? (Object) (l / r) : (Object) ((double) l / r);
        case "%":
          return r == 0 ? UNDEFINED : (Object) (l % r);
        default:
          throw new IllegalArgumentException(op);
      }
    }
    double l = a.doubleValue();
    double r = b.doubleValue();
    switch (op) {
      case "+":
        return l + r;
      case "-":
        return l - r;
      case "*":
        return l * r;
      case "/":
        return r == 0 ? UNDEFINED : (Object) (l / r);
      case "%":
        return r == 0 ? UNDEFINED : (Object) (l % r);
      default:
        throw new IllegalArgumentException(op);
    }
  }

  static Object call(String name, List<Object> a) {
    Object x = a.get(0);
    switch (name) {
      case "IS_DEFINED":
        return x != UNDEFINED;
      case "IS_STRING":
        return x instanceof String;
      case "IS_NUMBER":
        return x instanceof Long || x instanceof Double;
      case "IS_OBJECT":
        return x instanceof TwinNode;
      case "STARTSWITH":
        return x instanceof String s && a.get(1) instanceof String p ? s.startsWith(p) : UNDEFINED;
      case "CONTAINS":
        return x instanceof String s && a.get(1) instanceof String p ? s.contains(p) : UNDEFINED;
      case "LOWER":
        return x instanceof String s ? s.toLowerCase(Locale.ROOT) : UNDEFINED;
      case "LENGTH":
        return x instanceof String s ? (Object) (long) s.length() : UNDEFINED;
      case "ABS":
        if (x instanceof Long l) {
          return Math.abs(l);
        }
        return x instanceof Double d ? (Object) Math.abs(d) : UNDEFINED;
      case "ARRAY_CONTAINS":
        if (!(x instanceof TwinArray arr) || a.get(1) == UNDEFINED) {
          return UNDEFINED;
        }
        for (int i = 0; i < arr.size(); i++) {
          Object item = arr.get(i) == null ? Expr.Null.NULL : arr.get(i);
          if (Boolean.TRUE.equals(compare("=", item, a.get(1)))) {
            return true;
          }
        }
        return false;
      default:
        throw new UnsupportedOperationException(
            "the generators made a function the oracle lacks: " + name);
    }
  }
}
