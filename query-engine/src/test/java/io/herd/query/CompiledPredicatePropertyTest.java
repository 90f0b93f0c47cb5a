package io.herd.query;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinArray;
import io.herd.core.twin.TwinKey;
import io.herd.core.twin.TwinNode;
import io.herd.query.ast.Expr;
import io.herd.query.ast.Expr.BinaryOp;
import io.herd.query.parse.Parser;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The compiled predicate (parsed from the condition's canonical text, bound, optimized and
 * compiled) agrees with {@link NaiveInterpreter} walking the generated AST, on random twins with
 * nested tags and reported values of mixed types.
 */
class CompiledPredicatePropertyTest {
  private static final String[] KEYS = {"a", "b", "c"};
  private static final String[] STRINGS = {"x", "X", "xy", "y", "", "it's"};
  private static final Object[] CONSTANTS = {
    0L, 1L, -2L, 3L, 0.5, -1.5, 2.0, "x", "X", "xy", "y", "", "it's", true, false, Expr.Null.NULL
  };

  @Provide
  Arbitrary<Expr> conditions() {
    return Arbitraries.randomValue(r -> condition(r, 3));
  }

  @Provide
  Arbitrary<List<Twin>> fleets() {
    return Arbitraries.randomValue(
        r -> {
          List<Twin> fleet = new ArrayList<>();
          int n = 1 + r.nextInt(8);
          for (int i = 0; i < n; i++) {
            fleet.add(
                TestTwins.twin(
                    TwinKey.device("d" + i),
                    node(r, 2),
                    TwinNode.EMPTY,
                    node(r, 2),
                    TestTwins.identity(
                        r.nextBoolean() ? "enabled" : "disabled", "Connected", null, false)));
          }
          return fleet;
        });
  }

  @Property(tries = 3000)
  void compiledPredicateAgreesWithNaiveInterpreter(
      @ForAll("conditions") Expr condition, @ForAll("fleets") List<Twin> fleet) {
    CompiledQuery q = QueryEngine.compile("SELECT * FROM devices WHERE " + condition);
    for (Twin t : fleet) {
      assertThat(q.where().test(t))
          .as("%s on %s/%s (plan %s)", condition, t.tags(), t.reported(), q.explain())
          .isEqualTo(NaiveInterpreter.matches(condition, t));
    }
  }

  /** Dense in one shape: a path against a constant, on twins whose values are all primitive. */
  @Provide
  Arbitrary<Expr> comparisons() {
    return Arbitraries.randomValue(
        r -> {
          Expr path = new Expr.Path(List.of("tags", pick(r, KEYS)), 0);
          Expr constant = new Expr.Literal(CONSTANTS[r.nextInt(CONSTANTS.length)], 0);
          BinaryOp op = BinaryOp.values()[r.nextInt(6)];
          return r.nextBoolean()
              ? new Expr.Binary(op, path, constant, 0)
              : new Expr.Binary(op, constant, path, 0);
        });
  }

  @Provide
  Arbitrary<List<Twin>> flatFleets() {
    return Arbitraries.randomValue(
        r -> {
          List<Twin> fleet = new ArrayList<>();
          for (int i = 0; i < 6; i++) {
            TwinNode.Builder b = new TwinNode.Builder(false);
            for (String k : KEYS) {
              if (r.nextInt(5) > 0) {
                b.put(
                    k,
                    r.nextBoolean() ? CONSTANTS[r.nextInt(CONSTANTS.length - 1)] : value(r, 0),
                    1,
                    0);
              }
            }
            fleet.add(
                TestTwins.twin(
                    TwinKey.device("d" + i),
                    b.build(),
                    TwinNode.EMPTY,
                    TwinNode.EMPTY,
                    TestTwins.identity("enabled", "Connected", null, false)));
          }
          return fleet;
        });
  }

  @Property(tries = 2000)
  void specialisedComparisonsAgreeWithNaiveInterpreter(
      @ForAll("comparisons") Expr condition, @ForAll("flatFleets") List<Twin> fleet) {
    CompiledQuery q = QueryEngine.compile("SELECT * FROM devices WHERE " + condition);
    for (Twin t : fleet) {
      assertThat(q.where().test(t))
          .as("%s on %s", condition, t.tags())
          .isEqualTo(NaiveInterpreter.matches(condition, t));
    }
  }

  @Property(tries = 500)
  void canonicalTextParsesBackToItself(@ForAll("conditions") Expr condition) {
    String text = condition.toString();
    assertThat(Parser.parseCondition(text).toString()).isEqualTo(text);
  }

  @Property(tries = 300)
  void projectedValuesAgreeWithNaiveInterpreter(
      @ForAll("conditions") Expr condition, @ForAll("fleets") List<Twin> fleet) {
    CompiledQuery q = QueryEngine.compile("SELECT " + condition + " AS v FROM devices");
    List<Object> rows = QueryExecutor.run(q, fleet, 0);
    for (int i = 0; i < fleet.size(); i++) {
      Object expected = NaiveInterpreter.eval(condition, fleet.get(i));
      @SuppressWarnings("unchecked")
      java.util.Map<String, Object> row = (java.util.Map<String, Object>) rows.get(i);
      if (expected == null) {
        assertThat(row).as("%s", condition).doesNotContainKey("v");
      } else {
        Object actual = row.get("v");
        if (expected instanceof Number en && actual instanceof Number an) {
          assertThat(an.doubleValue()).as("%s", condition).isEqualTo(en.doubleValue());
        } else {
          assertThat(actual)
              .as("%s", condition)
              .isEqualTo(expected == Expr.Null.NULL ? null : expected);
        }
      }
    }
  }

  private static TwinNode node(Random r, int depth) {
    TwinNode.Builder b = new TwinNode.Builder(false);
    for (String k : KEYS) {
      if (r.nextInt(4) > 0) {
        b.put(k, value(r, depth), 1, 0);
      }
    }
    return b.build();
  }

  private static Object value(Random r, int depth) {
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

  private static Expr path(Random r) {
    return switch (r.nextInt(6)) {
      case 0 -> new Expr.Path(List.of("deviceId"), 0);
      case 1 -> new Expr.Path(List.of("status"), 0);
      case 2 -> new Expr.Path(List.of("tags", pick(r, KEYS)), 0);
      case 3 -> new Expr.Path(List.of("tags", pick(r, KEYS), pick(r, KEYS)), 0);
      case 4 -> new Expr.Path(List.of("properties", "reported", pick(r, KEYS)), 0);
      default -> new Expr.Path(List.of("properties", "reported", pick(r, KEYS), pick(r, KEYS)), 0);
    };
  }

  private static String pick(Random r, String[] a) {
    return a[r.nextInt(a.length)];
  }

  private static Expr constant(Random r) {
    if (r.nextInt(10) == 0) {
      return new Expr.Literal(r.nextBoolean() ? "d" + r.nextInt(3) : "enabled", 0);
    }
    return new Expr.Literal(CONSTANTS[r.nextInt(CONSTANTS.length)], 0);
  }

  /** A value expression: path, constant, arithmetic or a value function. */
  private static Expr value(Random r, int depth, boolean allowConstant) {
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

  private static Expr condition(Random r, int depth) {
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
