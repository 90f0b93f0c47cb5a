package io.herd.query.column;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinIdentity;
import io.herd.core.twin.TwinKey;
import io.herd.core.twin.TwinNode;
import io.herd.query.CompiledQuery;
import io.herd.query.QueryEngine;
import io.herd.query.QueryExecutor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class TwinColumnsTest {
  private static final TwinIdentity ID =
      new TwinIdentity(
          "g", "e", "enabled", null, "Disconnected", null, 0, "sas", null, null, null, false);

  private static Twin twin(TwinKey key, Object site, long floor) {
    TwinNode.Builder tags = new TwinNode.Builder(false);
    if (site != null) {
      tags.put("site", site, 1, 0);
    }
    tags.put("floor", floor, 1, 0);
    return new Twin(key, 2, tags.build(), TwinNode.EMPTY, 1, TwinNode.EMPTY, 1, ID);
  }

  private static List<TwinKey> keys(List<Twin> twins) {
    return twins.stream().map(Twin::key).sorted(TwinColumnsTest::order).toList();
  }

  private static int order(TwinKey a, TwinKey b) {
    return a.toString().compareTo(b.toString());
  }

  private static void assertAgrees(String text, TwinColumns columns, Map<TwinKey, Twin> truth) {
    CompiledQuery q = QueryEngine.compile(text);
    List<Twin> expected = truth.values().stream().filter(q::matches).toList();
    assertThat(keys(ColumnQuery.matches(q, columns))).as(text).isEqualTo(keys(expected));
  }

  @Test
  void keysStayFindableThroughManyAddsRemovesAndSlotReuse() {
    TwinColumns columns = new TwinColumns(100);
    columns.add("tags.floor", true);
    Map<TwinKey, Twin> truth = new HashMap<>();
    Random r = new Random(7);
    for (int i = 0; i < 60_000; i++) {
      TwinKey key =
          r.nextInt(5) == 0
              ? TwinKey.module("d" + r.nextInt(20_000), "m" + r.nextInt(3))
              : TwinKey.device("d" + r.nextInt(20_000));
      if (r.nextInt(3) == 0) {
        columns.update(key, null);
        truth.remove(key);
      } else {
        Twin t = twin(key, "s" + r.nextInt(50), r.nextInt(12));
        columns.update(key, t);
        truth.put(key, t);
      }
    }
    assertThat(columns.size()).isEqualTo(truth.size());
    assertAgrees("SELECT * FROM devices WHERE tags.floor >= 6", columns, truth);
    assertAgrees("SELECT * FROM devices.modules WHERE tags.floor < 3", columns, truth);
    assertAgrees("SELECT * FROM devices", columns, truth);
  }

  @Test
  void deadCodesAreCompactedAway() {
    TwinColumns columns = new TwinColumns(10_000);
    columns.add("tags.site", true);
    Map<TwinKey, Twin> truth = new HashMap<>();
    for (int d = 0; d < 10; d++) {
      TwinKey k = TwinKey.device("d" + d);
      truth.put(k, twin(k, "fixed-" + d, d));
      columns.update(k, truth.get(k));
    }
    long before = columns.heapBytes();
    TwinKey busy = TwinKey.device("d0");
    for (int i = 0; i < 50_000; i++) {
      truth.put(busy, twin(busy, "v" + i, 0));
      columns.update(busy, truth.get(busy));
    }
    // 50,000 values came and went; only 10 are live and far fewer than 50,000 are held.
    assertThat(columns.distinct("tags.site")).isEqualTo(10);
    assertThat(columns.heapBytes()).isLessThan(before + 200_000);
    assertAgrees("SELECT * FROM devices WHERE tags.site = 'v49999'", columns, truth);
    assertAgrees("SELECT * FROM devices WHERE tags.site = 'v100'", columns, truth);
    assertAgrees("SELECT * FROM devices WHERE tags.site >= 'fixed-5'", columns, truth);
  }

  @Test
  void aPathWithTooManyValuesIsRejectedAndQueriesReadTheTwins() {
    TwinColumns columns = new TwinColumns(10);
    Map<TwinKey, Twin> truth = new HashMap<>();
    for (int d = 0; d < 30; d++) {
      TwinKey k = TwinKey.device("d" + d);
      truth.put(k, twin(k, "s" + d, d % 3));
      columns.update(k, truth.get(k));
    }
    assertThat(columns.add("tags.site", false)).isFalse();
    assertThat(columns.isRejected("tags.site")).isTrue();
    assertThat(columns.add("tags.floor", false)).isTrue();
    assertThat(columns.paths()).containsExactly("tags.floor");
    assertAgrees("SELECT * FROM devices WHERE tags.site = 's4' AND tags.floor = 1", columns, truth);
    // A column that grows past the limit later is dropped as well.
    columns.add("tags.floor", false);
    for (int d = 0; d < 30; d++) {
      TwinKey k = TwinKey.device("d" + d);
      truth.put(k, twin(k, "s" + d, d));
      columns.update(k, truth.get(k));
    }
    assertThat(columns.paths()).isEmpty();
    assertThat(columns.isRejected("tags.floor")).isTrue();
    assertAgrees("SELECT * FROM devices WHERE tags.floor > 20", columns, truth);
  }

  @Test
  void aColumnBuiltWhileTwinsChangeEndsUpCurrent() throws Exception {
    TwinColumns columns = new TwinColumns(1_000);
    Map<TwinKey, Twin> truth = new ConcurrentHashMap<>();
    for (int d = 0; d < 60_000; d++) {
      TwinKey k = TwinKey.device("d" + d);
      truth.put(k, twin(k, "s" + d % 100, d % 12));
      columns.update(k, truth.get(k));
    }
    AtomicBoolean done = new AtomicBoolean();
    Thread writer =
        new Thread(
            () -> {
              Random r = new Random(3);
              while (!done.get()) {
                TwinKey k = TwinKey.device("d" + r.nextInt(70_000));
                if (r.nextInt(10) == 0) {
                  // Twins are changed one writer at a time, like a shard does.
                  truth.remove(k);
                  columns.update(k, null);
                } else {
                  Twin t = twin(k, r.nextBoolean() ? null : "s" + r.nextInt(120), r.nextInt(12));
                  truth.put(k, t);
                  columns.update(k, t);
                }
              }
            });
    writer.start();
    assertThat(columns.add("tags.site", false)).isTrue();
    assertThat(columns.add(List.of("tags.floor", "status"), true))
        .containsExactly("status", "tags.floor");
    done.set(true);
    writer.join();
    assertAgrees("SELECT * FROM devices WHERE tags.site = 's7'", columns, truth);
    assertAgrees("SELECT * FROM devices WHERE NOT IS_DEFINED(tags.site)", columns, truth);
    CompiledQuery g =
        QueryEngine.compile(
            "SELECT tags.floor AS f, COUNT() AS n FROM devices GROUP BY tags.floor");
    assertThat(ColumnQuery.aggregate(g, columns))
        .containsExactlyInAnyOrderElementsOf(
            QueryExecutor.run(g, new ArrayList<>(truth.values()), 0));
  }

  @Test
  void groupsOfManyKeyCombinationsAgreeWithTheRowExecutor() {
    TwinColumns columns = new TwinColumns(10_000);
    List<Twin> all = new ArrayList<>();
    for (int d = 0; d < 3_000; d++) {
      TwinKey k = TwinKey.device("d" + d);
      // Two keys of 1,500 values each: more combinations than counting arrays take.
      Twin t = twin(k, "s" + d % 1_500, (d * 7) % 1_500);
      all.add(t);
      columns.update(k, t);
    }
    columns.add(List.of("tags.site", "tags.floor"), false);
    for (String text :
        List.of(
            "SELECT tags.site AS s, tags.floor AS f, COUNT() AS n, MAX(tags.floor) AS m"
                + " FROM devices GROUP BY tags.site, tags.floor",
            "SELECT tags.site AS s, tags.floor AS f, COUNT() AS n FROM devices"
                + " WHERE tags.floor < 700 GROUP BY tags.site, tags.floor")) {
      CompiledQuery q = QueryEngine.compile(text);
      List<Object> rows = ColumnQuery.aggregate(q, columns);
      assertThat(rows).as(text).hasSizeGreaterThan(100);
      assertThat(rows).as(text).containsExactlyInAnyOrderElementsOf(QueryExecutor.run(q, all, 0));
    }
  }

  @Test
  void theLeastRecentlyUsedLazyColumnGoesFirstAndPinnedOnesStay() {
    TwinColumns columns = new TwinColumns(100);
    TwinKey k = TwinKey.device("d");
    columns.update(k, twin(k, "s", 1));
    columns.add("tags.site", false);
    columns.add("tags.floor", false);
    columns.add("status", true);
    ColumnQuery.matches(
        QueryEngine.compile("SELECT * FROM devices WHERE tags.site = 's'"), columns);
    assertThat(columns.unpinned()).isEqualTo(2);
    assertThat(columns.dropLeastRecentlyUsed()).isTrue();
    assertThat(columns.paths()).containsExactly("status", "tags.site");
    assertThat(columns.dropLeastRecentlyUsed()).isTrue();
    assertThat(columns.dropLeastRecentlyUsed()).isFalse();
    assertThat(columns.paths()).containsExactly("status");
  }

  @Test
  void everyChangeFedInIsCounted() {
    TwinColumns columns = new TwinColumns(100);
    TwinKey k = TwinKey.device("d");
    long before = columns.changes();
    columns.update(k, twin(k, "s", 1));
    columns.refresh(k, key -> twin(key, "s", 2));
    columns.update(k, null);
    assertThat(columns.changes()).isEqualTo(before + 3);
  }

  @Test
  void unknownPathsAreRefused() {
    TwinColumns columns = new TwinColumns(100);
    assertThatThrownBy(() -> columns.add("nonsense.path", false))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(TwinColumns.canonicalPath("Tags.site")).isEqualTo("tags.site");
  }
}
