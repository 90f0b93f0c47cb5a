package io.herd.twin.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.core.pg.SchemaMigrator;
import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinIdentity;
import io.herd.core.twin.TwinJson;
import io.herd.core.twin.TwinKey;
import io.herd.testkit.TestPostgres;
import io.herd.twin.TwinEngine;
import io.herd.twin.TwinEngineConfig;
import io.herd.twin.TwinStore;
import io.herd.twin.TwinUpdate;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PgTwinStoreIT {
  private static Vertx vertx;
  private static Pool pool;

  @BeforeAll
  static void setUp() {
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().connectingTo(TestPostgres.freshDatabase()).using(vertx).build();
    Future.await(SchemaMigrator.migrate(pool, TwinSchema.migrations()));
  }

  @AfterAll
  static void tearDown() {
    Future.await(pool.close());
    Future.await(vertx.close());
  }

  private static TwinIdentity identity(String g) {
    return new TwinIdentity(
        g, "MQ==", "enabled", null, "Disconnected", null, 0, "sas", null, null, "", false);
  }

  private static TwinStore open(Map<TwinKey, TwinIdentity> ids) {
    return Future.await(
        TwinEngine.open(
            vertx, new PgTwinRepository(pool), new TwinEngineConfig(4, 500, 10_000), ids::forEach));
  }

  @Test
  void twinsSurviveAReopenExactly() {
    Map<TwinKey, TwinIdentity> ids = new LinkedHashMap<>();
    for (int i = 0; i < 50; i++) {
      ids.put(TwinKey.device("pg-" + i), identity("g" + i));
    }
    TwinKey module = TwinKey.module("pg-0", "m");
    ids.put(module, identity("gm"));
    TwinStore store = open(ids);
    List<Future<Twin>> writes = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      TwinKey k = TwinKey.device("pg-" + i);
      writes.add(
          store.update(
              k,
              new TwinUpdate(
                  new JsonObject().put("n", i).put("loc", new JsonObject().put("floor", 2)),
                  new JsonObject()
                      .put("cfg", new JsonObject().put("rate", i * 1.5))
                      .put("list", new io.vertx.core.json.JsonArray().add(1).add("x")),
                  false,
                  "*")));
      writes.add(store.patchReported(k, new JsonObject().put("fw", "1." + i)));
    }
    writes.add(store.patchReported(module, new JsonObject().put("mod", true)));
    Future.await(Future.all(writes));
    Future.await(store.removeDevice("pg-49"));

    TwinStore reopened = open(ids);
    for (int i = 0; i < 49; i++) {
      TwinKey k = TwinKey.device("pg-" + i);
      Twin before = store.find(k).orElseThrow();
      Twin after = reopened.find(k).orElseThrow();
      assertThat(after).isEqualTo(before);
      assertThat(TwinJson.twin(after)).isEqualTo(TwinJson.twin(before));
    }
    assertThat(reopened.find(module).orElseThrow().reportedVersion()).isEqualTo(2);
    assertThat(reopened.find(TwinKey.device("pg-49")).orElseThrow().version())
        .as("deleted, then an identity of the same generation gets an empty twin")
        .isEqualTo(1);
  }

  @Test
  void removedModuleTwinsStayRemovedAfterAReopen() {
    TwinKey keep = TwinKey.module("pg-mod", "keep");
    TwinKey gone = TwinKey.module("pg-mod", "gone");
    Map<TwinKey, TwinIdentity> ids = new LinkedHashMap<>();
    ids.put(keep, identity("gk"));
    ids.put(gone, identity("gg"));
    TwinStore store = open(ids);
    Future.await(store.patchReported(keep, new JsonObject().put("a", 1)));
    Future.await(store.patchReported(gone, new JsonObject().put("a", 1)));
    Future.await(store.remove(gone));

    // The identities stay registered, so a twin without stored state comes back empty.
    TwinStore reopened = open(ids);
    assertThat(reopened.find(keep).orElseThrow().reportedVersion()).isEqualTo(2);
    assertThat(reopened.find(gone).orElseThrow().reportedVersion())
        .as("the removed module twin's stored state is gone")
        .isEqualTo(1);
  }
}
