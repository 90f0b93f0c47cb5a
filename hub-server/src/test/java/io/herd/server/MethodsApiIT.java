package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Direct methods over REST to MQTT devices (wire §5.5). */
class MethodsApiIT {
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

  private static HttpResponse<Buffer> call(String path, JsonObject body) {
    return Future.await(
        hub.client
            .post(path + API)
            .putHeader("Authorization", hub.owner())
            .putHeader("Content-Type", "application/json")
            .timeout(60_000)
            .sendBuffer(Buffer.buffer(body.encode())));
  }

  private static JsonObject method(String name, Object payload) {
    return new JsonObject().put("methodName", name).put("payload", payload);
  }

  /** Answers every method request with status 200 and {"echo": request payload}. */
  private static void answerAll(MqttTestDevice d) {
    Thread t =
        new Thread(
            () -> {
              try {
                while (true) {
                  MqttTestDevice.Received r = d.received.poll(30, TimeUnit.SECONDS);
                  if (r == null || !d.client.isConnected()) {
                    return;
                  }
                  String rid = r.topic().substring(r.topic().indexOf("$rid=") + 5);
                  String echo = r.payload().isEmpty() ? "null" : r.payload();
                  d.publish("$iothub/methods/res/200/?$rid=" + rid, "{\"echo\":" + echo + "}", 0);
                }
              } catch (Exception e) {
                // the device went away
              }
            });
    t.setDaemon(true);
    t.start();
  }

  @Test
  void aMethodReachesTheDeviceAndItsAnswerComesBack() throws Exception {
    String key = hub.deviceKey("dm-ok");
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "dm-ok", key)) {
      d.subscribe("$iothub/methods/POST/#", 0);
      answerAll(d);
      HttpResponse<Buffer> r =
          call("/twins/dm-ok/methods", method("reboot", new JsonObject().put("delay", 5)));
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
      JsonObject body = r.bodyAsJsonObject();
      assertThat(body.getInteger("status")).isEqualTo(200);
      assertThat(body.getJsonObject("payload").getJsonObject("echo").getInteger("delay"))
          .isEqualTo(5);
    }
  }

  @Test
  void unknownAndOfflineDevicesAreTold() throws Exception {
    HttpResponse<Buffer> unknown = call("/twins/dm-nobody/methods", method("x", null));
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.getHeader("iothub-errorcode")).isEqualTo("DeviceNotFound");
    hub.deviceKey("dm-offline");
    HttpResponse<Buffer> offline = call("/twins/dm-offline/methods", method("x", null));
    assertThat(offline.statusCode()).isEqualTo(404);
    assertThat(offline.getHeader("iothub-errorcode")).isEqualTo("DeviceNotOnline");
    assertThat(offline.bodyAsString()).contains("404103");
  }

  @Test
  void aDeviceThatNeverAnswersTimesOutWith504AndItsLateAnswerIsDropped() throws Exception {
    String key = hub.deviceKey("dm-silent");
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "dm-silent", key)) {
      d.subscribe("$iothub/methods/POST/#", 0);
      long t0 = System.nanoTime();
      HttpResponse<Buffer> r =
          call("/twins/dm-silent/methods", method("slow", null).put("responseTimeoutInSeconds", 5));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(504);
      assertThat(r.getHeader("iothub-errorcode")).isEqualTo("GatewayTimeout");
      assertThat(ms).isBetween(4_500L, 30_000L);
      // The request did arrive; answering now is too late and must not disturb the next call.
      MqttTestDevice.Received req = d.next();
      String rid = req.topic().substring(req.topic().indexOf("$rid=") + 5);
      d.publish("$iothub/methods/res/200/?$rid=" + rid, "{}", 0);
      answerAll(d);
      HttpResponse<Buffer> next = call("/twins/dm-silent/methods", method("fast", null));
      assertThat(next.statusCode()).isEqualTo(200);
    }
  }

  @Test
  void connectTimeoutWaitsForTheDeviceToConnectAndSubscribe() throws Exception {
    String key = hub.deviceKey("dm-late");
    CompletableFuture<HttpResponse<Buffer>> pending =
        CompletableFuture.supplyAsync(
            () ->
                call(
                    "/twins/dm-late/methods",
                    method("wake", null).put("connectTimeoutInSeconds", 20)));
    Thread.sleep(1_000); // the call is waiting for the device
    assertThat(pending).isNotDone();
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "dm-late", key)) {
      d.subscribe("$iothub/methods/POST/#", 0);
      answerAll(d);
      HttpResponse<Buffer> r = pending.get(30, TimeUnit.SECONDS);
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    }
  }

  @Test
  void aModuleAnswersItsOwnMethods() throws Exception {
    hub.deviceKey("dm-edge");
    HttpResponse<Buffer> created =
        Future.await(
            hub.client
                .put("/devices/dm-edge/modules/m1" + API)
                .putHeader("Authorization", hub.owner())
                .sendJsonObject(new JsonObject()));
    String key =
        created
            .bodyAsJsonObject()
            .getJsonObject("authentication")
            .getJsonObject("symmetricKey")
            .getString("primaryKey");
    try (MqttTestDevice m = MqttTestDevice.connect(hub, "dm-edge/m1", key)) {
      m.subscribe("$iothub/methods/POST/#", 0);
      answerAll(m);
      HttpResponse<Buffer> r = call("/twins/dm-edge/modules/m1/methods", method("ping", null));
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
      // The device itself has no connection.
      assertThat(call("/twins/dm-edge/methods", method("ping", null)).statusCode()).isEqualTo(404);
    }
  }

  @Test
  void badCallsGetClearErrors() {
    String big = "x".repeat(130 * 1024);
    Object[][] cases = {
      {new JsonObject().put("payload", 1), 400, "methodName"},
      {method("has space", null), 400, "position 3"},
      {method("a/b", null), 400, "methodName"},
      {method("m", null).put("responseTimeoutInSeconds", 4), 400, "between 5 and 300"},
      {method("m", null).put("responseTimeoutInSeconds", 301), 400, "between 5 and 300"},
      {method("m", null).put("connectTimeoutInSeconds", -1), 400, "between 0 and 300"},
      {method("m", null).put("responseTimeoutInSeconds", "ten"), 400, "responseTimeoutInSeconds"},
      {method("m", big), 413, "limit is 131072"},
    };
    for (Object[] c : cases) {
      HttpResponse<Buffer> r = call("/twins/dm-any/methods", (JsonObject) c[0]);
      assertThat(r.statusCode()).as(c[0] + " -> " + r.bodyAsString()).isEqualTo(c[1]);
      assertThat(r.bodyAsString()).contains((String) c[2]);
    }
  }
}
