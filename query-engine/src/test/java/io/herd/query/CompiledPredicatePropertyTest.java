package io.herd.query;

import static io.herd.query.RandomExprs.CONSTANTS;
import static io.herd.query.RandomExprs.KEYS;
import static io.herd.query.RandomExprs.condition;
import static io.herd.query.RandomExprs.node;
import static io.herd.query.RandomExprs.pick;
import static io.herd.query.RandomExprs.value;
import static org.assertj.core.api.Assertions.assertThat;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinKey;
import io.herd.core.twin.TwinNode;
import io.herd.query.ast.Expr;
import io.herd.query.ast.Expr.BinaryOp;
import io.herd.query.parse.Parser;
import java.util.ArrayList;
import java.util.List;
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
}
