package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.herd.core.twin.TwinKey;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Cloud-to-device messages end to end: REST in, durable queue, MQTT devices out, feedback. */
class CloudToDeviceIT {
  private static final String API = "?api-version=2021-04-12";
  private static TestHub hub;

  /** Feedback is removed when read; records of every device collect here. */
  private static final Map<String, List<JsonObject>> feedback = new ConcurrentHashMap<>();

  @BeforeAll
  static void start() throws Exception {
    hub = TestHub.start();
  }

  @AfterAll
  static void stop() {
    if (hub != null) {
      hub.close();
    }
  }

  private static String topic(String id) {
    return "devices/" + id + "/messages/devicebound/#";
  }

  private static HttpResponse<Buffer> send(TestHub h, String id, JsonObject body) {
    return Future.await(
        h.client
            .post("/devices/" + id + "/messages/deviceBound" + API)
            .putHeader("Authorization", h.token("service"))
            .sendJson(body));
  }

  private static HttpResponse<Buffer> purge(String id) {
    return Future.await(
        hub.client
            .delete("/devices/" + id + "/commands" + API)
            .putHeader("Authorization", hub.token("service"))
            .send());
  }

  private static JsonObject text(String data) {
    return new JsonObject().put("data", data);
  }

  private static JsonObject get(TestHub h, String path) {
    HttpResponse<Buffer> r =
        Future.await(h.client.get(path + API).putHeader("Authorization", h.owner()).send());
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  private static int count(TestHub h, String id) {
    return get(h, "/devices/" + id).getInteger("cloudToDeviceMessageCount");
  }

  private static int twinCount(TestHub h, String id) {
    return get(h, "/twins/" + id).getInteger("cloudToDeviceMessageCount");
  }

  private static List<JsonObject> feedbackOf(String id) {
    HttpResponse<Buffer> r =
        Future.await(
            hub.client
                .get("/messages/serviceBound/feedback" + API + "&max=100")
                .putHeader("Authorization", hub.token("service"))
                .send());
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    JsonArray records = r.bodyAsJsonArray();
    for (int i = 0; i < records.size(); i++) {
      JsonObject f = records.getJsonObject(i);
      feedback.computeIfAbsent(f.getString("deviceId"), k -> new CopyOnWriteArrayList<>()).add(f);
    }
    return feedback.getOrDefault(id, List.of());
  }

  @Test
  void messagesQueuedWhileOfflineArriveInOrderOnSubscribeAndTheCountFollows() throws Exception {
    String key = hub.deviceKey("c2d-offline");
    for (int i = 1; i <= 3; i++) {
      HttpResponse<Buffer> r =
          send(
              hub,
              "c2d-offline",
              text("hello " + i)
                  .put("messageId", "m" + i)
                  .put("correlationId", "c" + i)
                  .put("properties", new JsonObject().put("k", "v " + i)));
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
      assertThat(r.bodyAsJsonObject().getString("messageId")).isEqualTo("m" + i);
      assertThat(r.bodyAsJsonObject().getString("enqueuedTimeUtc")).endsWith("Z");
    }
    assertThat(count(hub, "c2d-offline")).isEqualTo(3);
    await().atMost(Duration.ofSeconds(10)).until(() -> twinCount(hub, "c2d-offline") == 3);

    try (MqttTestDevice d = MqttTestDevice.connect(hub, "c2d-offline", key)) {
      d.subscribe(topic("c2d-offline"), 1);
      for (int i = 1; i <= 3; i++) {
        MqttTestDevice.Received m = d.next();
        assertThat(m.payload()).isEqualTo("hello " + i);
        assertThat(m.qos()).isEqualTo(1);
        assertThat(m.topic())
            .startsWith("devices/c2d-offline/messages/devicebound/")
            .contains("%24.mid=m" + i)
            .contains("%24.cid=c" + i)
            .contains("k=v%20" + i);
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> count(hub, "c2d-offline") == 0);
      await().atMost(Duration.ofSeconds(10)).until(() -> twinCount(hub, "c2d-offline") == 0);
      // Sent while connected: straight through.
      assertThat(send(hub, "c2d-offline", text("live")).statusCode()).isEqualTo(201);
      assertThat(d.next().payload()).isEqualTo("live");
    }
  }

  @Test
  void anUnacknowledgedMessageIsDeliveredAgainAfterReconnect() throws Exception {
    String key = hub.deviceKey("c2d-noack");
    send(hub, "c2d-noack", text("first").put("messageId", "a1"));
    send(hub, "c2d-noack", text("second").put("messageId", "a2"));
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "c2d-noack", key)) {
      d.client.setManualAcks(true);
      d.subscribe(topic("c2d-noack"), 1);
      assertThat(d.next().payload()).isEqualTo("first");
      assertThat(d.next().payload()).isEqualTo("second");
      // No PUBACK before the device goes away.
    }
    assertThat(count(hub, "c2d-noack")).isEqualTo(2);
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "c2d-noack", key)) {
      d.subscribe(topic("c2d-noack"), 1);
      assertThat(d.next().payload()).isEqualTo("first");
      assertThat(d.next().payload()).isEqualTo("second");
      await().atMost(Duration.ofSeconds(10)).until(() -> count(hub, "c2d-noack") == 0);
    }
  }

  @Test
  void aCompletedMessageWithAckFullLeavesSuccessFeedback() throws Exception {
    String key = hub.deviceKey("c2d-full");
    String generation = hub.hub.registry().find("c2d-full").orElseThrow().generationId();
    send(hub, "c2d-full", text("x").put("messageId", "f1").put("ack", "full"));
    send(hub, "c2d-full", text("y").put("messageId", "f2"));
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "c2d-full", key)) {
      d.subscribe(topic("c2d-full"), 1);
      assertThat(d.next().topic()).contains("iothub-ack=full");
      d.next();
      await().atMost(Duration.ofSeconds(10)).until(() -> !feedbackOf("c2d-full").isEmpty());
    }
    JsonObject f = feedbackOf("c2d-full").get(0);
    assertThat(f.getString("originalMessageId")).isEqualTo("f1");
    assertThat(f.getString("statusCode")).isEqualTo("Success");
    assertThat(f.getString("description")).isEqualTo("Success");
    assertThat(f.getString("deviceGenerationId")).isEqualTo(generation);
    assertThat(f.getString("enqueuedTimeUtc")).endsWith("Z");
    assertThat(feedbackOf("c2d-full")).hasSize(1);
  }

  @Test
  void aMessageNeverAcknowledgedIsDroppedAfterTenAttemptsWithFeedback() throws Exception {
    String key = hub.deviceKey("c2d-attempts");
    send(hub, "c2d-attempts", text("unwanted").put("messageId", "u1").put("ack", "negative"));
    for (int attempt = 1; attempt <= 10; attempt++) {
      try (MqttTestDevice d = MqttTestDevice.connect(hub, "c2d-attempts", key)) {
        d.client.setManualAcks(true);
        d.subscribe(topic("c2d-attempts"), 1);
        assertThat(d.next().payload()).as("attempt %d", attempt).isEqualTo("unwanted");
      }
    }
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "c2d-attempts", key)) {
      d.subscribe(topic("c2d-attempts"), 1);
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(feedbackOf("c2d-attempts"))
                      .extracting(j -> j.getString("statusCode"))
                      .containsExactly("DeliveryCountExceeded"));
      assertThat(d.received).isEmpty();
    }
    assertThat(count(hub, "c2d-attempts")).isZero();
  }

  @Test
  void anExpiredMessageIsDroppedWithExpiredFeedback() throws Exception {
    String key = hub.deviceKey("c2d-ttl");
    send(
        hub,
        "c2d-ttl",
        text("late")
            .put("messageId", "t1")
            .put("ack", "negative")
            .put("expiryTimeUtc", Instant.now().plusSeconds(1).toString()));
    assertThat(count(hub, "c2d-ttl")).isEqualTo(1);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(feedbackOf("c2d-ttl"))
                    .extracting(j -> j.getString("statusCode"))
                    .containsExactly("Expired"));
    assertThat(feedbackOf("c2d-ttl").get(0).getString("originalMessageId")).isEqualTo("t1");
    await().atMost(Duration.ofSeconds(10)).until(() -> count(hub, "c2d-ttl") == 0);
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "c2d-ttl", key)) {
      d.subscribe(topic("c2d-ttl"), 1);
      assertThat(d.received.poll(500, TimeUnit.MILLISECONDS)).isNull();
    }
  }

  @Test
  void aFullQueueRefusesWith403004AndPurgeEmptiesIt() throws Exception {
    hub.deviceKey("c2d-full-queue");
    for (int i = 0; i < 50; i++) {
      HttpResponse<Buffer> r = send(hub, "c2d-full-queue", text("m" + i));
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    }
    HttpResponse<Buffer> refused = send(hub, "c2d-full-queue", text("one too many"));
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.getHeader("iothub-errorcode")).isEqualTo("DeviceMaximumQueueDepthExceeded");
    assertThat(count(hub, "c2d-full-queue")).isEqualTo(50);

    HttpResponse<Buffer> purged = purge("c2d-full-queue");
    assertThat(purged.statusCode()).isEqualTo(200);
    assertThat(purged.bodyAsJsonObject())
        .isEqualTo(
            new JsonObject()
                .put("totalMessagesPurged", 50)
                .put("deviceId", "c2d-full-queue")
                .putNull("moduleId"));
    await().atMost(Duration.ofSeconds(10)).until(() -> count(hub, "c2d-full-queue") == 0);
    assertThat(send(hub, "c2d-full-queue", text("room again")).statusCode()).isEqualTo(201);

    HttpResponse<Buffer> unknown = purge("nobody");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.getHeader("iothub-errorcode")).isEqualTo("DeviceNotFound");
  }

  @Test
  void badRequestsAreRefusedWithAReason() throws Exception {
    hub.deviceKey("c2d-bad");
    HttpResponse<Buffer> unknown = send(hub, "nobody", text("x"));
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.getHeader("iothub-errorcode")).isEqualTo("DeviceNotFound");
    for (JsonObject bad :
        List.of(
            text("x").put("ack", "sometimes"),
            text("!!").put("dataEncoding", "base64"),
            text("x").put("expiryTimeUtc", "yesterday"),
            text("x").put("expiryTimeUtc", Instant.now().minusSeconds(5).toString()),
            text("x").put("expiryTimeUtc", Instant.now().plus(Duration.ofDays(3)).toString()),
            text("x").put("properties", new JsonObject().put("k", new JsonObject())),
            text("x").put("ttl", 5))) {
      HttpResponse<Buffer> r = send(hub, "c2d-bad", bad);
      assertThat(r.statusCode()).as(bad.encode()).isEqualTo(400);
      assertThat(r.bodyAsJsonObject().getString("Message")).as(bad.encode()).contains(";");
    }
    byte[] big = new byte[64 * 1024 + 1];
    HttpResponse<Buffer> tooLarge =
        send(
            hub,
            "c2d-bad",
            new JsonObject()
                .put("data", Base64.getEncoder().encodeToString(big))
                .put("dataEncoding", "base64"));
    assertThat(tooLarge.statusCode()).isEqualTo(413);
    HttpResponse<Buffer> deviceToken =
        Future.await(
            hub.client
                .post("/devices/c2d-bad/messages/deviceBound" + API)
                .putHeader("Authorization", hub.token("registryRead"))
                .sendJson(text("x")));
    assertThat(deviceToken.statusCode()).isEqualTo(401);
    assertThat(count(hub, "c2d-bad")).isZero();
  }

  @Test
  void theReadySignalFollowsTheCloudToDeviceSubscriptionOnly() throws Exception {
    String key = hub.deviceKey("c2d-signal");
    BlockingQueue<TwinKey> ready = new LinkedBlockingQueue<>();
    hub.hub.sessions().onCloudToDeviceReady(ready::add);
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "c2d-signal", key)) {
      d.subscribe("$iothub/twin/res/#", 0);
      d.subscribe(topic("c2d-signal"), 1);
      List<TwinKey> seen = new ArrayList<>();
      TwinKey k;
      while ((k = ready.poll(2, TimeUnit.SECONDS)) != null) {
        seen.add(k);
        if (k.deviceId().equals("c2d-signal")) {
          break;
        }
      }
      assertThat(seen).filteredOn(x -> x.deviceId().equals("c2d-signal")).hasSize(1);
    }
  }

  @Test
  void pendingMessagesSurviveARestart() throws Exception {
    TestHub own = TestHub.start();
    try {
      String key = own.deviceKey("c2d-restart");
      send(own, "c2d-restart", text("one").put("messageId", "r1"));
      send(own, "c2d-restart", text("two").put("messageId", "r2").put("ack", "positive"));
      own = own.restart();
      assertThat(count(own, "c2d-restart")).isEqualTo(2);
      assertThat(twinCount(own, "c2d-restart")).isEqualTo(2);
      try (MqttTestDevice d = MqttTestDevice.connect(own, "c2d-restart", key)) {
        d.subscribe(topic("c2d-restart"), 1);
        assertThat(d.next().payload()).isEqualTo("one");
        assertThat(d.next().payload()).isEqualTo("two");
        TestHub h = own;
        await().atMost(Duration.ofSeconds(10)).until(() -> count(h, "c2d-restart") == 0);
      }
      // Completions are durable too: nothing comes back after another restart.
      own = own.restart();
      assertThat(count(own, "c2d-restart")).isZero();
      HttpResponse<Buffer> fb =
          Future.await(
              own.client
                  .get("/messages/serviceBound/feedback" + API)
                  .putHeader("Authorization", own.token("service"))
                  .send());
      assertThat(fb.bodyAsJsonArray()).hasSize(1);
      assertThat(fb.bodyAsJsonArray().getJsonObject(0).getString("originalMessageId"))
          .isEqualTo("r2");
    } finally {
      own.close();
    }
  }
}
