package io.herd.twin;

import static io.herd.testkit.FailedFutures.codeOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinIdentity;
import io.herd.core.twin.TwinJson;
import io.herd.core.twin.TwinKey;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TwinStoreTest {
  private static final TwinKey D1 = TwinKey.device("d1");

  private Vertx vertx;
  private FakeTwinRepository repo;
  private TwinStore store;

  static TwinIdentity identity(String generation) {
    return new TwinIdentity(
        generation, "MQ==", "enabled", null, "Disconnected", null, 0, "sas", null, null, "", false);
  }

  private TwinStore open(Map<TwinKey, TwinIdentity> identities, TwinEngineConfig config) {
    Consumer<BiConsumer<TwinKey, TwinIdentity>> source = sink -> identities.forEach(sink);
    return Future.await(TwinEngine.open(vertx, repo, config, source));
  }

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    repo = new FakeTwinRepository();
    store = open(Map.of(D1, identity("g1")), new TwinEngineConfig(4, 1000, 10_000));
  }

  @AfterEach
  void tearDown() {
    Future.await(vertx.close());
  }

  private static TwinUpdate desired(String json, String ifMatch) {
    return new TwinUpdate(null, new JsonObject(json), false, ifMatch);
  }

  @Test
  void aNewIdentityHasAnEmptyTwinAtVersionOne() {
    Twin t = store.find(D1).orElseThrow();
    assertThat(t.version()).isEqualTo(1);
    assertThat(t.desiredVersion()).isEqualTo(1);
    assertThat(t.reportedVersion()).isEqualTo(1);
    assertThat(t.etag()).isEqualTo("AAAAAAAAAAE=");
    assertThat(repo.rows).as("nothing to store for an empty twin").isEmpty();
  }

  @Test
  void updatesBumpVersionsAndCheckEtags() {
    Twin a = Future.await(store.update(D1, desired("{\"rate\":1}", "\"AAAAAAAAAAE=\"")));
    assertThat(a.version()).isEqualTo(2);
    assertThat(a.desiredVersion()).isEqualTo(2);
    assertThat(codeOf(store.update(D1, desired("{\"rate\":2}", "\"AAAAAAAAAAE=\""))))
        .isEqualTo(ErrorCode.PRECONDITION_FAILED);
    Twin b = Future.await(store.patchReported(D1, new JsonObject("{\"fw\":\"1.0\"}")));
    assertThat(b.version()).isEqualTo(3);
    assertThat(b.reportedVersion()).isEqualTo(2);
    assertThat(b.desiredVersion()).isEqualTo(2);
    assertThat(store.find(D1)).contains(b);
    assertThat(repo.rows.get(D1).version()).isEqualTo(3);
  }

  @Test
  void replaceSwapsTagsAndDesiredButNotReported() {
    Future.await(store.patchReported(D1, new JsonObject("{\"r\":1}")));
    Future.await(
        store.update(
            D1,
            new TwinUpdate(
                new JsonObject("{\"t\":1}"), new JsonObject("{\"a\":1,\"b\":2}"), false, "*")));
    Twin t =
        Future.await(
            store.update(D1, new TwinUpdate(null, new JsonObject("{\"c\":3}"), true, null)));
    assertThat(TwinJson.values(t.desired())).isEqualTo(new JsonObject("{\"c\":3}"));
    assertThat(TwinJson.values(t.tags())).isEqualTo(new JsonObject());
    assertThat(TwinJson.values(t.reported())).isEqualTo(new JsonObject("{\"r\":1}"));
  }

  @Test
  void unknownTwinsAndBadPatchesFailWithoutChangingAnything() {
    assertThat(codeOf(store.update(TwinKey.device("nope"), desired("{}", null))))
        .isEqualTo(ErrorCode.DEVICE_NOT_FOUND);
    assertThat(codeOf(store.patchReported(TwinKey.module("d1", "m"), new JsonObject())))
        .isEqualTo(ErrorCode.MODULE_NOT_FOUND);
    Twin before = store.find(D1).orElseThrow();
    assertThat(codeOf(store.update(D1, desired("{\"a.b\":1}", null))))
        .isEqualTo(ErrorCode.ARGUMENT_INVALID);
    assertThat(store.find(D1)).contains(before);
  }

  @Test
  void concurrentPatchesOfOneTwinAreAllKeptInOneOrder() {
    List<Future<Twin>> all = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      all.add(store.patchReported(D1, new JsonObject().put("k" + i, i)));
    }
    Future.await(Future.all(all));
    List<Long> versions = all.stream().map(f -> f.result().reportedVersion()).sorted().toList();
    assertThat(versions).doesNotHaveDuplicates().hasSize(500);
    Twin last = store.find(D1).orElseThrow();
    assertThat(last.reportedVersion()).isEqualTo(501);
    assertThat(last.reported().size()).isEqualTo(500);
    assertThat(repo.writeSizes.size()).as("grouped into few commits").isLessThan(500);
  }

  @Test
  void acknowledgedOnlyAfterTheCommitAndInvisibleBefore() {
    repo.hold = true;
    Future<Twin> pending = store.update(D1, desired("{\"x\":1}", null));
    await().atMost(Duration.ofSeconds(5)).until(() -> !repo.held.isEmpty());
    assertThat(pending.isComplete()).isFalse();
    assertThat(store.find(D1).orElseThrow().version()).isEqualTo(1);
    repo.release();
    assertThat(Future.await(pending).version()).isEqualTo(2);
    assertThat(store.find(D1).orElseThrow().version()).isEqualTo(2);
  }

  @Test
  void aFailedCommitFailsItsChangesAndLeavesTheTwinAsItWas() {
    repo.failNext = true;
    assertThat(codeOf(store.update(D1, desired("{\"x\":1}", null))))
        .isEqualTo(ErrorCode.SERVER_ERROR);
    assertThat(store.find(D1).orElseThrow().version()).isEqualTo(1);
    assertThat(Future.await(store.update(D1, desired("{\"x\":2}", null))).version()).isEqualTo(2);
  }

  @Test
  void aFullQueuePushesBackInsteadOfGrowing() {
    TwinStore small = open(Map.of(D1, identity("g1")), new TwinEngineConfig(1, 10, 20));
    repo.hold = true;
    List<Future<Twin>> all = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      all.add(small.patchReported(D1, new JsonObject().put("k", i)));
    }
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> all.stream().filter(Future::failed).count() >= 60);
    assertThat(
            all.stream().filter(Future::failed).map(f -> HubException.from(f.cause()).errorCode()))
        .allMatch(c -> c == ErrorCode.THROTTLE_BACKLOG_LIMIT_EXCEEDED);
    repo.release();
    await().atMost(Duration.ofSeconds(5)).until(() -> all.stream().allMatch(Future::isComplete));
    long ok = all.stream().filter(Future::succeeded).count();
    assertThat(ok).isBetween(20L, 40L);
    assertThat(small.find(D1).orElseThrow().reportedVersion()).isEqualTo(1 + ok);
  }

  @Test
  void subscribersGetDesiredPatchesWithTheirVersionAfterCommit() {
    List<TwinChange> mine = new CopyOnWriteArrayList<>();
    List<TwinChange> all = new CopyOnWriteArrayList<>();
    store.subscribe(D1, mine::add);
    TwinStore.Subscription s = store.subscribeAll(all::add);
    Future.await(store.update(D1, desired("{\"rate\":5}", null)));
    Future.await(store.patchReported(D1, new JsonObject("{\"ok\":true}")));
    await().atMost(Duration.ofSeconds(5)).until(() -> mine.size() == 2);
    assertThat(mine.get(0).kind()).isEqualTo(TwinChange.Kind.DESIRED);
    assertThat(mine.get(0).patch()).isEqualTo(new JsonObject("{\"rate\":5,\"$version\":2}"));
    assertThat(mine.get(1).kind()).isEqualTo(TwinChange.Kind.REPORTED);
    s.close();
    Future.await(store.update(D1, desired("{\"rate\":6}", null)));
    await().atMost(Duration.ofSeconds(5)).until(() -> mine.size() == 3);
    assertThat(all).hasSize(2);
  }

  @Test
  void subscribersHaveTheChangeBeforeItsWriterIsAcknowledged() {
    List<TwinChange> all = new CopyOnWriteArrayList<>();
    store.subscribeAll(all::add);
    for (int i = 0; i < 20; i++) {
      Twin t = Future.await(store.update(D1, desired("{\"rate\":" + i + "}", null)));
      // No waiting: the change feed ran before the Future completed.
      assertThat(all).last().extracting(TwinChange::twin).isEqualTo(t);
      Twin r = Future.await(store.patchReported(D1, new JsonObject().put("n", i)));
      assertThat(all).last().extracting(TwinChange::twin).isEqualTo(r);
    }
  }

  @Test
  void removingADeviceRemovesItsModuleTwinsAndRecreationStartsEmpty() {
    TwinKey m1 = TwinKey.module("d1", "m1");
    Future.await(store.ensure(m1, identity("gm")));
    Future.await(store.patchReported(m1, new JsonObject("{\"a\":1}")));
    Future.await(store.update(D1, desired("{\"a\":1}", null)));
    Future.await(store.removeDevice("d1"));
    assertThat(store.find(D1)).isEmpty();
    assertThat(store.find(m1)).isEmpty();
    assertThat(repo.rows).isEmpty();
    Twin again = Future.await(store.ensure(D1, identity("g2")));
    assertThat(again.version()).isEqualTo(1);
    assertThat(again.desired().isEmpty()).isTrue();
  }

  @Test
  void reopeningKeepsTwinsOfTheSameGenerationAndDropsTheRest() {
    Future.await(store.update(D1, desired("{\"keep\":1}", null)));
    TwinKey gone = TwinKey.device("gone");
    Future.await(store.ensure(gone, identity("x")));
    Future.await(store.update(gone, desired("{\"bye\":1}", null)));
    TwinKey reborn = TwinKey.device("reborn");
    Future.await(store.ensure(reborn, identity("old")));
    Future.await(store.update(reborn, desired("{\"old\":1}", null)));

    TwinStore reopened =
        open(
            Map.of(D1, identity("g1"), reborn, identity("new")),
            new TwinEngineConfig(2, 100, 1000));
    assertThat(TwinJson.values(reopened.find(D1).orElseThrow().desired()))
        .isEqualTo(new JsonObject("{\"keep\":1}"));
    assertThat(reopened.find(reborn).orElseThrow().desired().isEmpty()).isTrue();
    assertThat(reopened.find(gone)).isEmpty();
    assertThat(repo.rows).doesNotContainKey(gone);
    assertThatThrownBy(() -> Future.await(reopened.patchReported(gone, new JsonObject())))
        .isInstanceOf(HubException.class);
  }
}
