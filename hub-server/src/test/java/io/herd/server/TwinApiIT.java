package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The twin REST API of a running hub. */
class TwinApiIT {
  private static final String API = "?api-version=2021-04-12";
  private static TestHub hub;

  @BeforeAll
  static void start() throws Exception {
    hub = TestHub.start();
  }

  @AfterAll
  static void stop() {
    hub.close();
  }

  private HttpResponse<Buffer> send(HttpMethod method, String path, Object body, String ifMatch) {
    HttpRequest<Buffer> r =
        hub.client.request(method, path + API).putHeader("Authorization", hub.owner());
    if (ifMatch != null) {
      r.putHeader("If-Match", ifMatch);
    }
    if (body == null) {
      return Future.await(r.send());
    }
    r.putHeader("Content-Type", "application/json; charset=utf-8");
    return Future.await(r.sendBuffer(Buffer.buffer(body.toString())));
  }

  private JsonObject ok(HttpResponse<Buffer> r) {
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    assertThat(r.getHeader("Content-Type")).isEqualTo("application/json; charset=utf-8");
    return r.bodyAsJsonObject();
  }

  private void device(String id) {
    assertThat(send(HttpMethod.PUT, "/devices/" + id, new JsonObject(), null).statusCode())
        .isEqualTo(200);
  }

  @Test
  void aNewDeviceHasATwinInIotHubShape() {
    device("tw-shape");
    JsonObject t = ok(send(HttpMethod.GET, "/twins/tw-shape", null, null));
    assertThat(t.getString("deviceId")).isEqualTo("tw-shape");
    assertThat(t.getString("etag")).isEqualTo("AAAAAAAAAAE=");
    assertThat(t.getString("status")).isEqualTo("enabled");
    assertThat(t.getString("statusUpdateTime")).isEqualTo("0001-01-01T00:00:00Z");
    assertThat(t.getString("connectionState")).isEqualTo("Disconnected");
    assertThat(t.getString("authenticationType")).isEqualTo("sas");
    assertThat(t.getInteger("cloudToDeviceMessageCount")).isZero();
    assertThat(t.getLong("version")).isEqualTo(1);
    assertThat(t.getJsonObject("capabilities").getBoolean("iotEdge")).isFalse();
    assertThat(t.getJsonObject("tags")).isEmpty();
    JsonObject desired = t.getJsonObject("properties").getJsonObject("desired");
    assertThat(desired.getLong("$version")).isEqualTo(1);
    assertThat(desired.getJsonObject("$metadata").getString("$lastUpdated")).isNotNull();
    assertThat(t.getJsonObject("properties").getJsonObject("reported").getLong("$version"))
        .isEqualTo(1);
  }

  @Test
  void patchMergesAndPutReplacesWithEtags() {
    device("tw-patch");
    JsonObject a =
        ok(
            send(
                HttpMethod.PATCH,
                "/twins/tw-patch",
                new JsonObject(
                    "{\"tags\":{\"site\":{\"b\":\"43\"}},\"properties\":{\"desired\":{\"rate\":1,\"cfg\":{\"x\":1,\"y\":2}}}}"),
                "\"AAAAAAAAAAE=\""));
    assertThat(a.getLong("version")).isEqualTo(2);
    JsonObject desired = a.getJsonObject("properties").getJsonObject("desired");
    assertThat(desired.getLong("$version")).isEqualTo(2);
    assertThat(
            desired
                .getJsonObject("$metadata")
                .getJsonObject("cfg")
                .getJsonObject("x")
                .getLong("$lastUpdatedVersion"))
        .isEqualTo(2);

    HttpResponse<Buffer> stale =
        send(
            HttpMethod.PATCH,
            "/twins/tw-patch",
            new JsonObject("{\"tags\":{\"z\":1}}"),
            "\"AAAAAAAAAAE=\"");
    assertThat(stale.statusCode()).isEqualTo(412);
    assertThat(stale.getHeader("iothub-errorcode")).isEqualTo("PreconditionFailed");

    JsonObject b =
        ok(
            send(
                HttpMethod.PATCH,
                "/twins/tw-patch",
                new JsonObject("{\"properties\":{\"desired\":{\"cfg\":{\"y\":null}}}}"),
                "\"" + a.getString("etag") + "\""));
    assertThat(b.getJsonObject("properties").getJsonObject("desired").getJsonObject("cfg"))
        .isEqualTo(new JsonObject("{\"x\":1}"));
    assertThat(b.getJsonObject("tags")).isEqualTo(new JsonObject("{\"site\":{\"b\":\"43\"}}"));

    JsonObject c =
        ok(
            send(
                HttpMethod.PUT,
                "/twins/tw-patch",
                new JsonObject(
                    "{\"tags\":{\"only\":true},\"properties\":{\"desired\":{\"fresh\":1}}}"),
                "*"));
    assertThat(c.getJsonObject("tags")).isEqualTo(new JsonObject("{\"only\":true}"));
    JsonObject replaced = c.getJsonObject("properties").getJsonObject("desired").copy();
    replaced.remove("$metadata");
    replaced.remove("$version");
    assertThat(replaced).isEqualTo(new JsonObject("{\"fresh\":1}"));
    assertThat(ok(send(HttpMethod.GET, "/twins/tw-patch", null, null))).isEqualTo(c);
  }

  @Test
  void invalidPatchesAreRejectedNamingThePath() {
    device("tw-bad");
    HttpResponse<Buffer> r =
        send(
            HttpMethod.PATCH,
            "/twins/tw-bad",
            new JsonObject("{\"properties\":{\"desired\":{\"ok\":{\"bad.key\":1}}}}"),
            "*");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.bodyAsJsonObject().getString("Message")).contains("properties.desired.ok.bad.key");
    HttpResponse<Buffer> big =
        send(
            HttpMethod.PATCH,
            "/twins/tw-bad",
            new JsonObject()
                .put(
                    "tags",
                    new JsonObject()
                        .put("a", "x".repeat(4000))
                        .put("b", "x".repeat(4000))
                        .put("c", "x".repeat(400))),
            "*");
    assertThat(big.statusCode()).isEqualTo(400);
    assertThat(big.bodyAsJsonObject().getString("Message")).contains("limit of 8192");
    HttpResponse<Buffer> wrongType =
        send(HttpMethod.PATCH, "/twins/tw-bad", new JsonObject("{\"tags\":5}"), "*");
    assertThat(wrongType.statusCode()).isEqualTo(400);
    assertThat(wrongType.bodyAsJsonObject().getString("Message"))
        .contains("'tags' must be an object");
    assertThat(ok(send(HttpMethod.GET, "/twins/tw-bad", null, null)).getLong("version"))
        .isEqualTo(1);
    assertThat(
            send(HttpMethod.GET, "/twins/no-such-device", null, null).getHeader("iothub-errorcode"))
        .isEqualTo("DeviceNotFound");
  }

  @Test
  void moduleTwinsAndIdentityChangesShow() {
    device("tw-mod");
    assertThat(
            send(HttpMethod.PUT, "/devices/tw-mod/modules/m1", new JsonObject(), null).statusCode())
        .isEqualTo(200);
    JsonObject m =
        ok(
            send(
                HttpMethod.PATCH,
                "/twins/tw-mod/modules/m1",
                new JsonObject("{\"properties\":{\"desired\":{\"k\":1}}}"),
                "*"));
    assertThat(m.getString("moduleId")).isEqualTo("m1");
    assertThat(
            ok(send(HttpMethod.GET, "/twins/tw-mod", null, null))
                .getJsonObject("properties")
                .getJsonObject("desired")
                .containsKey("k"))
        .isFalse();
    send(HttpMethod.PUT, "/devices/tw-mod", new JsonObject().put("status", "disabled"), "*");
    assertThat(ok(send(HttpMethod.GET, "/twins/tw-mod", null, null)).getString("status"))
        .isEqualTo("disabled");
    assertThat(send(HttpMethod.DELETE, "/devices/tw-mod", null, "*").statusCode()).isEqualTo(204);
    assertThat(send(HttpMethod.GET, "/twins/tw-mod/modules/m1", null, null).statusCode())
        .isEqualTo(404);
  }

  @Test
  void bulkImportCarriesTwinContentAndUpdateTwinModes() {
    JsonArray create =
        new JsonArray()
            .add(
                new JsonObject(
                    "{\"id\":\"tw-b1\",\"importMode\":\"create\",\"tags\":{\"fleet\":\"a\"},\"properties\":{\"desired\":{\"rate\":3}}}"))
            .add(new JsonObject("{\"id\":\"tw-b2\",\"importMode\":\"create\"}"));
    JsonObject r = ok(send(HttpMethod.POST, "/devices", create, null));
    assertThat(r.getBoolean("isSuccessful")).isTrue();
    JsonObject t1 = ok(send(HttpMethod.GET, "/twins/tw-b1", null, null));
    assertThat(t1.getJsonObject("tags")).isEqualTo(new JsonObject("{\"fleet\":\"a\"}"));
    assertThat(t1.getJsonObject("properties").getJsonObject("desired").getInteger("rate"))
        .isEqualTo(3);

    JsonArray twinOnly =
        new JsonArray()
            .add(
                new JsonObject(
                    "{\"id\":\"tw-b2\",\"importMode\":\"updateTwin\",\"tags\":{\"new\":1}}"))
            .add(
                new JsonObject()
                    .put("id", "tw-b1")
                    .put("importMode", "updateTwinIfMatchETag")
                    .put("twinETag", "AAAAAAAAAAE=")
                    .put("tags", new JsonObject().put("x", 1)))
            .add(
                new JsonObject(
                    "{\"id\":\"tw-missing\",\"importMode\":\"updateTwin\",\"tags\":{\"a\":1}}"));
    HttpResponse<Buffer> partial = send(HttpMethod.POST, "/devices", twinOnly, null);
    assertThat(partial.statusCode()).isEqualTo(400);
    JsonArray errors = partial.bodyAsJsonObject().getJsonArray("errors");
    assertThat(
            errors.stream()
                .map(
                    e ->
                        ((JsonObject) e).getString("deviceId")
                            + ":"
                            + ((JsonObject) e).getString("errorCode")))
        .containsExactlyInAnyOrder("tw-b1:PreconditionFailed", "tw-missing:DeviceNotFound");
    assertThat(ok(send(HttpMethod.GET, "/twins/tw-b2", null, null)).getJsonObject("tags"))
        .isEqualTo(new JsonObject("{\"new\":1}"));
    assertThat(ok(send(HttpMethod.GET, "/twins/tw-b1", null, null)).getJsonObject("tags"))
        .isEqualTo(new JsonObject("{\"fleet\":\"a\"}"));
  }

  @Test
  void twinsNeedServiceConnect() {
    device("tw-perm");
    HttpResponse<Buffer> r =
        Future.await(
            hub.client
                .get("/twins/tw-perm" + API)
                .putHeader("Authorization", hub.token("registryReadWrite"))
                .send());
    assertThat(r.statusCode()).isEqualTo(401);
    HttpResponse<Buffer> s =
        Future.await(
            hub.client
                .get("/twins/tw-perm" + API)
                .putHeader("Authorization", hub.token("service"))
                .send());
    assertThat(s.statusCode()).isEqualTo(200);
  }
}
