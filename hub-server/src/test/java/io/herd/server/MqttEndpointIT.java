package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.herd.adapter.common.CloudToDeviceMessage;
import io.herd.adapter.common.LiveEventStream;
import io.herd.adapter.common.MethodResult;
import io.herd.core.HubException;
import io.herd.core.twin.TwinKey;
import io.herd.registry.ConnectionState;
import io.herd.testkit.TestPki;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The MQTT device endpoint of a whole hub, driven with Paho as the Azure SDKs use the topics. */
class MqttEndpointIT {
  private static final String API = "?api-version=2021-04-12";
  private static TestHub hub;

  @BeforeAll
  static void start() throws Exception {
    hub = TestHub.start(new HubConfig.DeviceLimits(0, 4096, 64, 100_000, 0, 50));
  }

  @AfterAll
  static void stop() {
    hub.close();
  }

  private HttpResponse<Buffer> send(HttpMethod method, String path, Object body) {
    HttpRequest<Buffer> r =
        hub.client.request(method, path + API).putHeader("Authorization", hub.owner());
    if (body == null) {
      return Future.await(r.send());
    }
    r.putHeader("Content-Type", "application/json; charset=utf-8");
    return Future.await(r.sendBuffer(Buffer.buffer(body.toString())));
  }

  /** Creates a device and returns its primary key. */
  private String device(String id) {
    HttpResponse<Buffer> r = send(HttpMethod.PUT, "/devices/" + id, new JsonObject());
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject()
        .getJsonObject("authentication")
        .getJsonObject("symmetricKey")
        .getString("primaryKey");
  }

  private static <T> T result(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
  }

  private static int refusal(ThrowingConnect connect) {
    try (MqttTestDevice d = connect.run()) {
      throw new AssertionError("CONNECT was accepted");
    } catch (MqttException e) {
      return e.getReasonCode();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** The CONNACK return code of a refused TLS CONNECT. */
  private static int refusal(String clientId, String username, String password) {
    return refusal(
        () ->
            MqttTestDevice.connect(
                "ssl://localhost:" + hub.hub.mqttPort(),
                hub.hub.caFile(),
                clientId,
                username,
                password));
  }

  private interface ThrowingConnect {
    MqttTestDevice run() throws Exception;
  }

  // ---- CONNECT

  @Test
  void deviceConnectsWithItsKeyAndShowsConnectedInRegistryTwinAndStatistics() throws Exception {
    String key = device("m-conn");
    Instant before = Instant.now().minusSeconds(1);
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "m-conn", key)) {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  hub.hub.registry().find("m-conn").orElseThrow().connectionState()
                      == ConnectionState.CONNECTED);
      JsonObject twin = send(HttpMethod.GET, "/twins/m-conn", null).bodyAsJsonObject();
      assertThat(twin.getString("connectionState")).isEqualTo("Connected");
      assertThat(Instant.parse(twin.getString("lastActivityTime"))).isAfter(before);
      JsonObject device = send(HttpMethod.GET, "/devices/m-conn", null).bodyAsJsonObject();
      assertThat(device.getString("connectionState")).isEqualTo("Connected");
      assertThat(Instant.parse(device.getString("connectionStateUpdatedTime"))).isAfter(before);
      JsonObject stats = send(HttpMethod.GET, "/statistics/service", null).bodyAsJsonObject();
      assertThat(stats.getInteger("connectedDeviceCount")).isGreaterThanOrEqualTo(1);
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                hub.hub.registry().find("m-conn").orElseThrow().connectionState()
                    == ConnectionState.DISCONNECTED);
    JsonObject twin = send(HttpMethod.GET, "/twins/m-conn", null).bodyAsJsonObject();
    assertThat(twin.getString("connectionState")).isEqualTo("Disconnected");
  }

  @Test
  void connectIsRefusedForBadCredentialsUnknownOrDisabledDevicesAndWrongUserNames()
      throws Exception {
    String key = device("m-refused");
    String other = device("m-refused-other");
    String user = "localhost/m-refused/?api-version=2021-04-12";
    // Signed with another device's key: not authorized (5).
    assertThat(refusal("m-refused", user, MqttTestDevice.deviceToken("m-refused", other)))
        .isEqualTo(MqttException.REASON_CODE_NOT_AUTHORIZED);
    // Unknown device.
    assertThat(
            refusal(
                "m-nobody",
                "localhost/m-nobody/?api-version=2021-04-12",
                MqttTestDevice.deviceToken("m-nobody", key)))
        .isEqualTo(MqttException.REASON_CODE_NOT_AUTHORIZED);
    // Expired token.
    String expired =
        MqttTestDevice.token(
            "localhost/devices/m-refused", key, Instant.now().getEpochSecond() - 3600, null);
    assertThat(refusal("m-refused", user, expired))
        .isEqualTo(MqttException.REASON_CODE_NOT_AUTHORIZED);
    // A user name for another device: bad user name or password (4).
    assertThat(
            refusal(
                "m-refused",
                "localhost/m-refused-other/?api-version=2021-04-12",
                MqttTestDevice.deviceToken("m-refused", key)))
        .isEqualTo(MqttException.REASON_CODE_FAILED_AUTHENTICATION);
    // Disabled device.
    JsonObject d = send(HttpMethod.GET, "/devices/m-refused", null).bodyAsJsonObject();
    d.put("status", "disabled");
    HttpResponse<Buffer> disabled =
        Future.await(
            hub.client
                .put("/devices/m-refused" + API)
                .putHeader("Authorization", hub.owner())
                .putHeader("If-Match", "*")
                .sendJsonObject(d));
    assertThat(disabled.statusCode()).as(disabled.bodyAsString()).isEqualTo(200);
    assertThat(refusal(() -> MqttTestDevice.connect(hub, "m-refused", key)))
        .isEqualTo(MqttException.REASON_CODE_NOT_AUTHORIZED);
  }

  @Test
  void aPolicyWithDeviceConnectMayConnectAnyDevice() throws Exception {
    device("m-policy");
    var policy = hub.hub.policies().find("device").orElseThrow();
    String token =
        MqttTestDevice.token(
            "localhost/devices/m-policy",
            policy.primaryKey(),
            Instant.now().getEpochSecond() + 600,
            "device");
    try (MqttTestDevice d =
        MqttTestDevice.connect(
            "ssl://localhost:" + hub.hub.mqttPort(),
            hub.hub.caFile(),
            "m-policy",
            "localhost/m-policy/?api-version=2021-04-12&DeviceClientType=test",
            token)) {
      assertThat(d.client.isConnected()).isTrue();
    }
  }

  @Test
  void aSecondConnectionOfTheSameDeviceClosesTheFirst() throws Exception {
    String key = device("m-twice");
    try (MqttTestDevice first = MqttTestDevice.connect(hub, "m-twice", key);
        MqttTestDevice second = MqttTestDevice.connect(hub, "m-twice", key)) {
      await().atMost(Duration.ofSeconds(10)).until(() -> !first.client.isConnected());
      assertThat(second.client.isConnected()).isTrue();
      assertThat(hub.hub.registry().find("m-twice").orElseThrow().connectionState())
          .isEqualTo(ConnectionState.CONNECTED);
    }
  }

  @Test
  void theConnectionClosesWhenItsTokenExpires() throws Exception {
    String key = device("m-expiring");
    String token =
        MqttTestDevice.token(
            "localhost/devices/m-expiring", key, Instant.now().getEpochSecond() + 2, null);
    try (MqttTestDevice d =
        MqttTestDevice.connect(
            "ssl://localhost:" + hub.hub.mqttPort(),
            hub.hub.caFile(),
            "m-expiring",
            "localhost/m-expiring/?api-version=2021-04-12",
            token)) {
      assertThat(d.client.isConnected()).isTrue();
      await().atMost(Duration.ofSeconds(10)).until(() -> !d.client.isConnected());
    }
  }

  @Test
  void selfSignedAndCaSignedDevicesConnectWithClientCertificates() throws Exception {
    TestPki.Issued self = TestPki.certificate("m-x509-self").clientAuth().build();
    String thumb =
        HexFormat.of()
            .withUpperCase()
            .formatHex(
                MessageDigest.getInstance("SHA-256").digest(self.certificate().getEncoded()));
    JsonObject spec =
        new JsonObject()
            .put(
                "authentication",
                new JsonObject()
                    .put("type", "selfSigned")
                    .put("x509Thumbprint", new JsonObject().put("primaryThumbprint", thumb)));
    assertThat(send(HttpMethod.PUT, "/devices/m-x509-self", spec).statusCode()).isEqualTo(200);
    try (MqttTestDevice d =
        MqttTestDevice.connectWithCertificate(
            hub,
            "m-x509-self",
            MqttTestDevice.withClientCertificate(
                hub.hub.caFile(), self.keys().getPrivate(), self.certificate()))) {
      assertThat(d.client.isConnected()).isTrue();
    }
    // Another self-signed certificate for the same id does not match the thumbprint.
    TestPki.Issued impostor = TestPki.certificate("m-x509-self").clientAuth().build();
    assertThat(
            refusal(
                () ->
                    MqttTestDevice.connectWithCertificate(
                        hub,
                        "m-x509-self",
                        MqttTestDevice.withClientCertificate(
                            hub.hub.caFile(),
                            impostor.keys().getPrivate(),
                            impostor.certificate()))))
        .isEqualTo(MqttException.REASON_CODE_NOT_AUTHORIZED);

    TestPki.Issued ca = TestPki.certificate("Fleet CA").ca().build();
    HttpResponse<Buffer> put =
        Future.await(
            hub.client
                .put("/certificates/fleet" + API)
                .putHeader("Authorization", hub.owner())
                .putHeader("Content-Type", "application/x-pem-file")
                .sendBuffer(Buffer.buffer(ca.pem())));
    assertThat(put.statusCode()).as(put.bodyAsString()).isEqualTo(200);
    JsonObject caSpec =
        new JsonObject()
            .put("authentication", new JsonObject().put("type", "certificateAuthority"));
    assertThat(send(HttpMethod.PUT, "/devices/m-x509-ca", caSpec).statusCode()).isEqualTo(200);
    TestPki.Issued leaf = TestPki.certificate("m-x509-ca").issuedBy(ca).clientAuth().build();
    try (MqttTestDevice d =
        MqttTestDevice.connectWithCertificate(
            hub,
            "m-x509-ca",
            MqttTestDevice.withClientCertificate(
                hub.hub.caFile(), leaf.keys().getPrivate(), leaf.certificate()))) {
      assertThat(d.client.isConnected()).isTrue();
    }
    // A certificate from that CA for another device id is refused.
    TestPki.Issued other = TestPki.certificate("m-x509-other").issuedBy(ca).clientAuth().build();
    assertThat(
            refusal(
                () ->
                    MqttTestDevice.connectWithCertificate(
                        hub,
                        "m-x509-ca",
                        MqttTestDevice.withClientCertificate(
                            hub.hub.caFile(), other.keys().getPrivate(), other.certificate()))))
        .isEqualTo(MqttException.REASON_CODE_NOT_AUTHORIZED);
  }

  // ---- telemetry

  @Test
  void telemetryIsAcknowledgedAfterTheEventsStreamAcceptedIt() throws Exception {
    String key = device("m-tele");
    List<LiveEventStream.Event> seen = new ArrayList<>();
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
                          if (e.message().deviceId().equals("m-tele")) {
                            seen.add(e);
                            got.complete(null);
                          }
                        },
                        x -> {})));
    LiveEventStream.Reader reader = opened.get(5, TimeUnit.SECONDS);
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "m-tele", key)) {
      d.publish(
          "devices/m-tele/messages/events/%24.mid=m1&%24.ct=application%2Fjson&%24.ce=utf-8"
              + "&temp%20c=21.5&note=a%2Bb",
          "{\"t\":21.5}", 1);
      got.get(10, TimeUnit.SECONDS);
    } finally {
      reader.close();
    }
    var m = seen.get(0).message();
    assertThat(new String(m.body(), StandardCharsets.UTF_8)).isEqualTo("{\"t\":21.5}");
    assertThat(m.systemProperties())
        .containsEntry("message-id", "m1")
        .containsEntry("content-type", "application/json")
        .containsEntry("content-encoding", "utf-8")
        .containsEntry("iothub-connection-device-id", "m-tele");
    assertThat(m.properties())
        .containsExactly(Map.entry("temp c", "21.5"), Map.entry("note", "a+b"));
  }

  @Test
  void eventsStreamServesTelemetryAsServerSentEvents() throws Exception {
    String key = device("m-sse");
    long from = hub.hub.events().nextSequence() - 1;
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "m-sse", key)) {
      d.publish("devices/m-sse/messages/events/kind=hello", "hi there", 1);
    }
    // Replay from before the message; the stream stays open, so read until the event is there.
    HttpClient http =
        hub.clientVertx.createHttpClient(
            new HttpClientOptions()
                .setSsl(true)
                .setTrustOptions(new PemTrustOptions().addCertPath(hub.hub.caFile().toString()))
                .setDefaultHost("localhost")
                .setDefaultPort(hub.hub.httpsPort()));
    StringBuffer text = new StringBuffer();
    CompletableFuture<Integer> status = new CompletableFuture<>();
    CompletableFuture<Void> seen = new CompletableFuture<>();
    http.request(HttpMethod.GET, "/messages/events" + API + "&deviceId=m-sse")
        .compose(
            req ->
                req.putHeader("Authorization", hub.owner())
                    .putHeader("Last-Event-ID", Long.toString(from))
                    .send())
        .onFailure(seen::completeExceptionally)
        .onSuccess(
            resp -> {
              status.complete(resp.statusCode());
              resp.handler(
                  b -> {
                    text.append(b.toString(StandardCharsets.UTF_8));
                    if (text.indexOf("\"body\":\"hi there\"") >= 0) {
                      seen.complete(null);
                    }
                  });
            });
    try {
      seen.get(10, TimeUnit.SECONDS);
    } finally {
      http.close();
    }
    assertThat(status.get()).isEqualTo(200);
    assertThat(text.toString())
        .contains("event: message")
        .contains("\"deviceId\":\"m-sse\"")
        .contains("\"kind\":\"hello\"");
  }

  @Test
  void eventsStreamNeedsServiceConnect() {
    HttpResponse<Buffer> r =
        Future.await(
            hub.client
                .get("/messages/events" + API)
                .putHeader("Authorization", hub.token("registryRead"))
                .send());
    assertThat(r.statusCode()).isEqualTo(401);
  }

  @Test
  void oversizeTelemetryClosesTheConnection() throws Exception {
    String key = device("m-big");
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "m-big", key)) {
      try {
        d.publish("devices/m-big/messages/events/", "x".repeat(5000), 1);
      } catch (MqttException e) {
        // the connection may already be gone when the PUBACK is awaited
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> !d.client.isConnected());
    }
  }

  // ---- twins

  @Test
  void twinGetReportedPatchAndDesiredNotificationsWorkOverMqtt() throws Exception {
    String key = device("m-twin");
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "m-twin", key)) {
      d.subscribe("$iothub/twin/res/#", 0);
      d.subscribe("$iothub/twin/PATCH/properties/desired/#", 0);

      d.publish("$iothub/twin/GET/?$rid=1", " ", 0);
      MqttTestDevice.Received get = d.next();
      assertThat(get.topic()).isEqualTo("$iothub/twin/res/200/?$rid=1");
      JsonObject doc = new JsonObject(get.payload());
      assertThat(doc.getJsonObject("desired").getLong("$version")).isEqualTo(1L);
      assertThat(doc.getJsonObject("reported").getLong("$version")).isEqualTo(1L);

      d.publish(
          "$iothub/twin/PATCH/properties/reported/?$rid=2", "{\"fw\":{\"version\":\"1.2\"}}", 0);
      MqttTestDevice.Received patched = d.next();
      assertThat(patched.topic()).isEqualTo("$iothub/twin/res/204/?$rid=2&$version=2");
      assertThat(patched.payload()).isEmpty();
      JsonObject twin = send(HttpMethod.GET, "/twins/m-twin", null).bodyAsJsonObject();
      assertThat(
              twin.getJsonObject("properties")
                  .getJsonObject("reported")
                  .getJsonObject("fw")
                  .getString("version"))
          .isEqualTo("1.2");

      JsonObject patch =
          new JsonObject()
              .put(
                  "properties",
                  new JsonObject().put("desired", new JsonObject().put("interval", 30)));
      assertThat(send(HttpMethod.PATCH, "/twins/m-twin", patch).statusCode()).isEqualTo(200);
      MqttTestDevice.Received desired = d.next();
      assertThat(desired.topic()).isEqualTo("$iothub/twin/PATCH/properties/desired/?$version=2");
      JsonObject body = new JsonObject(desired.payload());
      assertThat(body.getInteger("interval")).isEqualTo(30);
      assertThat(body.getLong("$version")).isEqualTo(2L);
    }
  }

  @Test
  void invalidReportedJsonGetsA400WithAnErrorCodeAndTheConnectionStays() throws Exception {
    String key = device("m-badjson");
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "m-badjson", key)) {
      d.subscribe("$iothub/twin/res/#", 0);
      d.publish("$iothub/twin/PATCH/properties/reported/?$rid=9", "{not json", 0);
      MqttTestDevice.Received r = d.next();
      assertThat(r.topic()).isEqualTo("$iothub/twin/res/400/?$rid=9");
      JsonObject body = new JsonObject(r.payload());
      assertThat(body.getInteger("errorCode")).isBetween(400000, 400999);
      assertThat(body.getString("message")).isNotBlank();
      d.publish("$iothub/twin/PATCH/properties/reported/?$rid=10", "{\"$bad\":1}", 0);
      MqttTestDevice.Received r2 = d.next();
      assertThat(r2.topic()).startsWith("$iothub/twin/res/400/?$rid=10");
      assertThat(d.client.isConnected()).isTrue();
    }
  }

  @Test
  void aModuleConnectsWithItsOwnKeyAndUsesItsOwnTwinAndTelemetryTopic() throws Exception {
    device("m-edge");
    HttpResponse<Buffer> created =
        send(HttpMethod.PUT, "/devices/m-edge/modules/sensor", new JsonObject());
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(200);
    String key =
        created
            .bodyAsJsonObject()
            .getJsonObject("authentication")
            .getJsonObject("symmetricKey")
            .getString("primaryKey");
    long before = hub.hub.events().nextSequence();
    try (MqttTestDevice m = MqttTestDevice.connect(hub, "m-edge/sensor", key)) {
      m.subscribe("$iothub/twin/res/#", 0);
      m.publish("$iothub/twin/PATCH/properties/reported/?$rid=1", "{\"mode\":\"fast\"}", 0);
      assertThat(m.next().topic()).isEqualTo("$iothub/twin/res/204/?$rid=1&$version=2");
      // QoS 0 telemetry on the module's own topic.
      m.publish("devices/m-edge/modules/sensor/messages/events/", "module says hi", 0);
      await().atMost(Duration.ofSeconds(10)).until(() -> hub.hub.events().nextSequence() > before);
    }
    JsonObject twin = send(HttpMethod.GET, "/twins/m-edge/modules/sensor", null).bodyAsJsonObject();
    assertThat(twin.getString("moduleId")).isEqualTo("sensor");
    assertThat(twin.getJsonObject("properties").getJsonObject("reported").getString("mode"))
        .isEqualTo("fast");
    JsonObject deviceTwin = send(HttpMethod.GET, "/twins/m-edge", null).bodyAsJsonObject();
    assertThat(deviceTwin.getJsonObject("properties").getJsonObject("reported").containsKey("mode"))
        .isFalse();
  }

  // ---- methods and cloud-to-device through the internal API

  @Test
  void directMethodRequestReachesTheDeviceAndItsResponseComesBack() throws Exception {
    String key = device("m-method");
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "m-method", key)) {
      d.subscribe("$iothub/methods/POST/#", 0);
      Future<MethodResult> call =
          hub.hub
              .sessions()
              .invokeMethod(
                  TwinKey.device("m-method"),
                  "reboot",
                  Buffer.buffer("{\"delay\":5}"),
                  Duration.ofSeconds(10));
      MqttTestDevice.Received req = d.next();
      assertThat(req.topic()).startsWith("$iothub/methods/POST/reboot/?$rid=");
      assertThat(req.payload()).isEqualTo("{\"delay\":5}");
      String rid = req.topic().substring(req.topic().indexOf("$rid=") + 5);
      d.publish("$iothub/methods/res/200/?$rid=" + rid, "{\"ok\":true}", 0);
      MethodResult answer = result(call);
      assertThat(answer.status()).isEqualTo(200);
      assertThat(answer.payload().toString()).isEqualTo("{\"ok\":true}");
    }
  }

  @Test
  void methodCallsFailWhenTheDeviceIsOfflineNotSubscribedOrSilent() throws Exception {
    String key = device("m-method-fail");
    TwinKey k = TwinKey.device("m-method-fail");
    assertThatThrownBy(() -> invoke(k, Duration.ofSeconds(1)))
        .hasCauseInstanceOf(HubException.class)
        .hasMessageContaining("not connected");
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "m-method-fail", key)) {
      assertThatThrownBy(() -> invoke(k, Duration.ofSeconds(1)))
          .hasMessageContaining("not subscribed");
      d.subscribe("$iothub/methods/POST/#", 0);
      assertThatThrownBy(() -> invoke(k, Duration.ofMillis(300))).hasMessageContaining("Timed out");
    }
  }

  private static MethodResult invoke(TwinKey k, Duration timeout) throws Exception {
    return result(hub.hub.sessions().invokeMethod(k, "x", Buffer.buffer(), timeout));
  }

  @Test
  void cloudToDeviceMessagesArriveOnTheDeviceboundTopicAndCompleteOnPuback() throws Exception {
    String key = device("m-c2d");
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "m-c2d", key)) {
      d.subscribe("devices/m-c2d/messages/devicebound/#", 1);
      Future<io.herd.adapter.common.DeliveryOutcome> sent =
          hub.hub
              .sessions()
              .deliver(
                  TwinKey.device("m-c2d"),
                  new CloudToDeviceMessage(
                      Map.of("$.mid", "c1"),
                      Map.of("color", "blue green"),
                      "hello device".getBytes(StandardCharsets.UTF_8)));
      MqttTestDevice.Received m = d.next();
      assertThat(m.topic())
          .isEqualTo("devices/m-c2d/messages/devicebound/%24.mid=c1&color=blue%20green");
      assertThat(m.payload()).isEqualTo("hello device");
      assertThat(m.qos()).isEqualTo(1);
      result(sent);
    }
  }

  // ---- isolation and bad input

  @Test
  void aDeviceCannotSubscribeToAnotherDevicesTopics() throws Exception {
    String key = device("m-iso-a");
    device("m-iso-b");
    try (MqttTestDevice a = MqttTestDevice.connect(hub, "m-iso-a", key)) {
      assertThatThrownBy(() -> a.subscribe("devices/m-iso-b/messages/devicebound/#", 1))
          .isInstanceOf(MqttException.class);
      await().atMost(Duration.ofSeconds(10)).until(() -> !a.client.isConnected());
    }
  }

  @Test
  void aDeviceCannotPublishToAnotherDevicesTelemetryTopic() throws Exception {
    String key = device("m-iso-c");
    device("m-iso-d");
    try (MqttTestDevice c = MqttTestDevice.connect(hub, "m-iso-c", key)) {
      try {
        c.publish("devices/m-iso-d/messages/events/", "spoof", 1);
      } catch (MqttException e) {
        // closed before the PUBACK
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> !c.client.isConnected());
    }
  }

  @Test
  void unknownIotHubTopicsWildcardSubscriptionsAndQos2CloseTheConnection() throws Exception {
    String key = device("m-bad");
    for (int i = 0; i < 3; i++) {
      try (MqttTestDevice d = MqttTestDevice.connect(hub, "m-bad", key)) {
        try {
          switch (i) {
            case 0 -> d.publish("$iothub/unknown/thing", "x", 0);
            case 1 -> d.subscribe("#", 0);
            default -> d.publish("devices/m-bad/messages/events/", "x", 2);
          }
        } catch (MqttException e) {
          // the hub may close before the client sees its own packet through
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> !d.client.isConnected());
      }
    }
  }

  // ---- other listeners

  @Test
  void mqttOverWebSocketOnTheHttpsPortWorks() throws Exception {
    String key = device("m-ws");
    try (MqttTestDevice d =
        MqttTestDevice.connect(
            "wss://localhost:" + hub.hub.httpsPort() + "/$iothub/websocket",
            hub.hub.caFile(),
            "m-ws",
            "localhost/m-ws/?api-version=2021-04-12",
            MqttTestDevice.deviceToken("m-ws", key))) {
      d.subscribe("$iothub/twin/res/#", 0);
      d.publish("$iothub/twin/GET/?$rid=ws1", "", 0);
      assertThat(d.next().topic()).isEqualTo("$iothub/twin/res/200/?$rid=ws1");
    }
  }

  @Test
  void thePlainPortServesMqttWithoutTls() throws Exception {
    String key = device("m-plain");
    assertThat(hub.hub.mqttPlainPort()).isPositive();
    try (MqttTestDevice d =
        MqttTestDevice.connect(
            "tcp://localhost:" + hub.hub.mqttPlainPort(),
            hub.hub.caFile(),
            "m-plain",
            "localhost/m-plain/?api-version=2021-04-12",
            MqttTestDevice.deviceToken("m-plain", key))) {
      assertThat(d.client.isConnected()).isTrue();
    }
  }
}
