package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code POST /devices/query} over the hot twins (wire §5.6). */
class QueryApiIT {
  private static final String API = "?api-version=2021-04-12";
  private static TestHub hub;

  @BeforeAll
  static void start() throws Exception {
    hub = TestHub.start();
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
    HttpResponse<Buffer> r =
        Future.await(
            hub.client
                .request(HttpMethod.PATCH, "/twins/" + id + API)
                .putHeader("Authorization", hub.owner())
                .putHeader("If-Match", "*")
                .sendJsonObject(
                    new JsonObject().put("tags", new JsonObject().put("site", site).put("n", n))));
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
}
