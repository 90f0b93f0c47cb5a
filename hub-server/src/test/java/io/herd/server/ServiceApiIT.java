package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The service REST API of a running hub, driven over HTTPS. */
class ServiceApiIT {
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

  private HttpRequest<Buffer> request(HttpMethod method, String path, String token) {
    HttpRequest<Buffer> r = hub.client.request(method, path);
    if (token != null) {
      r.putHeader("Authorization", token);
    }
    return r;
  }

  private HttpResponse<Buffer> send(HttpMethod method, String path, Object body) {
    return send(request(method, path + API, hub.owner()), body);
  }

  private static HttpResponse<Buffer> send(HttpRequest<Buffer> r, Object body) {
    if (body == null) {
      return Future.await(r.send());
    }
    Buffer b = body instanceof Buffer buf ? buf : Buffer.buffer(body.toString());
    r.putHeader("Content-Type", "application/json; charset=utf-8");
    return Future.await(r.sendBuffer(b));
  }

  private static void assertError(HttpResponse<Buffer> resp, int status, String name, int code) {
    assertThat(resp.statusCode()).as(resp.bodyAsString()).isEqualTo(status);
    assertThat(resp.getHeader("iothub-errorcode")).isEqualTo(name);
    assertThat(resp.getHeader("Content-Type")).contains("application/json");
    JsonObject body = resp.bodyAsJsonObject();
    assertThat(body.getString("Message")).startsWith("ErrorCode:" + name + ";");
    assertThat(body.getString("ExceptionMessage")).startsWith("Tracking ID:");
    assertThat(body.getInteger("errorCode")).isEqualTo(code);
  }

  @Test
  void createGetUpdateDeleteDevice() {
    HttpResponse<Buffer> created =
        send(
            HttpMethod.PUT,
            "/devices/crud-1",
            new JsonObject()
                .put("deviceId", "crud-1")
                .put(
                    "authentication",
                    new JsonObject()
                        .put("type", "sas")
                        .put(
                            "symmetricKey",
                            new JsonObject().put("primaryKey", "").put("secondaryKey", ""))));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(200);
    assertThat(created.getHeader("Content-Type")).isEqualTo("application/json; charset=utf-8");
    JsonObject d = created.bodyAsJsonObject();
    assertThat(d.getString("deviceId")).isEqualTo("crud-1");
    assertThat(
            d.getJsonObject("authentication").getJsonObject("symmetricKey").getString("primaryKey"))
        .hasSize(44);
    assertThat(d.getString("connectionState")).isEqualTo("Disconnected");
    assertThat(d.getString("status")).isEqualTo("enabled");
    assertThat(d.getString("lastActivityTime")).isEqualTo("0001-01-01T00:00:00Z");

    JsonObject got = send(HttpMethod.GET, "/devices/crud-1", null).bodyAsJsonObject();
    assertThat(got).isEqualTo(d);

    HttpResponse<Buffer> stale =
        send(
            request(HttpMethod.PUT, "/devices/crud-1" + API, hub.owner())
                .putHeader("If-Match", "\"c3RhbGU=\""),
            new JsonObject().put("status", "disabled"));
    assertError(stale, 412, "PreconditionFailed", 412001);

    HttpResponse<Buffer> updated =
        send(
            request(HttpMethod.PUT, "/devices/crud-1" + API, hub.owner())
                .putHeader("If-Match", "\"" + d.getString("etag") + "\""),
            new JsonObject()
                .put("deviceId", "crud-1")
                .put("status", "disabled")
                .put("statusReason", "r"));
    assertThat(updated.statusCode()).as(updated.bodyAsString()).isEqualTo(200);
    assertThat(updated.bodyAsJsonObject().getString("status")).isEqualTo("disabled");
    assertThat(updated.bodyAsJsonObject().getString("etag")).isNotEqualTo(d.getString("etag"));
    assertThat(updated.bodyAsJsonObject().getJsonObject("authentication"))
        .isEqualTo(d.getJsonObject("authentication"));

    HttpResponse<Buffer> deleted =
        send(
            request(HttpMethod.DELETE, "/devices/crud-1" + API, hub.owner())
                .putHeader("If-Match", "\"*\""),
            null);
    assertThat(deleted.statusCode()).isEqualTo(204);
    assertError(send(HttpMethod.GET, "/devices/crud-1", null), 404, "DeviceNotFound", 404001);
    assertError(send(HttpMethod.DELETE, "/devices/crud-1", null), 404, "DeviceNotFound", 404001);
  }

  @Test
  void duplicateCreateConflicts() {
    assertThat(send(HttpMethod.PUT, "/devices/dup-1", new JsonObject()).statusCode())
        .isEqualTo(200);
    assertError(
        send(HttpMethod.PUT, "/devices/dup-1", new JsonObject()),
        409,
        "DeviceAlreadyExists",
        409001);
  }

  @Test
  void idsWithUnusualAllowedCharactersRoundTrip() {
    String id = "a+b%c:d.e_f(g)=h@i;$j'";
    String encoded = java.net.URLEncoder.encode(id, java.nio.charset.StandardCharsets.UTF_8);
    HttpResponse<Buffer> r = send(HttpMethod.PUT, "/devices/" + encoded, new JsonObject());
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    assertThat(r.bodyAsJsonObject().getString("deviceId")).isEqualTo(id);
    assertThat(
            send(HttpMethod.GET, "/devices/" + encoded, null)
                .bodyAsJsonObject()
                .getString("deviceId"))
        .isEqualTo(id);
  }

  @Test
  void listHonoursTop() {
    for (int i = 0; i < 3; i++) {
      send(HttpMethod.PUT, "/devices/list-" + i, new JsonObject());
    }
    JsonArray all = send(HttpMethod.GET, "/devices", null).bodyAsJsonArray();
    assertThat(all.size()).isGreaterThanOrEqualTo(3);
    HttpResponse<Buffer> two =
        send(request(HttpMethod.GET, "/devices" + API + "&top=2", hub.owner()), null);
    assertThat(two.bodyAsJsonArray().size()).isEqualTo(2);
    assertError(
        send(request(HttpMethod.GET, "/devices" + API + "&top=abc", hub.owner()), null),
        400,
        "ArgumentInvalid",
        400004);
  }

  @Test
  void bulkCreateUpdateDeleteWithPerDeviceErrors() {
    JsonArray create = new JsonArray();
    for (int i = 0; i < 100; i++) {
      create.add(new JsonObject().put("id", "bulk-" + i).put("importMode", "create"));
    }
    HttpResponse<Buffer> ok = send(HttpMethod.POST, "/devices", create);
    assertThat(ok.statusCode()).as(ok.bodyAsString()).isEqualTo(200);
    assertThat(ok.bodyAsJsonObject())
        .isEqualTo(
            new JsonObject()
                .put("isSuccessful", true)
                .put("errors", new JsonArray())
                .put("warnings", new JsonArray()));

    JsonArray mixed =
        new JsonArray()
            .add(new JsonObject().put("id", "bulk-0").put("importMode", "create"))
            .add(new JsonObject().put("id", "bulk-new").put("importMode", "create"))
            .add(
                new JsonObject()
                    .put("id", "bulk-1")
                    .put("importMode", "Update")
                    .put("status", "disabled"))
            .add(new JsonObject().put("id", "bulk-2").put("importMode", "Delete"));
    HttpResponse<Buffer> partial = send(HttpMethod.POST, "/devices", mixed);
    assertThat(partial.statusCode()).isEqualTo(400);
    JsonObject result = partial.bodyAsJsonObject();
    assertThat(result.getBoolean("isSuccessful")).isFalse();
    assertThat(result.getJsonArray("errors")).hasSize(1);
    assertThat(result.getJsonArray("errors").getJsonObject(0).getString("deviceId"))
        .isEqualTo("bulk-0");
    assertThat(result.getJsonArray("errors").getJsonObject(0).getString("errorCode"))
        .isEqualTo("DeviceAlreadyExists");
    assertThat(send(HttpMethod.GET, "/devices/bulk-new", null).statusCode()).isEqualTo(200);
    assertThat(send(HttpMethod.GET, "/devices/bulk-1", null).bodyAsJsonObject().getString("status"))
        .isEqualTo("disabled");
    assertThat(send(HttpMethod.GET, "/devices/bulk-2", null).statusCode()).isEqualTo(404);

    create.add(new JsonObject().put("id", "bulk-100").put("importMode", "create"));
    assertError(send(HttpMethod.POST, "/devices", create), 413, "TooManyDevices", 413002);
    JsonArray twice =
        new JsonArray()
            .add(new JsonObject().put("id", "x").put("importMode", "create"))
            .add(new JsonObject().put("id", "x").put("importMode", "create"));
    assertError(
        send(HttpMethod.POST, "/devices", twice), 400, "DeviceDefinedMultipleTimes", 400011);
    assertError(
        send(
            HttpMethod.POST,
            "/devices",
            new JsonArray().add(new JsonObject().put("id", "y").put("importMode", "nope"))),
        400,
        "ArgumentInvalid",
        400004);
  }

  @Test
  void modulesCrud() {
    send(HttpMethod.PUT, "/devices/mod-dev", new JsonObject());
    HttpResponse<Buffer> m =
        send(
            HttpMethod.PUT,
            "/devices/mod-dev/modules/m1",
            new JsonObject().put("managedBy", "edge"));
    assertThat(m.statusCode()).as(m.bodyAsString()).isEqualTo(200);
    assertThat(m.bodyAsJsonObject().getString("moduleId")).isEqualTo("m1");
    assertThat(m.bodyAsJsonObject().getString("deviceId")).isEqualTo("mod-dev");
    assertError(
        send(HttpMethod.PUT, "/devices/mod-dev/modules/m1", new JsonObject()),
        409,
        "ModuleAlreadyExistsOnDevice",
        409301);
    assertThat(send(HttpMethod.GET, "/devices/mod-dev/modules", null).bodyAsJsonArray()).hasSize(1);
    assertThat(send(HttpMethod.GET, "/devices/mod-dev/modules/m1", null).bodyAsJsonObject())
        .isEqualTo(m.bodyAsJsonObject());
    assertThat(send(HttpMethod.DELETE, "/devices/mod-dev/modules/m1", null).statusCode())
        .isEqualTo(204);
    assertError(
        send(HttpMethod.GET, "/devices/mod-dev/modules/m1", null), 404, "ModuleNotFound", 404010);
    assertError(
        send(HttpMethod.PUT, "/devices/nodev/modules/m1", new JsonObject()),
        404,
        "DeviceNotFound",
        404001);
  }

  @Test
  void statistics() {
    send(HttpMethod.PUT, "/devices/stat-1", new JsonObject());
    JsonObject s = send(HttpMethod.GET, "/statistics/devices", null).bodyAsJsonObject();
    assertThat(s.getLong("totalDeviceCount")).isPositive();
    assertThat(s.getLong("enabledDeviceCount") + s.getLong("disabledDeviceCount"))
        .isEqualTo(s.getLong("totalDeviceCount"));
    JsonObject svc = send(HttpMethod.GET, "/statistics/service", null).bodyAsJsonObject();
    assertThat(svc.getLong("connectedDeviceCount")).isZero();
  }

  @Test
  void authenticationAndPermissionErrors() {
    assertError(
        send(request(HttpMethod.GET, "/devices" + API, null), null),
        401,
        "IotHubUnauthorizedAccess",
        401002);
    assertError(
        send(request(HttpMethod.GET, "/devices" + API, "SharedAccessSignature garbage"), null),
        401,
        "IotHubUnauthorizedAccess",
        401002);
    String expired = hub.token("iothubowner", Instant.now().getEpochSecond() - 600);
    HttpResponse<Buffer> exp = send(request(HttpMethod.GET, "/devices" + API, expired), null);
    assertError(exp, 401, "IotHubUnauthorizedAccess", 401002);
    assertThat(exp.bodyAsJsonObject().getString("Message")).contains("expired");
    String forged = hub.owner().replaceFirst("sig=[^&]+", "sig=AAAA");
    assertError(
        send(request(HttpMethod.GET, "/devices" + API, forged), null),
        401,
        "IotHubUnauthorizedAccess",
        401002);

    String reader = hub.token("registryRead");
    assertThat(send(request(HttpMethod.GET, "/devices" + API, reader), null).statusCode())
        .isEqualTo(200);
    HttpResponse<Buffer> denied =
        send(request(HttpMethod.PUT, "/devices/nope" + API, reader), new JsonObject());
    assertError(denied, 401, "IotHubUnauthorizedAccess", 401002);
    assertThat(denied.bodyAsJsonObject().getString("Message")).contains("RegistryWrite");
    assertError(
        send(request(HttpMethod.GET, "/devices" + API, hub.token("service")), null),
        401,
        "IotHubUnauthorizedAccess",
        401002);
    assertThat(
            send(request(HttpMethod.GET, "/statistics/service" + API, hub.token("service")), null)
                .statusCode())
        .isEqualTo(200);
  }

  @Test
  void badInputGetsClearErrors() {
    assertError(
        send(request(HttpMethod.GET, "/devices", hub.owner()), null),
        400,
        "InvalidProtocolVersion",
        400001);
    assertError(
        send(HttpMethod.PUT, "/devices/bad-json", Buffer.buffer("{not json")),
        400,
        "DeserializationError",
        400012);
    assertError(
        send(HttpMethod.PUT, "/devices/bad-json", new JsonArray()),
        400,
        "DeserializationError",
        400012);
    HttpResponse<Buffer> wrongType =
        send(HttpMethod.PUT, "/devices/bad-type", new JsonObject().put("status", 7));
    assertError(wrongType, 400, "ArgumentInvalid", 400004);
    assertThat(wrongType.bodyAsJsonObject().getString("Message")).contains("'status'");
    assertError(
        send(HttpMethod.PUT, "/devices/bad%20id", new JsonObject()),
        400,
        "ArgumentInvalid",
        400004);
    assertError(
        send(HttpMethod.PUT, "/devices/x" + "y".repeat(128), new JsonObject()),
        400,
        "ArgumentInvalid",
        400004);
    Buffer huge = Buffer.buffer("{\"statusReason\":\"" + "x".repeat(300 * 1024) + "\"}");
    assertError(send(HttpMethod.PUT, "/devices/huge", huge), 413, "MessageTooLarge", 413001);
    assertError(send(HttpMethod.GET, "/no/such/thing", null), 404, "GenericNotFound", 404000);
    assertError(
        send(HttpMethod.PATCH, "/devices/x", new JsonObject()),
        405,
        "GenericMethodNotAllowed",
        405000);
    // After all of that, the hub still serves.
    assertThat(send(HttpMethod.GET, "/devices", null).statusCode()).isEqualTo(200);
  }

  @Test
  void badRequestsDoNotDisturbConcurrentGoodOnes() {
    send(HttpMethod.PUT, "/devices/steady", new JsonObject());
    List<Future<HttpResponse<Buffer>>> good = new ArrayList<>();
    List<Future<HttpResponse<Buffer>>> bad = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      good.add(request(HttpMethod.GET, "/devices/steady" + API, hub.owner()).send());
      bad.add(
          request(HttpMethod.PUT, "/devices/steady" + API, hub.owner())
              .sendBuffer(Buffer.buffer("[[[garbage")));
    }
    Future.await(Future.join(good.stream().map(f -> (Future<?>) f).toList()));
    Future.await(Future.join(bad.stream().map(f -> (Future<?>) f).toList()));
    assertThat(good).allSatisfy(f -> assertThat(f.result().statusCode()).isEqualTo(200));
    assertThat(bad).allSatisfy(f -> assertThat(f.result().statusCode()).isEqualTo(400));
  }

  @Test
  void healthMetricsAndHubJson() throws Exception {
    HttpResponse<Buffer> health = Future.await(hub.client.get("/health").send());
    assertThat(health.statusCode()).isEqualTo(200);
    HttpResponse<Buffer> metrics = Future.await(hub.client.get("/metrics").send());
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.bodyAsString())
        .contains("herd_registry_devices")
        .contains("vertx_http_server");

    var file = hub.dataDir.resolve("hub.json");
    assertThat(Files.getPosixFilePermissions(file))
        .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    JsonObject info = new JsonObject(Files.readString(file));
    assertThat(info.getString("hostName")).isEqualTo("localhost");
    assertThat(info.getJsonObject("ports").getInteger("https")).isEqualTo(hub.hub.httpsPort());
    assertThat(info.getString("caFile")).isEqualTo(hub.hub.caFile().toString());
    assertThat(info.getJsonObject("connectionStrings").fieldNames())
        .containsExactlyInAnyOrder(
            "iothubowner", "service", "device", "registryRead", "registryReadWrite");
    assertThat(info.getJsonObject("connectionStrings").getString("iothubowner"))
        .startsWith("HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey=");
  }
}
