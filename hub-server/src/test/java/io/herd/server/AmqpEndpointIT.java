package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.herd.adapter.common.LiveEventStream;
import io.herd.registry.ConnectionState;
import io.vertx.core.Future;
import io.vertx.proton.ProtonSender;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.message.Message;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The AMQP endpoint of a whole hub, driven with vertx-proton as the Azure SDKs use the links
 * (azure-iothub-wire.md §3). The unmodified Node SDKs run in {@link AzureServiceSdkCompatIT}.
 */
class AmqpEndpointIT {
  private static TestHub hub;

  @BeforeAll
  static void start() throws Exception {
    hub = TestHub.start(new HubConfig.DeviceLimits(-1, 4096, 64, 100_000, 0, 50));
  }

  @AfterAll
  static void stop() {
    hub.close();
  }

  private static Message telemetry(String messageId, String body) {
    Message m = Message.Factory.create();
    Properties p = new Properties();
    p.setMessageId(messageId);
    p.setContentType(Symbol.valueOf("application/json"));
    p.setContentEncoding(Symbol.valueOf("utf-8"));
    m.setProperties(p);
    m.setApplicationProperties(new ApplicationProperties(Map.of("temp c", "21.5")));
    m.setBody(new Data(new Binary(body.getBytes(StandardCharsets.UTF_8))));
    return m;
  }

  /** Collects the events of the built-in endpoint that match, from now on. */
  private static final class Events implements AutoCloseable {
    final List<LiveEventStream.Event> seen = new CopyOnWriteArrayList<>();
    private final LiveEventStream.Reader reader;

    Events(Predicate<LiveEventStream.Event> filter) throws Exception {
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
                          1000,
                          e -> {
                            if (filter.test(e)) {
                              seen.add(e);
                            }
                          },
                          x -> {})));
      reader = opened.get(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
      reader.close();
    }
  }

  private static ErrorCondition refusal(AmqpTestClient.LinkRefused e) {
    return e.condition;
  }

  private static ErrorCondition conditionOf(Throwable t) {
    Throwable c = t;
    while (c != null && !(c instanceof AmqpTestClient.LinkRefused)) {
      c = c.getCause();
    }
    assertThat(c).as("a link refusal, got %s", t).isNotNull();
    return refusal((AmqpTestClient.LinkRefused) c);
  }

  // ---- authentication and telemetry

  @Test
  void telemetryAfterPutTokenIsAcceptedOnceInTheEventsEndpoint() throws Exception {
    String key = hub.deviceKey("a-tele");
    try (Events events = new Events(e -> e.message().deviceId().equals("a-tele"));
        AmqpTestClient c = AmqpTestClient.anonymous(hub.hub)) {
      assertThat(
              c.putToken("localhost%2Fdevices%2Fa-tele", AmqpTestClient.deviceToken("a-tele", key)))
          .isEqualTo(200);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  hub.hub.registry().find("a-tele").orElseThrow().connectionState()
                      == ConnectionState.CONNECTED);
      ProtonSender s = c.sender("/devices/a-tele/messages/events");
      long next = hub.hub.events().nextSequence();
      DeliveryState outcome = c.send(s, telemetry("m1", "{\"t\":21.5}"));
      assertThat(outcome).isInstanceOf(Accepted.class);
      // Accepted only once the events endpoint has it; its readers hear of it soon after.
      assertThat(hub.hub.events().nextSequence()).isEqualTo(next + 1);
      await().atMost(Duration.ofSeconds(5)).until(() -> events.seen.size() == 1);
      var m = events.seen.get(0).message();
      assertThat(new String(m.body(), StandardCharsets.UTF_8)).isEqualTo("{\"t\":21.5}");
      assertThat(m.protocol()).isEqualTo("amqp");
      assertThat(m.systemProperties())
          .containsEntry("message-id", "m1")
          .containsEntry("content-type", "application/json")
          .containsEntry("content-encoding", "utf-8")
          .containsEntry("iothub-connection-device-id", "a-tele")
          .containsEntry("iothub-connection-auth-method", "sas");
      assertThat(m.properties()).containsExactly(Map.entry("temp c", "21.5"));
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                hub.hub.registry().find("a-tele").orElseThrow().connectionState()
                    == ConnectionState.DISCONNECTED);
  }

  @Test
  void saslPlainWithADeviceTokenAuthenticatesWithoutCbs() throws Exception {
    String key = hub.deviceKey("a-plain");
    try (AmqpTestClient c =
        AmqpTestClient.connect(
            hub.hub, "a-plain@sas.localhost", AmqpTestClient.deviceToken("a-plain", key), null)) {
      ProtonSender s = c.sender("/devices/a-plain/messages/events");
      assertThat(c.send(s, telemetry("p1", "{}"))).isInstanceOf(Accepted.class);
    }
  }

  @Test
  void saslPlainWithABadTokenIsRefused() throws Exception {
    hub.deviceKey("a-plain-bad");
    String wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktMTI=";
    assertThatThrownBy(
            () ->
                AmqpTestClient.connect(
                        hub.hub,
                        "a-plain-bad@sas.localhost",
                        AmqpTestClient.deviceToken("a-plain-bad", wrong),
                        null)
                    .close())
        .isNotNull();
  }

  @Test
  void aServiceTokenOnSaslPlainRootAuthenticatesAnyDeviceOfAPolicyWithDeviceConnect()
      throws Exception {
    hub.deviceKey("a-root");
    try (AmqpTestClient c =
        AmqpTestClient.connect(
            hub.hub, "iothubowner@sas.root.localhost", hub.token("iothubowner"), null)) {
      ProtonSender s = c.sender("/devices/a-root/messages/events");
      assertThat(c.send(s, telemetry("r1", "{}"))).isInstanceOf(Accepted.class);
    }
  }

  @Test
  void putTokenWithAWrongSignatureAnswers401AndLinksStayRefused() throws Exception {
    hub.deviceKey("a-badtoken");
    String wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktMTI=";
    try (AmqpTestClient c = AmqpTestClient.anonymous(hub.hub)) {
      assertThat(
              c.putToken(
                  "localhost%2Fdevices%2Fa-badtoken",
                  AmqpTestClient.deviceToken("a-badtoken", wrong)))
          .isEqualTo(401);
      assertThatThrownBy(() -> c.sender("/devices/a-badtoken/messages/events"))
          .satisfies(
              t ->
                  assertThat(conditionOf(t).getCondition().toString())
                      .isEqualTo("amqp:unauthorized-access"));
    }
  }

  @Test
  void aDeviceCannotAttachLinksOfAnotherDevice() throws Exception {
    String key = hub.deviceKey("a-mine");
    hub.deviceKey("a-theirs");
    try (Events events = new Events(e -> e.message().deviceId().equals("a-theirs"));
        AmqpTestClient c = AmqpTestClient.anonymous(hub.hub)) {
      assertThat(
              c.putToken("localhost%2Fdevices%2Fa-mine", AmqpTestClient.deviceToken("a-mine", key)))
          .isEqualTo(200);
      assertThatThrownBy(() -> c.sender("/devices/a-theirs/messages/events"))
          .satisfies(
              t ->
                  assertThat(conditionOf(t).getCondition().toString())
                      .isEqualTo("amqp:unauthorized-access"));
      // Its own links still work on the same connection.
      ProtonSender s = c.sender("/devices/a-mine/messages/events");
      assertThat(c.send(s, telemetry("x", "{}"))).isInstanceOf(Accepted.class);
      assertThat(events.seen).isEmpty();
    }
  }

  @Test
  void unknownAddressesAreRefusedWithNotFound() throws Exception {
    String key = hub.deviceKey("a-unknown");
    try (AmqpTestClient c = AmqpTestClient.anonymous(hub.hub)) {
      c.putToken("localhost%2Fdevices%2Fa-unknown", AmqpTestClient.deviceToken("a-unknown", key));
      for (String address :
          List.of("/devices/a-unknown/nothing", "/queues/x", "/devices/a-unknown/messages")) {
        assertThatThrownBy(() -> c.sender(address))
            .satisfies(
                t ->
                    assertThat(conditionOf(t).getCondition().toString())
                        .isEqualTo("amqp:not-found"));
      }
      ProtonSender s = c.sender("/devices/a-unknown/messages/events");
      assertThat(c.send(s, telemetry("y", "{}"))).isInstanceOf(Accepted.class);
    }
  }

  @Test
  void linksAreDetachedWhenTheTokenExpiresAndARenewalKeepsThem() throws Exception {
    String key = hub.deviceKey("a-expiry");
    try (AmqpTestClient c = AmqpTestClient.anonymous(hub.hub)) {
      String audience = "localhost%2Fdevices%2Fa-expiry";
      assertThat(
              c.putToken(
                  audience,
                  AmqpTestClient.deviceToken("a-expiry", key, Instant.now().getEpochSecond() + 2)))
          .isEqualTo(200);
      ProtonSender s = c.sender("/devices/a-expiry/messages/events");
      var detached = c.detached(s);
      ErrorCondition why = AmqpTestClient.await(detached);
      assertThat(why.getCondition().toString()).isEqualTo("amqp:unauthorized-access");
      assertThat(why.getDescription()).contains("expired");
      // Renewed before it expires, the new token keeps the links.
      assertThat(
              c.putToken(
                  audience,
                  AmqpTestClient.deviceToken("a-expiry", key, Instant.now().getEpochSecond() + 2)))
          .isEqualTo(200);
      ProtonSender again = c.sender("/devices/a-expiry/messages/events");
      assertThat(
              c.putToken(
                  audience,
                  AmqpTestClient.deviceToken(
                      "a-expiry", key, Instant.now().getEpochSecond() + 3600)))
          .isEqualTo(200);
      var againDetached = c.detached(again);
      await()
          .during(Duration.ofSeconds(3))
          .atMost(Duration.ofSeconds(6))
          .until(() -> !againDetached.isComplete());
      assertThat(c.send(again, telemetry("z", "{}"))).isInstanceOf(Accepted.class);
    }
  }

  @Test
  void manyMessagesInFlightAreAllAcceptedAsCreditComesBack() throws Exception {
    String key = hub.deviceKey("a-burst");
    int count = 500;
    try (Events events = new Events(e -> e.message().deviceId().equals("a-burst"));
        AmqpTestClient c = AmqpTestClient.anonymous(hub.hub)) {
      c.putToken("localhost%2Fdevices%2Fa-burst", AmqpTestClient.deviceToken("a-burst", key));
      ProtonSender s = c.sender("/devices/a-burst/messages/events");
      List<DeliveryState> outcomes = new CopyOnWriteArrayList<>();
      // More than the link credit (64), sent without waiting: the sender queues what has no
      // credit yet, and the hub's credit must keep coming back.
      c.run(
          () -> {
            for (int i = 0; i < count; i++) {
              s.send(
                  telemetry("b" + i, "{\"i\":" + i + "}"), d -> outcomes.add(d.getRemoteState()));
            }
          });
      await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.size() == count);
      assertThat(outcomes).allMatch(o -> o instanceof Accepted);
      await().atMost(Duration.ofSeconds(5)).until(() -> events.seen.size() == count);
      assertThat(events.seen.get(count - 1).message().systemProperties())
          .containsEntry("message-id", "b" + (count - 1));
    }
  }

  @Test
  void oversizeTelemetryIsRejectedAndTheLinkStays() throws Exception {
    String key = hub.deviceKey("a-big");
    try (AmqpTestClient c = AmqpTestClient.anonymous(hub.hub)) {
      c.putToken("localhost%2Fdevices%2Fa-big", AmqpTestClient.deviceToken("a-big", key));
      ProtonSender s = c.sender("/devices/a-big/messages/events");
      DeliveryState outcome = c.send(s, telemetry("big", "x".repeat(5000)));
      assertThat(outcome).isInstanceOf(Rejected.class);
      assertThat(((Rejected) outcome).getError().getCondition().toString())
          .isEqualTo("amqp:link:message-size-exceeded");
      assertThat(c.send(s, telemetry("small", "{}"))).isInstanceOf(Accepted.class);
    }
  }

  // ---- cloud-to-device

  /** Feedback is removed when read; records of every device collect here. */
  private static final Map<String, List<io.herd.server.c2d.Feedback>> feedback =
      new java.util.concurrent.ConcurrentHashMap<>();

  private static List<io.herd.server.c2d.Feedback> feedbackOf(String deviceId) throws Exception {
    for (var f : AmqpTestClient.await(hub.hub.cloudToDevice().takeFeedback(1000))) {
      feedback.computeIfAbsent(f.deviceId(), k -> new CopyOnWriteArrayList<>()).add(f);
    }
    return feedback.getOrDefault(deviceId, List.of());
  }

  private static void enqueue(String deviceId, String messageId) throws Exception {
    AmqpTestClient.await(
        hub.hub
            .cloudToDevice()
            .enqueue(
                deviceId,
                new io.herd.server.c2d.OutgoingMessage(
                    messageId,
                    "corr-" + messageId,
                    io.herd.server.c2d.AckMode.FULL,
                    null,
                    "text/plain",
                    null,
                    Map.of("color", "blue"),
                    ("body of " + messageId).getBytes(StandardCharsets.UTF_8))));
  }

  @Test
  void cloudToDeviceOutcomesCompleteRejectOrAbandonTheMessage() throws Exception {
    String key = hub.deviceKey("a-c2d");
    enqueue("a-c2d", "keep");
    enqueue("a-c2d", "refuse");
    enqueue("a-c2d", "again");
    List<Message> received = new CopyOnWriteArrayList<>();
    try (AmqpTestClient c = AmqpTestClient.anonymous(hub.hub)) {
      c.putToken("localhost%2Fdevices%2Fa-c2d", AmqpTestClient.deviceToken("a-c2d", key));
      c.receiver(
          "/devices/a-c2d/messages/devicebound",
          null,
          false,
          null,
          (d, m) -> {
            received.add(m);
            String id = String.valueOf(m.getMessageId());
            if (id.equals("keep")) {
              io.vertx.proton.ProtonHelper.accepted(d, true);
            } else if (id.equals("refuse")) {
              io.vertx.proton.ProtonHelper.rejected(d, true);
            } else if (received.stream().filter(r -> r.getMessageId().equals("again")).count()
                == 1) {
              io.vertx.proton.ProtonHelper.released(d, true);
            } else {
              io.vertx.proton.ProtonHelper.accepted(d, true);
            }
          });
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> hub.hub.cloudToDevice().pending("a-c2d") == 0);
    }
    assertThat(received)
        .extracting(m -> String.valueOf(m.getMessageId()))
        .containsExactly("keep", "refuse", "again", "again");
    Message first = received.get(0);
    assertThat(first.getCorrelationId()).isEqualTo("corr-keep");
    assertThat(first.getAddress()).isEqualTo("/devices/a-c2d/messages/devicebound");
    assertThat(first.getContentType()).isEqualTo("text/plain");
    assertThat(first.getProperties().getAbsoluteExpiryTime()).isAfter(new java.util.Date());
    assertThat(first.getApplicationProperties().getValue())
        .containsEntry("color", "blue")
        .containsEntry("iothub-ack", "full");
    assertThat(first.getBody()).isInstanceOf(Data.class);
    assertThat(new String(((Data) first.getBody()).getValue().getArray(), StandardCharsets.UTF_8))
        .isEqualTo("body of keep");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(feedbackOf("a-c2d"))
                    .extracting(f -> f.originalMessageId() + ":" + f.statusCode().wire())
                    .containsExactlyInAnyOrder("keep:Success", "refuse:Rejected", "again:Success"));
  }

  @Test
  void aMessageLeftUnsettledWhenTheLinkGoesIsDeliveredAgainOnTheNextLink() throws Exception {
    String key = hub.deviceKey("a-c2d-again");
    enqueue("a-c2d-again", "m1");
    List<Message> first = new CopyOnWriteArrayList<>();
    try (AmqpTestClient c = AmqpTestClient.anonymous(hub.hub)) {
      c.putToken(
          "localhost%2Fdevices%2Fa-c2d-again", AmqpTestClient.deviceToken("a-c2d-again", key));
      c.receiver(
          "/devices/a-c2d-again/messages/devicebound", null, false, null, (d, m) -> first.add(m));
      await().atMost(Duration.ofSeconds(10)).until(() -> first.size() == 1);
    }
    List<Message> second = new CopyOnWriteArrayList<>();
    try (AmqpTestClient c = AmqpTestClient.anonymous(hub.hub)) {
      c.putToken(
          "localhost%2Fdevices%2Fa-c2d-again", AmqpTestClient.deviceToken("a-c2d-again", key));
      c.receiver(
          "/devices/a-c2d-again/messages/devicebound",
          null,
          false,
          null,
          (d, m) -> {
            second.add(m);
            io.vertx.proton.ProtonHelper.accepted(d, true);
          });
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> hub.hub.cloudToDevice().pending("a-c2d-again") == 0);
    }
    assertThat(second).extracting(m -> String.valueOf(m.getMessageId())).containsExactly("m1");
  }

  // ---- twins

  private static final Map<Symbol, Object> TWIN_CHANNEL =
      Map.of(
          Symbol.valueOf("com.microsoft:channel-correlation-id"),
          "twin:test-channel",
          Symbol.valueOf("com.microsoft:api-version"),
          "2021-04-12");

  private static Message twinRequest(
      String operation, String resource, String correlationId, String body) {
    Message m = Message.Factory.create();
    Properties p = new Properties();
    p.setCorrelationId(correlationId);
    m.setProperties(p);
    Map<Symbol, Object> annotations = new java.util.HashMap<>();
    annotations.put(Symbol.valueOf("operation"), operation);
    if (resource != null) {
      annotations.put(Symbol.valueOf("resource"), resource);
    }
    m.setMessageAnnotations(
        new org.apache.qpid.proton.amqp.messaging.MessageAnnotations(annotations));
    m.setBody(new Data(new Binary(body.getBytes(StandardCharsets.UTF_8))));
    return m;
  }

  private static Object annotation(Message m, String name) {
    return m.getMessageAnnotations().getValue().get(Symbol.valueOf(name));
  }

  private static String bodyText(Message m) {
    Binary b = ((Data) m.getBody()).getValue();
    return new String(b.getArray(), b.getArrayOffset(), b.getLength(), StandardCharsets.UTF_8);
  }

  @Test
  void twinGetReportedPatchAndDesiredNotificationsWorkOnPairedLinks() throws Exception {
    String key = hub.deviceKey("a-twin");
    java.util.concurrent.BlockingQueue<Message> in =
        new java.util.concurrent.LinkedBlockingQueue<>();
    try (AmqpTestClient c = AmqpTestClient.anonymous(hub.hub)) {
      c.putToken("localhost%2Fdevices%2Fa-twin", AmqpTestClient.deviceToken("a-twin", key));
      ProtonSender requests = c.sender("/devices/a-twin/twin", TWIN_CHANNEL);
      c.receiver("/devices/a-twin/twin", TWIN_CHANNEL, true, null, (d, m) -> in.add(m));

      c.send(requests, twinRequest("GET", null, "r1", " "));
      Message get = in.poll(10, TimeUnit.SECONDS);
      assertThat(get.getCorrelationId()).isEqualTo("r1");
      assertThat(annotation(get, "status")).isEqualTo(200);
      io.vertx.core.json.JsonObject doc = new io.vertx.core.json.JsonObject(bodyText(get));
      assertThat(doc.getJsonObject("desired").getLong("$version")).isEqualTo(1L);
      assertThat(doc.getJsonObject("reported").getLong("$version")).isEqualTo(1L);

      c.send(
          requests,
          twinRequest("PATCH", "/properties/reported", "r2", "{\"fw\":{\"version\":\"1.2\"}}"));
      Message patched = in.poll(10, TimeUnit.SECONDS);
      assertThat(patched.getCorrelationId()).isEqualTo("r2");
      assertThat(annotation(patched, "status")).isEqualTo(204);
      assertThat(annotation(patched, "version")).isEqualTo(2L);
      assertThat(
              hub.hub
                  .twins()
                  .find(io.herd.core.twin.TwinKey.device("a-twin"))
                  .orElseThrow()
                  .reportedVersion())
          .isEqualTo(2L);

      c.send(requests, twinRequest("PATCH", "/properties/reported", "r3", "[not json"));
      Message bad = in.poll(10, TimeUnit.SECONDS);
      assertThat(bad.getCorrelationId()).isEqualTo("r3");
      assertThat(annotation(bad, "status")).isEqualTo(400);
      assertThat(new io.vertx.core.json.JsonObject(bodyText(bad)).getInteger("errorCode"))
          .isBetween(400000, 400999);

      c.send(requests, twinRequest("PUT", "/notifications/twin/properties/desired", "r4", " "));
      Message subscribed = in.poll(10, TimeUnit.SECONDS);
      assertThat(subscribed.getCorrelationId()).isEqualTo("r4");
      assertThat(annotation(subscribed, "status")).isEqualTo(200);

      var response =
          Future.await(
              hub.client
                  .patch("/twins/a-twin?api-version=2021-04-12")
                  .putHeader("Authorization", hub.owner())
                  .sendJson(
                      new io.vertx.core.json.JsonObject(
                          "{\"properties\":{\"desired\":{\"interval\":30}}}")));
      assertThat(response.statusCode()).isEqualTo(200);
      Message desired = in.poll(10, TimeUnit.SECONDS);
      // No correlation id: that is how the SDKs tell a notification from an answer.
      assertThat(desired.getCorrelationId()).isNull();
      assertThat(annotation(desired, "version")).isEqualTo(2L);
      io.vertx.core.json.JsonObject delta = new io.vertx.core.json.JsonObject(bodyText(desired));
      assertThat(delta.getInteger("interval")).isEqualTo(30);
      assertThat(delta.getLong("$version")).isEqualTo(2L);
    }
  }

  // ---- direct methods

  @Test
  void directMethodRequestsAndResponsesTravelOnTheMethodLinks() throws Exception {
    String key = hub.deviceKey("a-method");
    io.herd.core.twin.TwinKey twinKey = io.herd.core.twin.TwinKey.device("a-method");
    Map<Symbol, Object> channel =
        Map.of(Symbol.valueOf("com.microsoft:channel-correlation-id"), "methods:test");
    try (AmqpTestClient c = AmqpTestClient.anonymous(hub.hub)) {
      c.putToken("localhost%2Fdevices%2Fa-method", AmqpTestClient.deviceToken("a-method", key));
      assertThat(hub.hub.sessions().find(twinKey).orElseThrow().acceptsMethods()).isFalse();
      ProtonSender responses = c.sender("/devices/a-method/methods/devicebound", channel);
      c.receiver(
          "/devices/a-method/methods/devicebound",
          channel,
          true,
          null,
          (d, m) -> {
            Message answer = Message.Factory.create();
            Properties p = new Properties();
            p.setCorrelationId(m.getCorrelationId());
            answer.setProperties(p);
            String name = (String) m.getApplicationProperties().getValue().get("IoThub-methodname");
            answer.setApplicationProperties(
                new ApplicationProperties(Map.of("IoThub-status", 201)));
            answer.setBody(
                new Data(
                    new Binary(
                        ("{\"called\":\"" + name + "\",\"got\":" + bodyText(m) + "}")
                            .getBytes(StandardCharsets.UTF_8))));
            responses.send(answer);
          });
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> hub.hub.sessions().find(twinKey).orElseThrow().acceptsMethods());
      var result =
          AmqpTestClient.await(
              hub.hub
                  .sessions()
                  .invokeMethod(
                      twinKey,
                      "reboot",
                      io.vertx.core.buffer.Buffer.buffer("{\"delay\":3}"),
                      Duration.ofSeconds(5)));
      assertThat(result.status()).isEqualTo(201);
      assertThat(result.payloadValue())
          .isEqualTo(
              new io.vertx.core.json.JsonObject("{\"called\":\"reboot\",\"got\":{\"delay\":3}}"));
    }
    // Gone with the connection.
    await().atMost(Duration.ofSeconds(5)).until(() -> hub.hub.sessions().find(twinKey).isEmpty());
  }

  @Test
  void aSecondLinkOfTheSameFeatureDetachesTheFirst() throws Exception {
    String key = hub.deviceKey("a-twice");
    try (AmqpTestClient c = AmqpTestClient.anonymous(hub.hub)) {
      c.putToken("localhost%2Fdevices%2Fa-twice", AmqpTestClient.deviceToken("a-twice", key));
      ProtonSender first = c.sender("/devices/a-twice/messages/events");
      var firstDetached = c.detached(first);
      ProtonSender second = c.sender("/devices/a-twice/messages/events");
      assertThat(AmqpTestClient.await(firstDetached).getCondition().toString())
          .isEqualTo("amqp:link:detach-forced");
      assertThat(c.send(second, telemetry("t2", "{}"))).isInstanceOf(Accepted.class);
    }
  }

  @Test
  void aNewConnectionOfTheSameDeviceDetachesTheLinksOfTheOld() throws Exception {
    String key = hub.deviceKey("a-again");
    try (AmqpTestClient old = AmqpTestClient.anonymous(hub.hub);
        AmqpTestClient fresh = AmqpTestClient.anonymous(hub.hub)) {
      old.putToken("localhost%2Fdevices%2Fa-again", AmqpTestClient.deviceToken("a-again", key));
      ProtonSender s = old.sender("/devices/a-again/messages/events");
      var detached = old.detached(s);
      fresh.putToken("localhost%2Fdevices%2Fa-again", AmqpTestClient.deviceToken("a-again", key));
      assertThat(AmqpTestClient.await(detached).getCondition().toString())
          .isEqualTo("amqp:link:detach-forced");
      ProtonSender t = fresh.sender("/devices/a-again/messages/events");
      assertThat(fresh.send(t, telemetry("f", "{}"))).isInstanceOf(Accepted.class);
    }
  }

  // ---- service links

  private static Message serviceMessage(String to, String messageId) {
    Message m = Message.Factory.create();
    Properties p = new Properties();
    p.setMessageId(messageId);
    p.setTo(to);
    m.setProperties(p);
    m.setApplicationProperties(new ApplicationProperties(Map.of("iothub-ack", "full", "k", "v")));
    m.setBody(new Data(new Binary("to the device".getBytes(StandardCharsets.UTF_8))));
    return m;
  }

  private static String condition(DeliveryState outcome) {
    assertThat(outcome).isInstanceOf(Rejected.class);
    return ((Rejected) outcome).getError().getCondition().toString();
  }

  @Test
  void theServiceSendsIntoTheDurableQueueAndBadSendsAreRejected() throws Exception {
    hub.deviceKey("a-svc-target");
    try (AmqpTestClient c = AmqpTestClient.anonymous(hub.hub)) {
      assertThat(c.putToken("localhost", hub.token("service"))).isEqualTo(200);
      ProtonSender s = c.sender("/messages/devicebound");
      assertThat(c.send(s, serviceMessage("/devices/a-svc-target/messages/devicebound", "s1")))
          .isInstanceOf(Accepted.class);
      assertThat(hub.hub.cloudToDevice().pending("a-svc-target")).isEqualTo(1);
      assertThat(condition(c.send(s, serviceMessage("/devices/nobody/messages/devicebound", "s2"))))
          .isEqualTo("amqp:not-found");
      assertThat(condition(c.send(s, serviceMessage("/somewhere/else", "s3"))))
          .isEqualTo("com.microsoft:argument-error");
      Message badAck = serviceMessage("/devices/a-svc-target/messages/devicebound", "s4");
      badAck.setApplicationProperties(new ApplicationProperties(Map.of("iothub-ack", "maybe")));
      assertThat(condition(c.send(s, badAck))).isEqualTo("com.microsoft:argument-error");
      // Nothing else reached the queue.
      assertThat(hub.hub.cloudToDevice().pending("a-svc-target")).isEqualTo(1);
    }
  }

  @Test
  void serviceLinksNeedAServiceConnectToken() throws Exception {
    String key = hub.deviceKey("a-svc-denied");
    try (AmqpTestClient c = AmqpTestClient.anonymous(hub.hub)) {
      c.putToken(
          "localhost%2Fdevices%2Fa-svc-denied", AmqpTestClient.deviceToken("a-svc-denied", key));
      assertThat(c.putToken("localhost", hub.token("registryRead"))).isEqualTo(200);
      for (String address : List.of("/messages/devicebound", "/messages/serviceBound/feedback")) {
        ThrowingAttach attach =
            address.endsWith("feedback")
                ? () -> c.receiver(address, (d, m) -> {})
                : () -> c.sender(address);
        assertThatThrownBy(attach::run)
            .satisfies(
                t ->
                    assertThat(conditionOf(t).getCondition().toString())
                        .isEqualTo("amqp:unauthorized-access"));
      }
    }
  }

  private interface ThrowingAttach {
    void run() throws Exception;
  }

  @Test
  void feedbackTheServiceReleasesComesAgainAndAcceptedFeedbackIsGone() throws Exception {
    String key = hub.deviceKey("a-fb");
    enqueue("a-fb", "fb-1");
    try (AmqpTestClient device = AmqpTestClient.anonymous(hub.hub)) {
      device.putToken("localhost%2Fdevices%2Fa-fb", AmqpTestClient.deviceToken("a-fb", key));
      device.receiver(
          "/devices/a-fb/messages/devicebound",
          null,
          false,
          null,
          (d, m) -> io.vertx.proton.ProtonHelper.accepted(d, true));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> hub.hub.cloudToDevice().pending("a-fb") == 0);
    }
    List<String> seen = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> accepted = new CompletableFuture<>();
    try (AmqpTestClient service = AmqpTestClient.anonymous(hub.hub)) {
      assertThat(service.putToken("localhost", hub.token("service"))).isEqualTo(200);
      service.receiver(
          "/messages/serviceBound/feedback",
          null,
          false,
          null,
          (d, m) -> {
            assertThat(m.getContentType())
                .isEqualTo("application/vnd.microsoft.iothub.feedback.json");
            io.vertx.core.json.JsonArray records = new io.vertx.core.json.JsonArray(bodyText(m));
            boolean ours = false;
            for (int i = 0; i < records.size(); i++) {
              io.vertx.core.json.JsonObject r = records.getJsonObject(i);
              if (r.getString("deviceId").equals("a-fb")) {
                ours = true;
                seen.add(r.getString("originalMessageId") + ":" + r.getString("statusCode"));
              }
            }
            if (ours && seen.size() == 1) {
              io.vertx.proton.ProtonHelper.released(d, true);
            } else {
              io.vertx.proton.ProtonHelper.accepted(d, true);
              if (ours) {
                accepted.complete(null);
              }
            }
          });
      accepted.get(15, TimeUnit.SECONDS);
    }
    assertThat(seen).containsExactly("fb-1:Success", "fb-1:Success");
    assertThat(feedbackOf("a-fb")).isEmpty();
  }

  // ---- bad input and other authentication

  /** A TLS socket to the AMQP port that trusts the hub's CA. */
  private static javax.net.ssl.SSLSocket rawSocket() throws Exception {
    java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (var in = java.nio.file.Files.newInputStream(hub.hub.caFile())) {
      trust.setCertificateEntry(
          "herd-ca",
          java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    var tmf =
        javax.net.ssl.TrustManagerFactory.getInstance(
            javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    var ctx = javax.net.ssl.SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    var socket =
        (javax.net.ssl.SSLSocket)
            ctx.getSocketFactory().createSocket("localhost", hub.hub.amqpPort());
    socket.setSoTimeout(15_000);
    return socket;
  }

  private static final byte[] AMQP_HEADER = {'A', 'M', 'Q', 'P', 0, 1, 0, 0};

  private static byte[] frame(Object performative) {
    var decoder = new org.apache.qpid.proton.codec.DecoderImpl();
    var encoder = new org.apache.qpid.proton.codec.EncoderImpl(decoder);
    org.apache.qpid.proton.codec.AMQPDefinedTypes.registerAllTypes(decoder, encoder);
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(1024);
    buf.position(8);
    encoder.setByteBuffer(buf);
    encoder.writeObject(performative);
    int size = buf.position();
    buf.putInt(0, size).put(4, (byte) 2).put(5, (byte) 0).putShort(6, (short) 0);
    return java.util.Arrays.copyOf(buf.array(), size);
  }

  /** The performatives of the AMQP frames in {@code bytes} (after the protocol header). */
  private static List<Object> performatives(byte[] bytes) {
    var decoder = new org.apache.qpid.proton.codec.DecoderImpl();
    var encoder = new org.apache.qpid.proton.codec.EncoderImpl(decoder);
    org.apache.qpid.proton.codec.AMQPDefinedTypes.registerAllTypes(decoder, encoder);
    List<Object> out = new java.util.ArrayList<>();
    java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes, 8, bytes.length - 8);
    while (in.remaining() >= 8) {
      int start = in.position();
      int size = in.getInt();
      int doff = in.get() * 4;
      in.position(start + doff);
      java.nio.ByteBuffer body = in.slice();
      body.limit(size - doff);
      in.position(start + size);
      if (body.hasRemaining()) {
        decoder.setByteBuffer(body);
        out.add(decoder.readObject());
      }
    }
    return out;
  }

  @Test
  void aMalformedFrameClosesThatConnectionWithADecodeErrorAndTouchesNothingElse() throws Exception {
    String key = hub.deviceKey("a-frames");
    try (AmqpTestClient bystander = AmqpTestClient.anonymous(hub.hub)) {
      bystander.putToken(
          "localhost%2Fdevices%2Fa-frames", AmqpTestClient.deviceToken("a-frames", key));
      ProtonSender s = bystander.sender("/devices/a-frames/messages/events");
      int before = hub.hub.sessions().connections();
      byte[] reply;
      try (var socket = rawSocket()) {
        var out = socket.getOutputStream();
        out.write(AMQP_HEADER);
        org.apache.qpid.proton.amqp.transport.Open open =
            new org.apache.qpid.proton.amqp.transport.Open();
        open.setContainerId("raw");
        open.setHostname("localhost");
        out.write(frame(open));
        // A frame whose performative (an Open) has a body of an undefined type code.
        out.write(new byte[] {0, 0, 0, 12, 2, 0, 0, 0, 0x00, 0x53, 0x10, (byte) 0xFF});
        out.flush();
        reply = socket.getInputStream().readAllBytes();
      }
      assertThat(java.util.Arrays.copyOf(reply, 8)).isEqualTo(AMQP_HEADER);
      List<Object> frames = performatives(reply);
      assertThat(frames.get(0)).isInstanceOf(org.apache.qpid.proton.amqp.transport.Open.class);
      Object last = frames.get(frames.size() - 1);
      assertThat(last).isInstanceOf(org.apache.qpid.proton.amqp.transport.Close.class);
      ErrorCondition why = ((org.apache.qpid.proton.amqp.transport.Close) last).getError();
      assertThat(why.getCondition().toString())
          .isIn("amqp:decode-error", "amqp:connection:framing-error");
      // The slot is given back; the other connection goes on as before.
      await().atMost(Duration.ofSeconds(5)).until(() -> hub.hub.sessions().connections() == before);
      assertThat(bystander.send(s, telemetry("still", "{}"))).isInstanceOf(Accepted.class);
    }
  }

  @Test
  void aWrongProtocolHeaderIsAnsweredWithTheAmqpHeaderAndTheConnectionCloses() throws Exception {
    try (var socket = rawSocket()) {
      socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
      byte[] reply = socket.getInputStream().readAllBytes();
      assertThat(new String(reply, 0, Math.min(4, reply.length), StandardCharsets.US_ASCII))
          .isEqualTo("AMQP");
    }
  }

  @Test
  void anExpiredTokenIsRefusedWith401() throws Exception {
    String key = hub.deviceKey("a-expired");
    try (AmqpTestClient c = AmqpTestClient.anonymous(hub.hub)) {
      long longAgo = Instant.now().getEpochSecond() - 3600;
      Message reply =
          c.putTokenReply(
              "localhost%2Fdevices%2Fa-expired",
              AmqpTestClient.deviceToken("a-expired", key, longAgo));
      assertThat(reply.getApplicationProperties().getValue())
          .containsEntry("status-code", 401)
          .hasEntrySatisfying(
              "status-description", d -> assertThat(d.toString()).contains("expired"));
      assertThatThrownBy(() -> c.sender("/devices/a-expired/messages/events"))
          .satisfies(
              t ->
                  assertThat(conditionOf(t).getCondition().toString())
                      .isEqualTo("amqp:unauthorized-access"));
      assertThat(hub.hub.registry().find("a-expired").orElseThrow().connectionState())
          .isEqualTo(ConnectionState.DISCONNECTED);
    }
  }

  @Test
  void malformedPutTokensGetA400() throws Exception {
    try (AmqpTestClient c = AmqpTestClient.anonymous(hub.hub)) {
      assertThat(c.putToken("localhost%2Fdevices%2Fa%2Ftwin", "SharedAccessSignature sr=x"))
          .isEqualTo(400);
      assertThat(c.putToken("localhost%2Fdevices%2Fnobody-at-all", "not a token")).isEqualTo(401);
    }
  }

  @Test
  void aConnectionThatAuthenticatesNothingIsClosedWithUnauthorizedAccess() throws Exception {
    int before = hub.hub.sessions().connections();
    try (AmqpTestClient c = AmqpTestClient.anonymous(hub.hub)) {
      assertThat(hub.hub.sessions().connections()).isEqualTo(before + 1);
      ErrorCondition why = AmqpTestClient.await(c.closed(), 20);
      assertThat(why.getCondition().toString()).isEqualTo("amqp:unauthorized-access");
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> hub.hub.sessions().connections() == before);
  }

  @Test
  void aDeviceAuthenticatesWithItsClientCertificateOverSaslExternal() throws Exception {
    io.herd.testkit.TestPki.Issued self =
        io.herd.testkit.TestPki.certificate("a-x509").clientAuth().build();
    String thumb =
        java.util.HexFormat.of()
            .withUpperCase()
            .formatHex(
                java.security.MessageDigest.getInstance("SHA-256")
                    .digest(self.certificate().getEncoded()));
    var put =
        Future.await(
            hub.client
                .put("/devices/a-x509?api-version=2021-04-12")
                .putHeader("Authorization", hub.owner())
                .sendJson(
                    new io.vertx.core.json.JsonObject()
                        .put(
                            "authentication",
                            new io.vertx.core.json.JsonObject()
                                .put("type", "selfSigned")
                                .put(
                                    "x509Thumbprint",
                                    new io.vertx.core.json.JsonObject()
                                        .put("primaryThumbprint", thumb)))));
    assertThat(put.statusCode()).as(put.bodyAsString()).isEqualTo(200);
    hub.deviceKey("a-x509-other");
    try (Events events = new Events(e -> e.message().deviceId().equals("a-x509"));
        AmqpTestClient c = AmqpTestClient.connect(hub.hub, null, null, self)) {
      ProtonSender s = c.sender("/devices/a-x509/messages/events");
      assertThat(c.send(s, telemetry("x1", "{}"))).isInstanceOf(Accepted.class);
      await().atMost(Duration.ofSeconds(5)).until(() -> events.seen.size() == 1);
      assertThat(events.seen.get(0).message().systemProperties())
          .containsEntry("iothub-connection-auth-method", "x509");
      assertThatThrownBy(() -> c.sender("/devices/a-x509-other/messages/events"))
          .satisfies(
              t ->
                  assertThat(conditionOf(t).getCondition().toString())
                      .isEqualTo("amqp:unauthorized-access"));
    }
  }
}
