package io.herd.query;

import static io.herd.query.RandomExprs.KEYS;
import static io.herd.query.RandomExprs.condition;
import static io.herd.query.RandomExprs.node;
import static org.assertj.core.api.Assertions.assertThat;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinKey;
import io.herd.core.twin.TwinNode;
import io.herd.query.ast.Expr;
import io.herd.query.column.ColumnQuery;
import io.herd.query.column.TwinColumns;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The column path ({@link ColumnQuery} over {@link TwinColumns}) agrees with {@link
 * NaiveInterpreter} on random fleets of device and module twins that then change at random (new
 * values, removals, new twins taking freed slots), with random subsets of the paths in columns,
 * some added before the changes and some after, so that every condition mixes column and twin
 * parts. Aggregates agree with the row executor, and group counts with a naive grouping.
 */
class ColumnQueryPropertyTest {
  private static final List<String> PATHS = paths();

  private static List<String> paths() {
    List<String> out = new ArrayList<>(List.of("deviceId", "status"));
    for (String section : List.of("tags", "properties.reported")) {
      for (String k : KEYS) {
        out.add(section + "." + k);
        for (String k2 : KEYS) {
          out.add(section + "." + k + "." + k2);
        }
      }
    }
    return out;
  }

  /** A store after a random history, and the twins it should hold. */
  record Fleet(TwinColumns columns, Map<TwinKey, Twin> twins, String history) {
    List<Twin> list() {
      return new ArrayList<>(twins.values());
    }
  }

  @Provide
  Arbitrary<Fleet> fleets() {
    return Arbitraries.randomValue(ColumnQueryPropertyTest::fleet);
  }

  @Provide
  Arbitrary<Expr> conditions() {
    return Arbitraries.randomValue(r -> condition(r, 3));
  }

  private static Fleet fleet(Random r) {
    TwinColumns columns = new TwinColumns(1_000);
    Map<TwinKey, Twin> truth = new LinkedHashMap<>();
    StringBuilder history = new StringBuilder();
    List<String> early = new ArrayList<>();
    List<String> late = new ArrayList<>();
    for (String p : PATHS) {
      int k = r.nextInt(10);
      if (k < 4) {
        early.add(p);
      } else if (k < 8) {
        late.add(p);
      }
    }
    int n = 1 + r.nextInt(10);
    for (int i = 0; i < n; i++) {
      put(columns, truth, key(r, n), r, history);
    }
    early.forEach(p -> columns.add(p, r.nextBoolean()));
    history.append(" columns ").append(early);
    for (int i = r.nextInt(12); i > 0; i--) {
      change(columns, truth, r, n, history);
    }
    columns.add(late, false); // in one pass
    history.append(" columns ").append(late);
    for (int i = r.nextInt(6); i > 0; i--) {
      change(columns, truth, r, n, history);
    }
    return new Fleet(columns, truth, history.toString());
  }

  private static TwinKey key(Random r, int n) {
    String device = "d" + r.nextInt(n + 2);
    return r.nextInt(4) == 0 ? TwinKey.module(device, "m" + r.nextInt(2)) : TwinKey.device(device);
  }

  private static void put(
      TwinColumns columns, Map<TwinKey, Twin> truth, TwinKey key, Random r, StringBuilder history) {
    Twin t =
        TestTwins.twin(
            key,
            node(r, 2),
            TwinNode.EMPTY,
            node(r, 2),
            TestTwins.identity(r.nextBoolean() ? "enabled" : "disabled", "Connected", null, false));
    columns.update(key, t);
    truth.put(key, t);
    history.append(" put ").append(key);
  }

  private static void change(
      TwinColumns columns, Map<TwinKey, Twin> truth, Random r, int n, StringBuilder history) {
    List<TwinKey> keys = new ArrayList<>(truth.keySet());
    if (!keys.isEmpty() && r.nextInt(4) == 0) {
      TwinKey gone = keys.get(r.nextInt(keys.size()));
      columns.update(gone, null);
      truth.remove(gone);
      history.append(" remove ").append(gone);
    } else if (!keys.isEmpty() && r.nextBoolean()) {
      put(columns, truth, keys.get(r.nextInt(keys.size())), r, history);
    } else {
      put(columns, truth, key(r, n), r, history);
    }
  }

  private static Set<TwinKey> keys(List<Twin> twins) {
    Set<TwinKey> out = new TreeSet<>((a, b) -> a.toString().compareTo(b.toString()));
    twins.forEach(t -> out.add(t.key()));
    return out;
  }

  @Property(tries = 2000)
  void columnMatchesAgreeWithNaiveInterpreter(
      @ForAll("fleets") Fleet fleet, @ForAll("conditions") Expr condition) {
    for (String from : List.of("devices", "devices.modules")) {
      CompiledQuery q = QueryEngine.compile("SELECT * FROM " + from + " WHERE " + condition);
      List<Twin> expected =
          fleet.list().stream()
              .filter(t -> q.inSource(t) && NaiveInterpreter.matches(condition, t))
              .toList();
      assertThat(keys(ColumnQuery.matches(q, fleet.columns())))
          .as(
              "%s over %s [%s]; %s",
              q.explain(),
              fleet.columns().paths(),
              ColumnQuery.explain(q, fleet.columns()),
              fleet.history())
          .isEqualTo(keys(expected));
    }
  }

  @Provide
  Arbitrary<String> aggregateQueries() {
    return Arbitraries.randomValue(
        r -> {
          String g = PATHS.get(r.nextInt(PATHS.size()));
          String arg = PATHS.get(r.nextInt(PATHS.size()));
          String where = r.nextInt(3) == 0 ? "" : " WHERE " + condition(r, 2);
          String from = r.nextInt(4) == 0 ? "devices.modules" : "devices";
          return switch (r.nextInt(4)) {
            case 0 -> "SELECT COUNT() AS n FROM " + from + where;
            case 1 -> "SELECT " + g + " AS k, COUNT() AS n FROM " + from + where + " GROUP BY " + g;
            case 2 ->
                "SELECT "
                    + g
                    + " AS k, COUNT() AS n, SUM("
                    + arg
                    + ") AS s, AVG("
                    + arg
                    + ") AS a, MIN("
                    + arg
                    + ") AS lo, MAX("
                    + arg
                    + ") AS hi FROM "
                    + from
                    + where
                    + " GROUP BY "
                    + g;
            default -> {
              String g2 = PATHS.get(r.nextInt(PATHS.size()));
              yield "SELECT "
                  + g
                  + " AS k, "
                  + g2
                  + " AS k2, COUNT() AS n, MAX("
                  + arg
                  + ") AS hi FROM "
                  + from
                  + where
                  + " GROUP BY "
                  + g
                  + ", "
                  + g2;
            }
          };
        });
  }

  @Property(tries = 1000)
  void columnAggregatesAgreeWithTheRowExecutor(
      @ForAll("fleets") Fleet fleet, @ForAll("aggregateQueries") String text) {
    CompiledQuery q = QueryEngine.compile(text);
    List<Object> rows = ColumnQuery.aggregate(q, fleet.columns());
    assertThat(rows)
        .as("%s over %s; %s", text, fleet.columns().paths(), fleet.history())
        .containsExactlyInAnyOrderElementsOf(QueryExecutor.run(q, fleet.list(), 0));
    if (q.groupBy().size() == 1 && q.columns().size() == 2) {
      // COUNT per group, grouped here without the engine.
      Expr.Path g = (Expr.Path) q.plan().query().groupBy().get(0);
      Expr where = q.plan().query().where();
      Map<List<Object>, Long> naive = new HashMap<>();
      for (Twin t : fleet.list()) {
        if (q.inSource(t) && (where == null || NaiveInterpreter.matches(where, t))) {
          naive.merge(Arrays.asList(NaiveInterpreter.path(g.segments(), t)), 1L, (a, b) -> a + b);
        }
      }
      Map<List<Object>, Long> got = new HashMap<>();
      for (Object row : rows) {
        Map<?, ?> m = (Map<?, ?>) row;
        got.put(Arrays.asList(m.get("k")), (Long) m.get("n"));
      }
      assertThat(got).as("%s; %s", text, fleet.history()).isEqualTo(naive);
    }
  }
}
