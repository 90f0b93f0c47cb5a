package io.herd.query;

import static io.herd.query.TestTwins.identity;
import static io.herd.query.TestTwins.node;
import static io.herd.query.TestTwins.twin;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinKey;
import io.herd.core.twin.TwinNode;
import io.herd.query.index.IndexPlanner;
import io.herd.query.index.TwinIndex;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TwinIndexTest {
  private static Twin tagged(String id, Object site) {
    return twin(
        TwinKey.device(id),
        site == null ? TwinNode.EMPTY : node("site", site),
        TestTwins.desired(),
        TwinNode.EMPTY,
        identity("enabled", "Connected", null, false));
  }

  @Test
  void followsTagChangesDeletionsAndRecreation() {
    TwinIndex index = TwinIndex.on("tags.site");
    index.update(TwinKey.device("a"), tagged("a", "north"));
    index.update(TwinKey.device("b"), tagged("b", "north"));
    assertThat(index.equalTo(List.of("north"))).hasSize(2);

    index.update(TwinKey.device("a"), tagged("a", "south"));
    assertThat(index.equalTo(List.of("north"))).containsExactly(TwinKey.device("b"));
    assertThat(index.equalTo(List.of("south"))).containsExactly(TwinKey.device("a"));

    index.update(TwinKey.device("b"), null); // deleted
    assertThat(index.equalTo(List.of("north"))).isEmpty();
    assertThat(index.counts()).containsOnlyKeys("south");
    assertThat(index.size()).isEqualTo(1);

    index.update(TwinKey.device("b"), tagged("b", "east")); // re-created
    assertThat(index.equalTo(List.of("east"))).containsExactly(TwinKey.device("b"));

    index.update(TwinKey.device("a"), tagged("a", null)); // tag removed
    assertThat(index.equalTo(List.of("south"))).isEmpty();
    assertThat(index.size()).isEqualTo(1);
  }

  @Test
  void numbersCompareByValueAcrossLongAndDoubleAndApartFromStrings() {
    TwinIndex index = TwinIndex.on("tags.site");
    index.update(TwinKey.device("a"), tagged("a", 1L));
    index.update(TwinKey.device("b"), tagged("b", 1.0));
    index.update(TwinKey.device("c"), tagged("c", "1"));
    index.update(TwinKey.device("d"), tagged("d", true));
    assertThat(index.equalTo(List.of(1L))).hasSize(2);
    assertThat(index.equalTo(List.of("1"))).containsExactly(TwinKey.device("c"));
    assertThat(index.between(0L, false, null, false)).hasSize(2);
    assertThat(index.between("", true, null, false)).containsExactly(TwinKey.device("c"));
    assertThat(index.equalTo(List.of(true))).containsExactly(TwinKey.device("d"));
  }

  @Test
  void pathsAreCanonicalAndUnknownPathsRejected() {
    assertThat(TwinIndex.on("Properties.Reported.fw").path()).isEqualTo("properties.reported.fw");
    assertThat(TwinIndex.on("ConnectionState").path()).isEqualTo("connectionState");
    assertThatThrownBy(() -> TwinIndex.on("nonsense.x"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void explainNamesTheIndex() {
    Map<String, TwinIndex> indexes = Map.of("tags.site", TwinIndex.on("tags.site"));
    CompiledQuery q =
        QueryEngine.compile("SELECT * FROM devices WHERE tags.site = 'x' AND tags.n > 3");
    Optional<IndexPlanner.IndexScan> scan = IndexPlanner.choose(q, indexes);
    assertThat(scan).isPresent();
    assertThat(IndexPlanner.explain(q, scan)).startsWith("index tags.site on (tags.site = 'x')");
    CompiledQuery or =
        QueryEngine.compile("SELECT * FROM devices WHERE tags.site = 'x' OR tags.n > 3");
    assertThat(IndexPlanner.choose(or, indexes)).isEmpty();
    assertThat(IndexPlanner.explain(or, Optional.empty())).startsWith("scan");
    for (String left :
        List.of(
            "tags.site != 'x'", "tags.site NIN ['x']", "tags.site = null", "tags.site < true")) {
      CompiledQuery q2 = QueryEngine.compile("SELECT * FROM devices WHERE " + left);
      assertThat(IndexPlanner.choose(q2, indexes)).as(left).isEmpty();
    }
  }

  @Test
  void rangesOnOnePathAreJoined() {
    TwinIndex index = TwinIndex.on("tags.site");
    for (int i = 0; i < 10; i++) {
      index.update(TwinKey.device("n" + i), tagged("n" + i, (long) i));
    }
    CompiledQuery q =
        QueryEngine.compile("SELECT * FROM devices WHERE tags.site > 2 AND tags.site <= 5");
    IndexPlanner.IndexScan scan = IndexPlanner.choose(q, Map.of("tags.site", index)).orElseThrow();
    assertThat(scan.estimate()).isEqualTo(3);
    assertThat(scan.condition()).isEqualTo("(tags.site > 2) AND (tags.site <= 5)");
  }

  /** A fleet with mixed-type values at tags.v and reported.fw, some missing or objects. */
  private static List<Twin> fleet(long seed) {
    Random r = new Random(seed);
    Object[] pool = {1L, 2L, 2.0, 2.5, 3L, -1L, "a", "b", "bb", "c", "2", true, false};
    List<Twin> out = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      List<Object> tags = new ArrayList<>();
      int pick = r.nextInt(pool.length + 2);
      if (pick < pool.length) {
        tags.add("v");
        tags.add(pool[pick]);
      } else if (pick == pool.length) {
        tags.add("v");
        tags.add(node("x", 1L));
      }
      tags.add("site");
      tags.add(r.nextBoolean() ? "north" : "south");
      Object fw = pool[r.nextInt(pool.length)];
      TwinKey key =
          r.nextInt(5) == 0
              ? TwinKey.module("dev" + i, "m")
              : TwinKey.device(String.format("dev%03d", i));
      out.add(
          twin(
              key,
              node(tags.toArray()),
              TestTwins.desired(),
              node("fw", fw),
              identity(r.nextBoolean() ? "enabled" : "disabled", "Connected", null, false)));
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "tags.v = 2",
        "tags.v = 'b'",
        "tags.v = true",
        "tags.v IN [1, 'a', 2.5, false]",
        "tags.v > 1",
        "tags.v >= 2",
        "tags.v < 'bb'",
        "tags.v <= 'b'",
        "2 < tags.v",
        "tags.v > 1 AND tags.v < 3 AND tags.site = 'north'",
        "tags.v >= 'b' AND properties.reported.fw = 2",
        "properties.reported.fw IN ['a', 'c', 3] AND status = 'enabled'",
        "status = 'disabled' AND tags.v != 2",
        "tags.v > 1 AND tags.v <= 2.5 AND tags.v >= 2",
        "tags.v > 'a' AND tags.v < 'c' AND tags.v > 1",
        "tags.v > 3 AND tags.v < 1",
        "tags.v >= 2 AND tags.v <= 2",
      })
  void indexedResultsEqualTheFullScan(String condition) {
    for (long seed = 1; seed <= 5; seed++) {
      List<Twin> twins = fleet(seed);
      Map<String, TwinIndex> indexes = new HashMap<>();
      for (String path : List.of("tags.v", "properties.reported.fw", "status")) {
        TwinIndex index = TwinIndex.on(path);
        twins.forEach(t -> index.update(t.key(), t));
        indexes.put(index.path(), index);
      }
      Map<TwinKey, Twin> byKey = twins.stream().collect(Collectors.toMap(Twin::key, t -> t));
      for (String from : List.of("devices", "devices.modules")) {
        CompiledQuery q = QueryEngine.compile("SELECT * FROM " + from + " WHERE " + condition);
        Set<String> scanned = new TreeSet<>();
        twins.stream().filter(q::matches).forEach(t -> scanned.add(t.key().toString()));
        Optional<IndexPlanner.IndexScan> scan = IndexPlanner.choose(q, indexes);
        assertThat(scan).as(condition).isPresent();
        Set<String> indexed = new TreeSet<>();
        for (TwinKey k : scan.get().candidates()) {
          if (q.matches(byKey.get(k))) {
            indexed.add(k.toString());
          }
        }
        assertThat(indexed).as(condition + " seed " + seed).isEqualTo(scanned);
        assertThat(scan.get().estimate()).isEqualTo(scan.get().candidates().size());
      }
    }
  }

  /**
   * The hub's build order: subscribe to changes first, then scan and refresh each key from the
   * store. A writer changing twins during the build must leave the index equal to the store.
   */
  @Test
  void aBuildRacingLiveChangesEndsEqualToTheStore() throws Exception {
    for (int round = 0; round < 20; round++) {
      Map<TwinKey, Twin> store = new java.util.concurrent.ConcurrentHashMap<>();
      for (int i = 0; i < 300; i++) {
        store.put(TwinKey.device("r" + i), tagged("r" + i, "s" + (i % 5)));
      }
      TwinIndex index = TwinIndex.on("tags.site");
      java.util.concurrent.atomic.AtomicBoolean subscribed =
          new java.util.concurrent.atomic.AtomicBoolean(true);
      Thread writer =
          new Thread(
              () -> {
                Random r = new Random();
                for (int n = 0; n < 3000; n++) {
                  String id = "r" + r.nextInt(300);
                  TwinKey k = TwinKey.device(id);
                  Twin t = r.nextInt(10) == 0 ? null : tagged(id, "s" + r.nextInt(7));
                  // commit, then deliver the change to the (already subscribed) index
                  if (t == null) {
                    store.remove(k);
                  } else {
                    store.put(k, t);
                  }
                  if (subscribed.get()) {
                    index.update(k, t);
                  }
                }
              });
      writer.start();
      for (TwinKey k : new ArrayList<>(store.keySet())) {
        index.refresh(k, store::get);
      }
      writer.join();
      Map<Object, Integer> expected = new java.util.TreeMap<>();
      store.values().forEach(t -> expected.merge(t.tags().get("site"), 1, Integer::sum));
      assertThat(new java.util.TreeMap<>(index.counts())).isEqualTo(expected);
      assertThat(index.size()).isEqualTo(store.size());
    }
  }
}
