package io.herd.query.eval;

import io.herd.core.twin.TwinArray;
import io.herd.core.twin.TwinNode;
import io.herd.query.ast.Expr;
import io.herd.query.ast.Expr.BinaryOp;
import java.util.List;
import java.util.Locale;

/**
 * The value semantics of the query language, shared by the optimizer's constant folding and the
 * compiled evaluators. Values are String, Long, Double, Boolean, {@link Expr.Null#NULL} (JSON
 * null), {@link TwinNode}, {@link TwinArray}, a {@code List} (array literal), or Java null for
 * undefined.
 *
 * <ul>
 *   <li>A comparison with an undefined operand is undefined; comparing values of different types
 *       (or objects and arrays) is false. Numbers compare by value across Long and Double; strings
 *       ordinally; booleans and null only with {@code =} and {@code !=}.
 *   <li>AND is false if any operand is false, true if all are true, else undefined; OR mirrors it.
 *       NOT of a non-boolean is undefined. A condition passes only when it is exactly true.
 *   <li>Arithmetic is defined on numbers only; Long stays Long unless it overflows or a division
 *       has a remainder; division or modulo by zero is undefined.
 * </ul>
 */
public final class Values {
  private Values() {}

  public static boolean isPrimitive(Object v) {
    return v instanceof String
        || v instanceof Number
        || v instanceof Boolean
        || v == Expr.Null.NULL;
  }

  /** An element of a twin array as a query value: JSON null inside arrays becomes NULL. */
  public static Object element(Object v) {
    return v == null ? Expr.Null.NULL : v;
  }

  /** Numeric comparison across Long and Double; -0.0 equals 0.0. */
  public static int compareNumbers(Number a, Number b) {
    if (a instanceof Long x && b instanceof Long y) {
      return Long.compare(x, y);
    }
    double x = a.doubleValue();
    double y = b.doubleValue();
    return x < y ? -1 : x > y ? 1 : 0;
  }

  /** {@code a op b} for a comparison operator: TRUE, FALSE, or null (undefined). */
  public static Boolean compare(BinaryOp op, Object a, Object b) {
    if (a == null || b == null) {
      return null;
    }
    int c;
    if (a instanceof Number x && b instanceof Number y) {
      c = compareNumbers(x, y);
    } else if (a instanceof String x && b instanceof String y) {
      c = x.compareTo(y);
    } else if ((a instanceof Boolean && b instanceof Boolean)
        || (a == Expr.Null.NULL && b == Expr.Null.NULL)) {
      return switch (op) {
        case EQ -> a.equals(b);
        case NE -> !a.equals(b);
        default -> Boolean.FALSE;
      };
    } else {
      return Boolean.FALSE;
    }
    return test(op, c);
  }

  /** Applies a comparison operator to the result of a compare(). */
  public static boolean test(BinaryOp op, int c) {
    return switch (op) {
      case EQ -> c == 0;
      case NE -> c != 0;
      case LT -> c < 0;
      case LE -> c <= 0;
      case GT -> c > 0;
      case GE -> c >= 0;
      default -> throw new IllegalArgumentException(op + " is not a comparison");
    };
  }

  /**
   * Whether two defined values are equal in the sense of {@code =} (used by IN, ARRAY_CONTAINS).
   */
  public static boolean equal(Object a, Object b) {
    return compare(BinaryOp.EQ, a, b) == Boolean.TRUE;
  }

  public static Object arithmetic(BinaryOp op, Object a, Object b) {
    if (!(a instanceof Number x) || !(b instanceof Number y)) {
      return null;
    }
    if (x instanceof Long l && y instanceof Long r) {
      try {
        return switch (op) {
          case ADD -> Math.addExact(l, r);
          case SUB -> Math.subtractExact(l, r);
          case MUL -> Math.multiplyExact(l, r);
          case DIV ->
              r == 0
                  ? null
                  : l % r == 0 && !(l == Long.MIN_VALUE && r == -1) ? l / r : (double) l / r;
          case MOD -> r == 0 ? null : l % r;
          default -> throw new IllegalArgumentException(op + " is not arithmetic");
        };
      } catch (ArithmeticException overflow) {
        // fall through to doubles
      }
    }
    double l = x.doubleValue();
    double r = y.doubleValue();
    return switch (op) {
      case ADD -> l + r;
      case SUB -> l - r;
      case MUL -> l * r;
      case DIV -> r == 0 ? null : l / r;
      case MOD -> r == 0 ? null : l % r;
      default -> throw new IllegalArgumentException(op + " is not arithmetic");
    };
  }

  public static Object negate(Object a) {
    if (a instanceof Long l) {
      return l == Long.MIN_VALUE ? -(double) l : -l;
    }
    if (a instanceof Double d) {
      return -d;
    }
    return null;
  }

  public static Object not(Object a) {
    return a instanceof Boolean b ? !b : null;
  }

  /** AND (and=true) or OR over already evaluated operands. */
  public static Boolean logical(boolean and, Object[] vs) {
    boolean all = true;
    for (Object v : vs) {
      if (v instanceof Boolean b) {
        if (b != and) {
          return !and;
        }
      } else {
        all = false;
      }
    }
    return all ? and : null;
  }

  /** {@code a IN items} (or NIN when negated). */
  public static Boolean in(Object a, Object[] items, boolean negated) {
    if (a == null) {
      return null;
    }
    for (Object item : items) {
      if (equal(a, item)) {
        return !negated;
      }
    }
    return negated;
  }

  /** Calls a (non-aggregate) function with canonical name {@code name}; see {@link Functions}. */
  public static Object call(String name, Object[] a) {
    switch (name) {
      case "IS_DEFINED":
        return a[0] != null;
      case "IS_NULL":
        return a[0] == Expr.Null.NULL;
      case "IS_BOOL":
        return a[0] instanceof Boolean;
      case "IS_NUMBER":
        return a[0] instanceof Number;
      case "IS_STRING":
        return a[0] instanceof String;
      case "IS_OBJECT":
        return a[0] instanceof TwinNode;
      case "IS_ARRAY":
        return a[0] instanceof TwinArray || a[0] instanceof List;
      case "IS_PRIMITIVE":
        return isPrimitive(a[0]);
      case "STARTSWITH":
        return a[0] instanceof String s && a[1] instanceof String p ? s.startsWith(p) : null;
      case "ENDSWITH":
        return a[0] instanceof String s && a[1] instanceof String p ? s.endsWith(p) : null;
      case "CONTAINS":
        return a[0] instanceof String s && a[1] instanceof String p ? s.contains(p) : null;
      case "LOWER":
        return a[0] instanceof String s ? s.toLowerCase(Locale.ROOT) : null;
      case "UPPER":
        return a[0] instanceof String s ? s.toUpperCase(Locale.ROOT) : null;
      case "LENGTH":
        return a[0] instanceof String s ? (Object) (long) s.length() : null;
      case "CONCAT":
        {
          StringBuilder sb = new StringBuilder();
          for (Object v : a) {
            if (!(v instanceof String s)) {
              return null;
            }
            sb.append(s);
          }
          return sb.toString();
        }
      case "SUBSTRING":
        {
          if (!(a[0] instanceof String s)
              || !(a[1] instanceof Number from)
              || !(a[2] instanceof Number len)) {
            return null;
          }
          long start = Math.max(0, Math.min(s.length(), from.longValue()));
          long end = Math.min(s.length(), start + Math.max(0, len.longValue()));
          return s.substring((int) start, (int) end);
        }
      case "INDEX_OF":
        return a[0] instanceof String s && a[1] instanceof String p
            ? (Object) (long) s.indexOf(p)
            : null;
      case "ABS":
        return a[0] instanceof Long l
            ? (l == Long.MIN_VALUE ? (Object) (-(double) l) : (Object) Math.abs(l))
            : a[0] instanceof Double d ? (Object) Math.abs(d) : null;
      case "CEILING":
        return a[0] instanceof Long
            ? a[0]
            : a[0] instanceof Double d ? (Object) Math.ceil(d) : null;
      case "FLOOR":
        return a[0] instanceof Long
            ? a[0]
            : a[0] instanceof Double d ? (Object) Math.floor(d) : null;
      case "ROUND":
        // half away from zero, as Cosmos-style SQL does
        return a[0] instanceof Long
            ? a[0]
            : a[0] instanceof Double d
                ? (Object) (d >= 0 ? Math.floor(d + 0.5) : -Math.floor(-d + 0.5))
                : null;
      case "ARRAY_CONTAINS":
        {
          if (a[1] == null) {
            return null;
          }
          if (a[0] instanceof TwinArray arr) {
            for (int i = 0; i < arr.size(); i++) {
              if (equal(element(arr.get(i)), a[1])) {
                return true;
              }
            }
            return false;
          }
          if (a[0] instanceof List<?> l) {
            for (Object v : l) {
              if (equal(v, a[1])) {
                return true;
              }
            }
            return false;
          }
          return null;
        }
      default:
        throw new IllegalArgumentException("not a scalar function: " + name);
    }
  }
}
