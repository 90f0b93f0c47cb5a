package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.herd.adapter.common.LiveEventStream;
import io.herd.registry.ConnectionState;
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
      DeliveryState outcome = c.send(s, telemetry("m1", "{\"t\":21.5}"));
      assertThat(outcome).isInstanceOf(Accepted.class);
      // Accepted only once the events endpoint has it.
      assertThat(events.seen).hasSize(1);
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
}
