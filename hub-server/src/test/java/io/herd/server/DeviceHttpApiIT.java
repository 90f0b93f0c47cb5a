package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.adapter.common.LiveEventStream;
import io.herd.testkit.TestPki;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The HTTPS device API (wire §4): telemetry and polled cloud-to-device messages. */
class DeviceHttpApiIT {
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

  private static String token(String id, String key) {
    return MqttTestDevice.token(
        "localhost/devices/" + id, key, Instant.now().getEpochSecond() + 600, null);
  }

  /** Collects the live events stream while {@code action} runs, until {@code count} arrived. */
  private static List<LiveEventStream.Event> events(String deviceId, int count, Runnable action)
      throws Exception {
    List<LiveEventStream.Event> seen = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> got = new CompletableFuture<>();
    var ctx = hub.hub.vertx().getOrCreateContext();
    CompletableFuture<LiveEventStream.Reader> opened = new CompletableFuture<>();
    ctx.runOnContext(
        v ->
            opened.complete(
                hub.hub
                    .events()
                    .open(
                        ctx,
                        -1,
                        100,
                        e -> {
                          if (e.message().deviceId().equals(deviceId)) {
                            seen.add(e);
                            if (seen.size() == count) {
                              got.complete(null);
                            }
                          }
                        },
                        x -> {})));
    LiveEventStream.Reader reader = opened.get(5, TimeUnit.SECONDS);
    try {
      action.run();
      got.get(10, TimeUnit.SECONDS);
    } finally {
      reader.close();
    }
    return seen;
  }

  @Test
  void telemetryCarriesItsHeadersAsProperties() throws Exception {
    String key = hub.deviceKey("h-tele");
    List<LiveEventStream.Event> seen =
        events(
            "h-tele",
            1,
            () -> {
              HttpResponse<Buffer> r =
                  Future.await(
                      hub.client
                          .post("/devices/h-tele/messages/events" + API)
                          .putHeader("Authorization", token("h-tele", key))
                          .putHeader("iothub-app-temp", "21.5")
                          .putHeader("dt-subject", "sensor")
                          .putHeader("IoTHub-MessageId", "m1")
                          .putHeader("iothub-contenttype", "application/json")
                          .sendBuffer(Buffer.buffer("{\"t\":21.5}")));
              assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(204);
            });
    var m = seen.get(0).message();
    assertThat(new String(m.body(), StandardCharsets.UTF_8)).isEqualTo("{\"t\":21.5}");
    assertThat(m.properties()).containsEntry("temp", "21.5").containsEntry("dt-subject", "sensor");
    assertThat(m.systemProperties())
        .containsEntry("message-id", "m1")
        .containsEntry("content-type", "application/json")
        .containsEntry("iothub-connection-device-id", "h-tele")
        .containsEntry("iothub-connection-auth-method", "sas");
    assertThat(m.protocol()).isEqualTo("https");
  }

  @Test
  void aBatchBecomesOneMessageEach() throws Exception {
    String key = hub.deviceKey("h-batch");
    JsonArray batch = new JsonArray();
    for (int i = 0; i < 3; i++) {
      batch.add(
          new JsonObject()
              .put("body", Base64.getEncoder().encodeToString(("b" + i).getBytes()))
              .put("properties", new JsonObject().put("iothub-app-n", String.valueOf(i))));
    }
    List<LiveEventStream.Event> seen =
        events(
            "h-batch",
            3,
            () -> {
              HttpResponse<Buffer> r =
                  Future.await(
                      hub.client
                          .post("/devices/h-batch/messages/events" + API)
                          .putHeader("Authorization", token("h-batch", key))
                          .putHeader("Content-Type", "application/vnd.microsoft.iothub.json")
                          .sendBuffer(batch.toBuffer()));
              assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(204);
            });
    assertThat(seen)
        .extracting(e -> new String(e.message().body(), StandardCharsets.UTF_8))
        .containsExactly("b0", "b1", "b2");
    assertThat(seen.get(2).message().properties()).containsEntry("n", "2");
  }

  @Test
  void aDeviceCannotUseAnotherDevicesPathsAndBadInputIsRefused() throws Exception {
    String a = hub.deviceKey("h-a");
    hub.deviceKey("h-b");
    HttpResponse<Buffer> other =
        Future.await(
            hub.client
                .post("/devices/h-b/messages/events" + API)
                .putHeader("Authorization", token("h-a", a))
                .sendBuffer(Buffer.buffer("x")));
    assertThat(other.statusCode()).isEqualTo(401);
    HttpResponse<Buffer> none =
        Future.await(hub.client.get("/devices/h-a/messages/devicebound" + API).send());
    assertThat(none.statusCode()).isEqualTo(401);
    HttpResponse<Buffer> big =
        Future.await(
            hub.client
                .post("/devices/h-a/messages/events" + API)
                .putHeader("Authorization", token("h-a", a))
                .sendBuffer(Buffer.buffer(new byte[256 * 1024 + 1])));
    assertThat(big.statusCode()).isEqualTo(413);
    assertThat(big.getHeader("iothub-errorcode")).isEqualTo("MessageTooLarge");
    HttpResponse<Buffer> badBatch =
        Future.await(
            hub.client
                .post("/devices/h-a/messages/events" + API)
                .putHeader("Authorization", token("h-a", a))
                .putHeader("Content-Type", "application/vnd.microsoft.iothub.json")
                .sendBuffer(Buffer.buffer("[{\"body\":\"%%%\"}]")));
    assertThat(badBatch.statusCode()).isEqualTo(400);
    assertThat(badBatch.bodyAsString()).contains("[0].body is not base64");
  }

  private static void sendC2d(String id, String messageId, String ack) {
    HttpResponse<Buffer> r =
        Future.await(
            hub.client
                .post("/devices/" + id + "/messages/deviceBound" + API)
                .putHeader("Authorization", hub.owner())
                .sendJsonObject(
                    new JsonObject()
                        .put("data", "payload-" + messageId)
                        .put("messageId", messageId)
                        .put("ack", ack)
                        .put("properties", new JsonObject().put("prio", "high"))));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
  }

  @Test
  void cloudToDeviceMessagesArePolledLockedAndSettled() throws Exception {
    String key = hub.deviceKey("h-c2d");
    String auth = token("h-c2d", key);
    sendC2d("h-c2d", "c1", "full");
    sendC2d("h-c2d", "c2", "full");
    HttpResponse<Buffer> first =
        Future.await(
            hub.client
                .get("/devices/h-c2d/messages/devicebound" + API)
                .putHeader("Authorization", auth)
                .send());
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.bodyAsString()).isEqualTo("payload-c1");
    assertThat(first.getHeader("iothub-messageid")).isEqualTo("c1");
    assertThat(first.getHeader("iothub-app-prio")).isEqualTo("high");
    assertThat(first.getHeader("iothub-ack")).isEqualTo("full");
    assertThat(first.getHeader("iothub-to")).isEqualTo("/devices/h-c2d/messages/devicebound");
    String lock1 = first.getHeader("ETag").replace("\"", "");
    HttpResponse<Buffer> second =
        Future.await(
            hub.client
                .get("/devices/h-c2d/messages/devicebound" + API)
                .putHeader("Authorization", auth)
                .send());
    assertThat(second.getHeader("iothub-messageid")).isEqualTo("c2");
    String lock2 = second.getHeader("ETag").replace("\"", "");
    // Both are locked: nothing else waits.
    assertThat(
            Future.await(
                    hub.client
                        .get("/devices/h-c2d/messages/devicebound" + API)
                        .putHeader("Authorization", auth)
                        .send())
                .statusCode())
        .isEqualTo(204);
    HttpResponse<Buffer> completed =
        Future.await(
            hub.client
                .delete("/devices/h-c2d/messages/devicebound/" + lock1 + API)
                .putHeader("Authorization", auth)
                .putHeader("If-Match", lock1)
                .send());
    assertThat(completed.statusCode()).isEqualTo(204);
    HttpResponse<Buffer> again =
        Future.await(
            hub.client
                .delete("/devices/h-c2d/messages/devicebound/" + lock1 + API)
                .putHeader("Authorization", auth)
                .send());
    assertThat(again.statusCode()).isEqualTo(412);
    assertThat(again.getHeader("iothub-errorcode")).isEqualTo("DeviceMessageLockLost");
    HttpResponse<Buffer> abandoned =
        Future.await(
            hub.client
                .post("/devices/h-c2d/messages/devicebound/" + lock2 + "/abandon" + API)
                .putHeader("Authorization", auth)
                .send());
    assertThat(abandoned.statusCode()).isEqualTo(204);
    HttpResponse<Buffer> back =
        Future.await(
            hub.client
                .get("/devices/h-c2d/messages/devicebound" + API)
                .putHeader("Authorization", auth)
                .send());
    assertThat(back.getHeader("iothub-messageid")).isEqualTo("c2");
    assertThat(back.getHeader("iothub-deliverycount")).isEqualTo("2");
    String lock3 = back.getHeader("ETag").replace("\"", "");
    HttpResponse<Buffer> rejected =
        Future.await(
            hub.client
                .delete("/devices/h-c2d/messages/devicebound/" + lock3 + API + "&reject")
                .putHeader("Authorization", auth)
                .send());
    assertThat(rejected.statusCode()).isEqualTo(204);
    JsonArray feedback =
        Future.await(
                hub.client
                    .get("/messages/serviceBound/feedback" + API + "&max=10")
                    .putHeader("Authorization", hub.owner())
                    .send())
            .bodyAsJsonArray();
    assertThat(feedback.stream().map(f -> ((JsonObject) f).getString("statusCode")))
        .containsExactlyInAnyOrder("Success", "Rejected");
  }

  @Test
  void aSelfSignedDeviceAuthenticatesWithItsClientCertificate() throws Exception {
    TestPki.Issued self = TestPki.certificate("h-x509").clientAuth().build();
    String thumb =
        HexFormat.of()
            .withUpperCase()
            .formatHex(
                MessageDigest.getInstance("SHA-256").digest(self.certificate().getEncoded()));
    HttpResponse<Buffer> put =
        Future.await(
            hub.client
                .put("/devices/h-x509" + API)
                .putHeader("Authorization", hub.owner())
                .sendJsonObject(
                    new JsonObject()
                        .put(
                            "authentication",
                            new JsonObject()
                                .put("type", "selfSigned")
                                .put(
                                    "x509Thumbprint",
                                    new JsonObject().put("primaryThumbprint", thumb)))));
    assertThat(put.statusCode()).as(put.bodyAsString()).isEqualTo(200);
    String keyPem =
        "-----BEGIN PRIVATE KEY-----\n"
            + Base64.getMimeEncoder().encodeToString(self.keys().getPrivate().getEncoded())
            + "\n-----END PRIVATE KEY-----\n";
    WebClient withCert =
        WebClient.create(
            hub.clientVertx,
            new WebClientOptions()
                .setSsl(true)
                .setTrustOptions(new PemTrustOptions().addCertPath(hub.hub.caFile().toString()))
                .setKeyCertOptions(
                    new PemKeyCertOptions()
                        .addKeyValue(Buffer.buffer(keyPem))
                        .addCertValue(Buffer.buffer(self.pem())))
                .setDefaultHost("localhost")
                .setDefaultPort(hub.hub.httpsPort()));
    try {
      HttpResponse<Buffer> r =
          Future.await(withCert.get("/devices/h-x509/messages/devicebound" + API).send());
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(204);
      HttpResponse<Buffer> other =
          Future.await(withCert.get("/devices/h-c2d/messages/devicebound" + API).send());
      assertThat(other.statusCode()).isEqualTo(401);
    } finally {
      withCert.close();
    }
  }
}
