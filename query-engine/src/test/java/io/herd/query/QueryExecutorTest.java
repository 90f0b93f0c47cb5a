package io.herd.query;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinKey;
import io.herd.core.twin.TwinNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QueryExecutorTest {
  private static final List<Twin> FLEET = TestTwins.fleet();

  private static List<Object> run(String query) {
    return QueryExecutor.run(QueryEngine.compile(query), FLEET, 0);
  }

  private static Map<String, Object> row(Object... kv) {
    Map<String, Object> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void selectStarReturnsTheTwinsThemselves() {
    List<Object> rows = run("SELECT * FROM devices WHERE tags.city = 'Oslo'");
    assertThat(rows).containsExactly(FLEET.get(0), FLEET.get(2));
    assertThat(QueryEngine.compile("SELECT * FROM devices").itemType())
        .isEqualTo(CompiledQuery.ItemType.TWIN);
  }

  @Test
  void projectionsAreKeyedByAliasOrLastSegmentAndLeaveOutUndefined() {
    List<Object> rows =
        run(
            "SELECT DeviceId, properties.reported.temp, tags.floor AS f FROM devices WHERE deviceId IN ['d1', 'd4']");
    assertThat(rows)
        .containsExactly(row("deviceId", "d1", "temp", 21.5, "f", 3L), row("deviceId", "d4"));
    assertThat(QueryEngine.compile("SELECT deviceId FROM devices").itemType())
        .isEqualTo(CompiledQuery.ItemType.RAW);
  }

  @Test
  void projectsObjectsAsTwinNodes() {
    List<Object> rows = run("SELECT tags.building FROM devices WHERE deviceId = 'd1'");
    assertThat(((Map<?, ?>) rows.get(0)).get("building")).isInstanceOf(TwinNode.class);
  }

  @Test
  void minAndMaxOfEqualNumbersInTwoFormsDoNotDependOnTheOrderOfTheTwins() {
    List<Twin> twins = new ArrayList<>();
    Object[] values = {0L, 0.0, -0.0, 2L, 2.0};
    for (int i = 0; i < values.length; i++) {
      twins.add(
          TestTwins.twin(
              TwinKey.device("v" + i),
              TestTwins.node("v", values[i]),
              TestTwins.desired(),
              TwinNode.EMPTY,
              TestTwins.identity("enabled", "Connected", null, false)));
    }
    CompiledQuery q =
        QueryEngine.compile(
            "SELECT MIN(tags.v) AS lo, MAX(tags.v) AS hi FROM devices WHERE tags.v < 1");
    CompiledQuery all = QueryEngine.compile("SELECT MAX(tags.v) AS hi FROM devices");
    for (int turn = 0; turn < 2; turn++) {
      // -0.0 < 0.0 < 0 among the zeros, and a double before a long of the same value.
      assertThat(QueryExecutor.run(q, twins, 0)).containsExactly(row("lo", -0.0, "hi", 0L));
      assertThat(QueryExecutor.run(all, twins, 0)).containsExactly(row("hi", 2L));
      Collections.reverse(twins);
    }
  }

  @Test
  void countsWithoutGroupByInOneRowEvenWhenNothingMatches() {
    assertThat(run("SELECT COUNT() AS n FROM devices")).containsExactly(row("n", 5L));
    assertThat(run("SELECT COUNT() AS n FROM devices WHERE deviceId = 'none'"))
        .containsExactly(row("n", 0L));
  }

  @Test
  void groupsCarryTheirKeysAndAggregates() {
    List<Object> rows =
        run(
            "SELECT tags.city, COUNT() AS n, SUM(properties.reported.temp) AS s,"
                + " AVG(properties.reported.temp) AS a, MIN(properties.reported.fw) AS lo,"
                + " MAX(properties.reported.temp) AS hi FROM devices GROUP BY tags.city");
    assertThat(rows)
        .containsExactly(
            // d3's temp is the string 'hot': SUM/AVG skip it, MAX orders strings after numbers
            row("city", "Oslo", "n", 2L, "s", 21.5, "a", 21.5, "lo", "1.2.0", "hi", "hot"),
            row("city", "Bergen", "n", 1L, "s", 18L, "a", 18.0, "lo", "1.1.0", "hi", 18L),
            row("n", 1L),
            row("city", "oslo", "n", 1L, "s", 30L, "a", 30.0, "lo", "2.0.0", "hi", 30L));
  }

  @Test
  void groupsByStatusAsIotHubShowsIt() {
    assertThat(run("SELECT status, COUNT() AS numberOfDevices FROM devices GROUP BY status"))
        .containsExactly(
            row("status", "enabled", "numberOfDevices", 4L),
            row("status", "disabled", "numberOfDevices", 1L));
  }

  @Test
  void honoursTopAndTheCallersLimit() {
    assertThat(run("SELECT TOP 2 * FROM devices")).containsExactly(FLEET.get(0), FLEET.get(1));
    assertThat(QueryExecutor.run(QueryEngine.compile("SELECT * FROM devices"), FLEET, 3))
        .hasSize(3);
    assertThat(run("SELECT TOP 0 deviceId FROM devices")).isEmpty();
  }

  @Test
  void modulesQueriesSeeModuleTwinsOnly() {
    assertThat(run("SELECT deviceId, moduleId FROM devices.modules"))
        .containsExactly(row("deviceId", "d1", "moduleId", "m1"));
  }

  @Test
  void readsIdentityVersionsAndMetadata() {
    assertThat(
            run(
                "SELECT lastActivityTime, properties.desired.$version AS dv,"
                    + " properties.reported.$version AS rv,"
                    + " properties.desired.$metadata.temp.$lastUpdatedVersion AS tv,"
                    + " properties.reported.$metadata.$lastUpdated AS ru FROM devices WHERE deviceId = 'd1'"))
        .containsExactly(
            row(
                "lastActivityTime", "2025-06-07T08:09:10.0000000Z",
                "dv", 5L,
                "rv", 7L,
                "tv", 2L,
                "ru", "2025-06-07T08:09:10.0000000Z"));
  }

  @Test
  void compiledQueriesAreReusableAcrossRuns() {
    CompiledQuery q = QueryEngine.compile("SELECT deviceId FROM devices WHERE tags.floor > 2");
    assertThat(QueryExecutor.run(q, FLEET, 0)).isEqualTo(QueryExecutor.run(q, FLEET, 0)).hasSize(2);
  }

  @Test
  void compilesJobConditions() {
    CompiledQuery q = QueryEngine.compileCondition("deviceId IN ['d1', 'd2']");
    assertThat(FLEET.stream().filter(q::matches).map(t -> t.key().deviceId()))
        .containsExactly("d1", "d2");
    assertThat(FLEET.stream().filter(QueryEngine.compileCondition("*")::matches)).hasSize(5);
  }
}
