package io.herd.query;

import io.herd.core.twin.TwinArray;
import io.herd.core.twin.TwinNode;
import io.herd.query.ast.Expr;
import io.herd.query.ast.Expr.BinaryOp;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random twin content and random conditions over it, for the property tests: values of every type
 * (numbers that are and are not whole, strings that differ only in case, booleans, arrays, nested
 * objects) under the keys a, b and c of tags and reported properties, and conditions that compare,
 * test, combine and compute over those paths, {@code deviceId} and {@code status}.
 */
final class RandomExprs {
  static final String[] KEYS = {"a", "b", "c"};
  static final String[] STRINGS = {"x", "X", "xy", "y", "", "it's"};
  static final Object[] CONSTANTS = {
    0L, 1L, -2L, 3L, 0.5, -1.5, 2.0, "x", "X", "xy", "y", "", "it's", true, false, Expr.Null.NULL
  };

  private RandomExprs() {}

  static TwinNode node(Random r, int depth) {
    TwinNode.Builder b = new TwinNode.Builder(false);
    for (String k : KEYS) {
      if (r.nextInt(4) > 0) {
        b.put(k, value(r, depth), 1, 0);
      }
    }
    return b.build();
  }

  static Object value(Random r, int depth) {
    return switch (r.nextInt(depth > 0 ? 7 : 6)) {
      case 0 -> (long) (r.nextInt(7) - 3);
      case 1 -> (r.nextInt(9) - 4) / 2.0;
      case 2 -> STRINGS[r.nextInt(STRINGS.length)];
      case 3 -> r.nextBoolean();
      case 4 -> TwinArray.of((long) r.nextInt(3), STRINGS[r.nextInt(STRINGS.length)], null);
      case 5 -> (long) r.nextInt(3);
      default -> node(r, depth - 1);
    };
  }

  static Expr path(Random r) {
    return switch (r.nextInt(6)) {
      case 0 -> new Expr.Path(List.of("deviceId"), 0);
      case 1 -> new Expr.Path(List.of("status"), 0);
      case 2 -> new Expr.Path(List.of("tags", pick(r, KEYS)), 0);
      case 3 -> new Expr.Path(List.of("tags", pick(r, KEYS), pick(r, KEYS)), 0);
      case 4 -> new Expr.Path(List.of("properties", "reported", pick(r, KEYS)), 0);
      default -> new Expr.Path(List.of("properties", "reported", pick(r, KEYS), pick(r, KEYS)), 0);
    };
  }

  static String pick(Random r, String[] a) {
    return a[r.nextInt(a.length)];
  }

  static Expr constant(Random r) {
    if (r.nextInt(10) == 0) {
      return new Expr.Literal(r.nextBoolean() ? "d" + r.nextInt(3) : "enabled", 0);
    }
    return new Expr.Literal(CONSTANTS[r.nextInt(CONSTANTS.length)], 0);
  }

  /** A value expression: path, constant, arithmetic or a value function. */
  static Expr value(Random r, int depth, boolean allowConstant) {
    int k = r.nextInt(depth > 0 ? 8 : 2);
    return switch (k) {
      case 0, 6, 7 -> path(r);
      case 1 -> allowConstant ? constant(r) : path(r);
      case 2 ->
          new Expr.Binary(
              BinaryOp.values()[BinaryOp.ADD.ordinal() + r.nextInt(5)],
              value(r, depth - 1, true),
              value(r, depth - 1, true),
              0);
      case 3 ->
          new Expr.Call(
              r.nextBoolean() ? "LOWER" : "LENGTH", List.of(value(r, depth - 1, true)), 0);
      case 4 -> new Expr.Call("ABS", List.of(value(r, depth - 1, true)), 0);
      default -> new Expr.Unary(Expr.UnaryOp.NEG, path(r), 0);
    };
  }

  static Expr condition(Random r, int depth) {
    int k = r.nextInt(depth > 0 ? 9 : 4);
    return switch (k) {
      case 0, 1 ->
          new Expr.Binary(
              BinaryOp.values()[r.nextInt(6)],
              value(r, depth - 1, false),
              r.nextInt(3) == 0 ? value(r, depth - 1, true) : constant(r),
              0);
      case 2 -> {
        List<Expr> items = new ArrayList<>();
        int n = r.nextInt(4);
        for (int i = 0; i < n; i++) {
          items.add(r.nextInt(5) == 0 ? path(r) : constant(r));
        }
        yield new Expr.In(value(r, depth - 1, false), items, r.nextBoolean(), 0);
      }
      case 3 ->
          switch (r.nextInt(6)) {
            case 0 -> new Expr.Call("IS_DEFINED", List.of(path(r)), 0);
            case 1 -> new Expr.Call("IS_STRING", List.of(path(r)), 0);
            case 2 -> new Expr.Call("IS_NUMBER", List.of(path(r)), 0);
            case 3 -> new Expr.Call("STARTSWITH", List.of(path(r), constant(r)), 0);
            case 4 -> new Expr.Call("CONTAINS", List.of(value(r, 0, false), constant(r)), 0);
            default -> new Expr.Call("ARRAY_CONTAINS", List.of(path(r), constant(r)), 0);
          };
      case 4, 5 -> {
        List<Expr> ops = new ArrayList<>();
        int n = 2 + r.nextInt(2);
        for (int i = 0; i < n; i++) {
          ops.add(condition(r, depth - 1));
        }
        yield new Expr.Logical(r.nextBoolean(), ops, 0);
      }
      case 6 -> new Expr.Unary(Expr.UnaryOp.NOT, condition(r, depth - 1), 0);
      case 7 -> new Expr.Literal(r.nextBoolean(), 0);
      default -> new Expr.Call("IS_OBJECT", List.of(path(r)), 0);
    };
  }
}
