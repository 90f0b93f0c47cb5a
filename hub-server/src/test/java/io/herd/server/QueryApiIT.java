package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code POST /devices/query} over the hot twins (wire §5.6). */
class QueryApiIT {
  private static final String API = "?api-version=2021-04-12";
  private static TestHub hub;

  @BeforeAll
  static void start() throws Exception {
    // tags.site is indexed from start-up, so the tests above page through an index.
    hub = TestHub.withQueryIndexes("tags.site");
    for (int i = 0; i < 12; i++) {
      String id = String.format("q-%02d", i);
      hub.deviceKey(id);
      tag(id, i % 2 == 0 ? "north" : "south", i);
    }
  }

  @AfterAll
  static void stop() {
    hub.close();
  }

  private static void tag(String id, String site, int n) {
    tags(id, new JsonObject().put("site", site).put("n", n));
  }

  private static void tags(String id, JsonObject tags) {
    HttpResponse<Buffer> r =
        Future.await(
            hub.client
                .request(HttpMethod.PATCH, "/twins/" + id + API)
                .putHeader("Authorization", hub.owner())
                .putHeader("If-Match", "*")
                .sendJsonObject(new JsonObject().put("tags", tags)));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
  }

  private static HttpResponse<Buffer> query(String text, Integer pageSize, String continuation) {
    HttpRequest<Buffer> r =
        hub.client.post("/devices/query" + API).putHeader("Authorization", hub.owner());
    if (pageSize != null) {
      r.putHeader("x-ms-max-item-count", pageSize.toString());
    }
    if (continuation != null) {
      r.putHeader("x-ms-continuation", continuation);
    }
    return Future.await(r.sendJsonObject(new JsonObject().put("query", text)));
  }

  private static List<String> ids(JsonArray rows) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      out.add(rows.getJsonObject(i).getString("deviceId"));
    }
    return out;
  }

  @Test
  void twinsComePagedInOrderAndTheLastPageHasNoContinuation() {
    List<String> seen = new ArrayList<>();
    String token = null;
    int pages = 0;
    do {
      HttpResponse<Buffer> r = query("SELECT * FROM devices WHERE tags.site = 'north'", 4, token);
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
      assertThat(r.getHeader("x-ms-item-type")).isEqualTo("twin");
      JsonArray rows = r.bodyAsJsonArray();
      assertThat(rows.getJsonObject(0).getJsonObject("tags").getString("site")).isEqualTo("north");
      seen.addAll(ids(rows));
      token = r.getHeader("x-ms-continuation");
      pages++;
    } while (token != null);
    assertThat(seen).containsExactly("q-00", "q-02", "q-04", "q-06", "q-08", "q-10");
    assertThat(pages).isEqualTo(2);
  }

  @Test
  void pagingStaysCorrectWhileTwinsChange() throws Exception {
    HttpResponse<Buffer> first = query("SELECT * FROM devices WHERE tags.site = 'south'", 3, null);
    List<String> seen = new ArrayList<>(ids(first.bodyAsJsonArray()));
    // Changes between pages: twins already returned and twins still to come are updated.
    tag("q-01", "south", 101);
    tag("q-09", "south", 109);
    String token = first.getHeader("x-ms-continuation");
    while (token != null) {
      HttpResponse<Buffer> r = query("SELECT * FROM devices WHERE tags.site = 'south'", 3, token);
      seen.addAll(ids(r.bodyAsJsonArray()));
      token = r.getHeader("x-ms-continuation");
    }
    assertThat(seen).containsExactly("q-01", "q-03", "q-05", "q-07", "q-09", "q-11");
  }

  @Test
  void aQueryReadsTheWriteAcknowledgedJustBefore() throws Exception {
    hub.deviceKey("q-fresh");
    tag("q-fresh", "east", 1);
    HttpResponse<Buffer> r = query("SELECT * FROM devices WHERE tags.site = 'east'", null, null);
    assertThat(ids(r.bodyAsJsonArray())).containsExactly("q-fresh");
  }

  @Test
  void projectionsAndGroupsAreRawRows() {
    HttpResponse<Buffer> p =
        query(
            "SELECT deviceId, tags.n AS n FROM devices WHERE tags.site = 'north' AND tags.n < 4",
            null,
            null);
    assertThat(p.getHeader("x-ms-item-type")).isEqualTo("raw");
    assertThat(p.bodyAsJsonArray())
        .containsExactly(
            new JsonObject().put("deviceId", "q-00").put("n", 0),
            new JsonObject().put("deviceId", "q-02").put("n", 2));
    HttpResponse<Buffer> g =
        query(
            "SELECT tags.site AS site, COUNT() AS total FROM devices WHERE tags.n >= 0"
                + " GROUP BY tags.site",
            null,
            null);
    assertThat(g.statusCode()).as(g.bodyAsString()).isEqualTo(200);
    JsonArray groups = g.bodyAsJsonArray();
    assertThat(groups)
        .contains(
            new JsonObject().put("site", "north").put("total", 6),
            new JsonObject().put("site", "south").put("total", 6));
    assertThat(g.getHeader("x-ms-continuation")).isNull();
  }

  @Test
  void topLimitsTheWholeQueryAcrossPages() {
    List<String> seen = new ArrayList<>();
    String token = null;
    do {
      HttpResponse<Buffer> r = query("SELECT TOP 5 * FROM devices", 2, token);
      seen.addAll(ids(r.bodyAsJsonArray()));
      token = r.getHeader("x-ms-continuation");
    } while (token != null);
    assertThat(seen).hasSize(5).isSorted();
  }

  @Test
  void badQueriesAndTokensGet400WithWhereAndWhy() {
    HttpResponse<Buffer> r = query("SELECT * FROM devices WHERE tags.site =", null, null);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.bodyAsString()).contains("offset").contains("expected");
    HttpResponse<Buffer> t = query("SELECT * FROM devices", null, "not-a-token");
    assertThat(t.statusCode()).isEqualTo(400);
    assertThat(t.bodyAsString()).contains("x-ms-continuation");
    HttpResponse<Buffer> s = query("SELECT * FROM devices", 0, null);
    assertThat(s.statusCode()).isEqualTo(400);
  }

  // Query indexes (Herd extension). These tests use their own devices and the tags zone and rank,
  // which the tests above never read.

  private static HttpResponse<Buffer> call(HttpMethod method, String path) {
    return Future.await(
        hub.client
            .request(method, path + API)
            .putHeader("Authorization", hub.owner())
            .putHeader("If-Match", "*")
            .send());
  }

  private static void zone(String id, Object zone, Object rank) {
    tags(id, new JsonObject().put("zone", zone).put("rank", rank));
  }

  private static JsonObject explain(String text) {
    HttpResponse<Buffer> r =
        Future.await(
            hub.client
                .post("/devices/query" + API + "&explain=true")
                .putHeader("Authorization", hub.owner())
                .sendJsonObject(new JsonObject().put("query", text)));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  private static List<String> all(String text) {
    List<String> seen = new ArrayList<>();
    String token = null;
    do {
      HttpResponse<Buffer> r = query(text, 3, token);
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
      seen.addAll(ids(r.bodyAsJsonArray()));
      token = r.getHeader("x-ms-continuation");
    } while (token != null);
    return seen;
  }

  @Test
  void indexesAreCreatedListedAndDropped() throws Exception {
    hub.deviceKey("x-list");
    zone("x-list", "a", 1);
    HttpResponse<Buffer> put = call(HttpMethod.PUT, "/indexes/Tags.zone");
    assertThat(put.statusCode()).as(put.bodyAsString()).isEqualTo(200);
    assertThat(put.bodyAsJsonObject().getString("path")).isEqualTo("tags.zone");
    assertThat(put.bodyAsJsonObject().getInteger("entries")).isPositive();
    JsonArray list = call(HttpMethod.GET, "/indexes").bodyAsJsonArray();
    assertThat(list.getJsonObject(1).getString("path")).isEqualTo("tags.zone");
    assertThat(list.getJsonObject(1).getInteger("entries")).isPositive();
    assertThat(call(HttpMethod.PUT, "/indexes/nonsense.x").statusCode()).isEqualTo(400);
    assertThat(call(HttpMethod.DELETE, "/indexes/tags.zone").statusCode()).isEqualTo(204);
    assertThat(call(HttpMethod.DELETE, "/indexes/tags.zone").statusCode()).isEqualTo(404);
    assertThat(call(HttpMethod.GET, "/indexes").bodyAsJsonArray())
        .extracting(o -> ((JsonObject) o).getString("path"))
        .containsExactly("tags.site");
  }

  @Test
  void indexesConfiguredAtStartUpFollowTheTwins() {
    JsonArray list = call(HttpMethod.GET, "/indexes").bodyAsJsonArray();
    assertThat(list.getJsonObject(0).getString("path")).isEqualTo("tags.site");
    assertThat(list.getJsonObject(0).getInteger("entries")).isGreaterThanOrEqualTo(12);
    JsonObject plan = explain("SELECT * FROM devices WHERE tags.site = 'north'");
    assertThat(plan.getString("index")).isEqualTo("tags.site");
    assertThat(plan.getLong("estimatedCandidates")).isEqualTo(6);
  }

  @Test
  void explainNamesTheIndexWithoutRunningTheQuery() throws Exception {
    for (int i = 0; i < 3; i++) {
      hub.deviceKey("x-ex" + i);
      zone("x-ex" + i, "explained", i);
    }
    String text = "SELECT * FROM devices WHERE tags.zone = 'explained' AND tags.rank > 0";
    JsonObject scan = explain(text);
    assertThat(scan.getValue("index")).isNull();
    assertThat(scan.getString("plan")).startsWith("scan");
    assertThat(call(HttpMethod.PUT, "/indexes/tags.zone").statusCode()).isEqualTo(200);
    try {
      JsonObject indexed = explain(text);
      assertThat(indexed.getString("index")).isEqualTo("tags.zone");
      assertThat(indexed.getString("plan")).startsWith("index tags.zone");
      assertThat(indexed.getString("query")).contains("(tags.zone = 'explained')");
      assertThat(indexed.getLong("estimatedCandidates")).isEqualTo(3);
    } finally {
      call(HttpMethod.DELETE, "/indexes/tags.zone");
    }
  }

  @Test
  void aQueryAfterATagUpdateReadsItsWriteThroughTheIndex() throws Exception {
    assertThat(call(HttpMethod.PUT, "/indexes/tags.zone").statusCode()).isEqualTo(200);
    try {
      hub.deviceKey("x-move");
      zone("x-move", "before", 1);
      String after = "SELECT * FROM devices WHERE tags.zone = 'after'";
      assertThat(explain(after).getString("index")).isEqualTo("tags.zone");
      assertThat(ids(query(after, null, null).bodyAsJsonArray())).doesNotContain("x-move");
      zone("x-move", "after", 2);
      assertThat(ids(query(after, null, null).bodyAsJsonArray())).containsExactly("x-move");
      assertThat(
              ids(
                  query("SELECT * FROM devices WHERE tags.zone = 'before'", null, null)
                      .bodyAsJsonArray()))
          .doesNotContain("x-move");
      assertThat(call(HttpMethod.DELETE, "/devices/x-move").statusCode()).isEqualTo(204);
      // The twin follows the identity's deletion shortly after the registry acknowledged it.
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> assertThat(ids(query(after, null, null).bodyAsJsonArray())).isEmpty());
      hub.deviceKey("x-move"); // re-created: a new twin without the tag
      assertThat(ids(query(after, null, null).bodyAsJsonArray())).isEmpty();
      zone("x-move", "after", 3);
      assertThat(ids(query(after, null, null).bodyAsJsonArray())).containsExactly("x-move");
    } finally {
      call(HttpMethod.DELETE, "/indexes/tags.zone");
    }
  }

  @Test
  void indexedQueriesReturnWhatTheScanReturns() throws Exception {
    Object[] zones = {"r", "s", "t", 1, 2.5, true};
    for (int i = 0; i < 20; i++) {
      String id = String.format("x-eq%02d", i);
      hub.deviceKey(id);
      zone(id, zones[i % zones.length], i % 7);
    }
    List<String> queries =
        List.of(
            "SELECT * FROM devices WHERE tags.zone = 's'",
            "SELECT * FROM devices WHERE tags.zone IN ['r', 't', 1]",
            "SELECT * FROM devices WHERE tags.zone >= 's' AND tags.rank < 5",
            "SELECT * FROM devices WHERE tags.rank > 2 AND tags.rank <= 5",
            "SELECT * FROM devices WHERE 3 > tags.rank",
            "SELECT deviceId FROM devices WHERE tags.rank = 4",
            "SELECT TOP 4 * FROM devices WHERE tags.zone < 'zz'");
    List<List<String>> scanned = new ArrayList<>();
    for (String q : queries) {
      scanned.add(all(q));
    }
    assertThat(call(HttpMethod.PUT, "/indexes/tags.zone").statusCode()).isEqualTo(200);
    assertThat(call(HttpMethod.PUT, "/indexes/tags.rank").statusCode()).isEqualTo(200);
    try {
      for (int i = 0; i < queries.size(); i++) {
        String q = queries.get(i);
        assertThat(explain(q).getString("index")).as(q).isNotNull();
        assertThat(all(q)).as(q).isEqualTo(scanned.get(i)).isNotEmpty();
      }
    } finally {
      call(HttpMethod.DELETE, "/indexes/tags.zone");
      call(HttpMethod.DELETE, "/indexes/tags.rank");
    }
  }

  // Query columns (Herd extension): scans without a usable index read columns, which the hub
  // builds when a scan first reads their path. These tests use the tags level and colour.

  private static void level(String id, int level, String colour) {
    tags(id, new JsonObject().put("level", level).put("colour", colour));
  }

  @Test
  void columnScansPageInOrderAndReadTheirWrites() throws Exception {
    for (int i = 0; i < 10; i++) {
      String id = String.format("x-col%02d", i);
      hub.deviceKey(id);
      level(id, i, i % 2 == 0 ? "red" : "blue");
    }
    String text = "SELECT * FROM devices WHERE tags.colour = 'red' AND tags.level >= 2";
    assertThat(all(text)).containsExactly("x-col02", "x-col04", "x-col06", "x-col08");
    assertThat(explain(text).getString("columns"))
        .contains("tags.colour")
        .contains("tags.level")
        .contains("2 part(s) by column");
    level("x-col03", 3, "red");
    assertThat(all(text)).containsExactly("x-col02", "x-col03", "x-col04", "x-col06", "x-col08");
    level("x-col04", 4, "green");
    assertThat(all(text)).containsExactly("x-col02", "x-col03", "x-col06", "x-col08");
    HttpResponse<Buffer> g =
        query(
            "SELECT tags.colour AS colour, COUNT() AS n FROM devices"
                + " WHERE tags.colour IN ['red', 'blue', 'green'] GROUP BY tags.colour",
            null,
            null);
    assertThat(g.bodyAsJsonArray())
        .containsExactlyInAnyOrder(
            new JsonObject().put("colour", "red").put("n", 5),
            new JsonObject().put("colour", "blue").put("n", 4),
            new JsonObject().put("colour", "green").put("n", 1));
  }

  @Test
  void pagesOfAColumnScanResumeWhileTwinsChange() throws Exception {
    for (int i = 0; i < 9; i++) {
      String id = String.format("x-pg%02d", i);
      hub.deviceKey(id);
      level(id, 100 + i, "paged");
    }
    String text = "SELECT deviceId FROM devices WHERE tags.colour = 'paged'";
    // Unchanged between pages: later pages serve the first pass's twins as they are.
    assertThat(all(text))
        .containsExactly(
            "x-pg00", "x-pg01", "x-pg02", "x-pg03", "x-pg04", "x-pg05", "x-pg06", "x-pg07",
            "x-pg08");
    HttpResponse<Buffer> first = query(text, 4, null);
    List<String> seen = new ArrayList<>(ids(first.bodyAsJsonArray()));
    assertThat(seen).containsExactly("x-pg00", "x-pg01", "x-pg02", "x-pg03");
    // Between pages: one twin still to come stops matching, one already returned changes.
    level("x-pg05", 105, "not any more");
    level("x-pg01", 1, "paged");
    String token = first.getHeader("x-ms-continuation");
    while (token != null) {
      HttpResponse<Buffer> r = query(text, 4, token);
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
      seen.addAll(ids(r.bodyAsJsonArray()));
      token = r.getHeader("x-ms-continuation");
    }
    assertThat(seen)
        .containsExactly(
            "x-pg00", "x-pg01", "x-pg02", "x-pg03", "x-pg04", "x-pg06", "x-pg07", "x-pg08");
  }
}
