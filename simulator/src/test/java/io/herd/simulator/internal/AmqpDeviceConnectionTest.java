package io.herd.simulator.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBufAllocator;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.proton.ProtonClient;
import io.vertx.proton.ProtonClientOptions;
import io.vertx.proton.ProtonConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.message.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The AMQP transport against a fake hub on a real socket: the wire and its flow control. */
class AmqpDeviceConnectionTest {

  private static final String HOST_NAME = "hub.example:8443";
  private static final Symbol CHANNEL = Symbol.valueOf("com.microsoft:channel-correlation-id");
  private static final Symbol API_VERSION = Symbol.valueOf("com.microsoft:api-version");

  private Vertx vertx;
  private Context loop;
  private FakeAmqpHub hub;
  private int port;
  private AmqpDeviceConnection conn;
  private final List<String> heard = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void initialiseNettyOnce() {
    // The first buffer Netty allocates in a JVM registers its JFR events, which takes longer than
    // the event loop may block; this test's loops are to show what the connection itself does.
    ByteBufAllocator.DEFAULT.buffer(1).release();
  }

  @BeforeEach
  void start() throws Exception {
    vertx =
        Vertx.vertx(
            new VertxOptions()
                .setEventLoopPoolSize(1)
                .setMaxEventLoopExecuteTime(100)
                .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS));
    loop = vertx.getOrCreateContext();
    hub = new FakeAmqpHub();
    port = onLoop(() -> hub.start(vertx)).await(5, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(5, TimeUnit.SECONDS);
  }

  /** Runs {@code action} on the loop that owns the connection and the fake hub. */
  private <T> T onLoop(Callable<T> action) throws Exception {
    CompletableFuture<T> f = new CompletableFuture<>();
    loop.runOnContext(
        v -> {
          try {
            f.complete(action.call());
          } catch (Throwable e) {
            f.completeExceptionally(e);
          }
        });
    return f.get(5, TimeUnit.SECONDS);
  }

  private void open(long timeoutMs) throws Exception {
    onLoop(
        () -> {
          conn = new AmqpDeviceConnection(vertx, "d1", new Recorder());
          conn.open(
              ProtonClient.create(vertx),
              new ProtonClientOptions().addEnabledSaslMechanism("ANONYMOUS"),
              "127.0.0.1",
              port,
              HOST_NAME,
              "SharedAccessSignature sr=t1",
              timeoutMs);
          return null;
        });
  }

  private void connect() throws Exception {
    open(5_000);
    awaitHeard("online " + hub.twin.encode());
  }

  private void awaitHeard(String event) {
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(heard).contains(event));
  }

  private static String body(Message m) {
    if (m.getBody() instanceof AmqpValue v) {
      return String.valueOf(v.getValue());
    }
    Binary b = ((Data) m.getBody()).getValue();
    return new String(b.getArray(), b.getArrayOffset(), b.getLength(), UTF_8);
  }

  private static Object annotation(Message m, String key) {
    return m.getMessageAnnotations().getValue().get(Symbol.valueOf(key));
  }

  @Test
  void signsInWithAPutTokenThenSubscribesToDesiredThenReadsTheTwin() throws Exception {
    connect();

    assertThat(heard).containsExactly("connected", "online " + hub.twin.encode());
    Message put = onLoop(() -> hub.cbsRequests.get(0));
    assertThat(put.getApplicationProperties().getValue())
        .containsEntry("operation", "put-token")
        .containsEntry("type", "servicebus.windows.net:sastoken")
        .containsEntry("name", "hub.example%3A8443%2Fdevices%2Fd1");
    assertThat(body(put)).isEqualTo("SharedAccessSignature sr=t1");
    List<Message> twin = onLoop(() -> new ArrayList<>(hub.twinRequests));
    assertThat(twin).extracting(m -> annotation(m, "operation")).containsExactly("PUT", "GET");
    assertThat(annotation(twin.get(0), "resource"))
        .isEqualTo("/notifications/twin/properties/desired");
    assertThat(onLoop(() -> hub.openHostname)).isEqualTo("127.0.0.1");
  }

  @Test
  void pairsTheTwinAndMethodLinksByChannelWithTheApiVersion() throws Exception {
    connect();

    Map<String, Map<Symbol, Object>> p = onLoop(() -> hub.linkProperties);
    Object twinIn = p.get("in /devices/d1/twin").get(CHANNEL);
    Object methodsIn = p.get("in /devices/d1/methods/devicebound").get(CHANNEL);
    assertThat(twinIn).asString().startsWith("twin:");
    assertThat(p.get("out /devices/d1/twin").get(CHANNEL)).isEqualTo(twinIn);
    assertThat(methodsIn).asString().startsWith("methods:");
    assertThat(p.get("out /devices/d1/methods/devicebound").get(CHANNEL)).isEqualTo(methodsIn);
    assertThat(p.get("in /devices/d1/twin")).containsEntry(API_VERSION, "2021-04-12");
    assertThat(p.get("in /devices/d1/messages/events")).doesNotContainKey(API_VERSION);
  }

  @Test
  void aReportedPatchIsAnsweredToItsRidWithTheHubsStatus() throws Exception {
    connect();

    onLoop(
        () -> {
          conn.report("7", new JsonObject().put("rebootStatus", "online"));
          return null;
        });
    awaitHeard("twin 7 204");
    onLoop(
        () -> {
          hub.patchStatus = 400;
          conn.report("8", new JsonObject().put("x", 1));
          return null;
        });
    awaitHeard("twin 8 400");

    Message patch = onLoop(() -> hub.twinRequests.get(2));
    assertThat(annotation(patch, "operation")).isEqualTo("PATCH");
    assertThat(annotation(patch, "resource")).isEqualTo("/properties/reported");
    assertThat(patch.getProperties().getCorrelationId()).isEqualTo("7");
    assertThat(new JsonObject(body(patch)))
        .isEqualTo(new JsonObject().put("rebootStatus", "online"));
  }

  @Test
  void desiredNotificationsReachTheDeviceWithTheirVersion() throws Exception {
    connect();
    JsonObject patch = new JsonObject().put("telemetryConfig", new JsonObject()).put("$version", 4);

    onLoop(
        () -> {
          hub.notifyDesired(4, patch);
          return null;
        });

    awaitHeard("desired 4 " + patch.encode());
  }

  @Test
  void aMethodIsAnsweredWithItsUuidCorrelationIdAndAnIntStatus() throws Exception {
    connect();
    UUID id = UUID.randomUUID();

    onLoop(
        () -> {
          hub.invoke("reboot", id, new JsonObject().put("delay", 0));
          return null;
        });
    awaitHeard("method reboot " + id + " {\"delay\":0}");
    onLoop(
        () -> {
          conn.answer(id.toString(), 200, new JsonObject().put("result", "rebooting"));
          conn.answer("unknown", 200, null); // dropped
          return null;
        });

    await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(() -> hub.methodAnswers.size()) == 1);
    Message answer = onLoop(() -> hub.methodAnswers.get(0));
    assertThat(answer.getProperties().getCorrelationId()).isEqualTo(id);
    assertThat(answer.getApplicationProperties().getValue()).containsEntry("IoThub-status", 200);
    assertThat(new JsonObject(body(answer))).isEqualTo(new JsonObject().put("result", "rebooting"));
  }

  @Test
  void theHubGetsCreditForAnotherMethodRequestOnlyAsOneIsAnswered() throws Exception {
    connect();
    assertThat(onLoop(() -> hub.methodsOut.getCredit()))
        .isEqualTo(AmqpDeviceConnection.METHOD_CREDIT);
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < AmqpDeviceConnection.METHOD_CREDIT; i++) {
      ids.add(UUID.randomUUID());
    }

    onLoop(
        () -> {
          ids.forEach(id -> hub.invoke("reboot", id, new JsonObject()));
          return null;
        });
    awaitHeard("method reboot " + ids.get(ids.size() - 1) + " {}");
    assertThat(onLoop(() -> hub.methodsOut.getCredit())).isZero();
    onLoop(
        () -> {
          conn.answer(ids.get(0).toString(), 200, null);
          return null;
        });

    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> onLoop(() -> hub.methodsOut.getCredit()) == 1);
  }

  @Test
  void telemetryIsAcknowledgedByItsDispositionAndARejectionSaysWhy() throws Exception {
    onLoop(
        () ->
            hub.telemetryOutcome =
                m -> {
                  if (!body(m).contains("bad")) {
                    return Accepted.getInstance();
                  }
                  Rejected r = new Rejected();
                  r.setError(
                      new ErrorCondition(
                          Symbol.valueOf("amqp:link:message-size-exceeded"), "too large"));
                  return r;
                });
    connect();

    List<Boolean> sent =
        onLoop(
            () ->
                List.of(
                    conn.telemetry("{\"ok\":1}".getBytes(UTF_8), 1),
                    conn.telemetry("{\"bad\":1}".getBytes(UTF_8), 2)));

    assertThat(sent).containsExactly(true, true);
    awaitHeard("acked 1");
    awaitHeard("refused 2 rejected amqp:link:message-size-exceeded too large");
    Message m = onLoop(() -> hub.telemetry.get(0));
    assertThat((Object) m.getProperties().getContentType())
        .isEqualTo(Symbol.valueOf("application/json"));
    assertThat(body(m)).isEqualTo("{\"ok\":1}");
  }

  @Test
  void sendsNoTelemetryBeyondTheHubsCredit() throws Exception {
    onLoop(
        () -> {
          hub.telemetryCredit = 2;
          hub.replenish = false;
          hub.telemetryOutcome = m -> null; // never settled
          return null;
        });
    connect();

    List<Boolean> sent =
        onLoop(
            () ->
                List.of(
                    conn.telemetry("{}".getBytes(UTF_8), 1),
                    conn.telemetry("{}".getBytes(UTF_8), 2),
                    conn.telemetry("{}".getBytes(UTF_8), 3)));

    assertThat(sent).containsExactly(true, true, false);
  }

  @Test
  void aLinkTheHubDetachesClosesTheConnectionAndSaysWhy() throws Exception {
    connect();

    onLoop(
        () -> {
          hub.detachTwin("amqp:link:detach-forced", "a newer twin link replaced this one");
          return null;
        });

    awaitHeard(
        "closed link /devices/d1/twin detached by the hub: amqp:link:detach-forced"
            + " a newer twin link replaced this one false");
    assertThat(onLoop(() -> conn.isOnline())).isFalse();
  }

  @Test
  void aCbsLinkTheHubDetachesClosesTheConnectionAndSaysWhy() throws Exception {
    connect();

    onLoop(
        () -> {
          hub.detachCbs("amqp:internal-error", "the token service stopped");
          return null;
        });

    awaitHeard(
        "closed link $cbs detached by the hub: amqp:internal-error the token service stopped"
            + " false");
  }

  @Test
  void aPutTokenInFlightFailsWhenItsConnectionEndsNotAtItsTimeout() throws Exception {
    CompletableFuture<ProtonConnection> opened = new CompletableFuture<>();
    loop.runOnContext(
        v ->
            ProtonClient.create(vertx)
                .connect(
                    new ProtonClientOptions().addEnabledSaslMechanism("ANONYMOUS"),
                    "127.0.0.1",
                    port,
                    ar -> {
                      ProtonConnection c = ar.result();
                      c.openHandler(x -> opened.complete(c)).open();
                    }));
    ProtonConnection c = opened.get(5, TimeUnit.SECONDS);
    onLoop(() -> hub.answerPutToken = false);
    CbsClient cbs = onLoop(() -> CbsClient.open(vertx, c)).await(5, TimeUnit.SECONDS);
    io.vertx.core.Future<Void> renewal =
        onLoop(
            () -> cbs.putToken("localhost%2Fdevices%2Fd1", "SharedAccessSignature sr=t", 60_000));
    await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(() -> hub.cbsRequests.size()) == 1);

    onLoop(
        () -> {
          cbs.close();
          return null;
        });

    assertThat(onLoop(renewal::failed)).isTrue();
    assertThat(onLoop(() -> renewal.cause().getMessage()))
        .isEqualTo("the connection ended before the put-token was answered");
  }

  @Test
  void aRefusedPutTokenFailsTheConnect() throws Exception {
    onLoop(() -> hub.cbsStatus = 401);

    open(5_000);

    awaitHeard("closed put-token: put-token answered 401: Unauthorized true");
    assertThat(heard).doesNotContain("connected");
  }

  @Test
  void aHandshakeThatStallsFailsAfterTheTimeout() throws Exception {
    onLoop(() -> hub.answerTwinGet = false);

    open(500);

    awaitHeard("closed no twin GET response within 500 ms true");
  }

  @Test
  void closingSaysGoodbyeAndTellsTheListenerWithoutAReason() throws Exception {
    connect();

    onLoop(
        () -> {
          conn.close(true);
          return null;
        });

    awaitHeard("closed null false");
    await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(() -> hub.closedByDevice));
  }

  @Test
  void renewsItsTokenWithAPutTokenOnTheOpenConnection() throws Exception {
    connect();

    assertThat(onLoop(() -> conn.renew("SharedAccessSignature sr=t2"))).isTrue();

    await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(() -> hub.cbsRequests.size()) == 2);
    Message renewal = onLoop(() -> hub.cbsRequests.get(1));
    assertThat(body(renewal)).isEqualTo("SharedAccessSignature sr=t2");
    assertThat(onLoop(() -> conn.isOnline())).isTrue();
    assertThat(heard).noneMatch(e -> e.startsWith("closed"));
  }

  /** Writes down what the connection tells the device, in order. */
  private final class Recorder implements DeviceConnection.Listener {
    @Override
    public void onConnected(long connectNanos) {
      heard.add("connected");
    }

    @Override
    public void onOnline(JsonObject twinProperties) {
      heard.add("online " + twinProperties.encode());
    }

    @Override
    public void onClosed(String reason, boolean failedConnect) {
      heard.add("closed " + reason + " " + failedConnect);
    }

    @Override
    public void onTwinResponse(String rid, int status) {
      heard.add("twin " + rid + " " + status);
    }

    @Override
    public void onDesired(long version, JsonObject patch) {
      heard.add("desired " + version + " " + patch.encode());
    }

    @Override
    public void onMethod(String name, String rid, Object payload) {
      heard.add("method " + name + " " + rid + " " + payload);
    }

    @Override
    public void onTelemetryAcked(int tag) {
      heard.add("acked " + tag);
    }

    @Override
    public void onTelemetryRefused(int tag, String reason) {
      heard.add("refused " + tag + " " + reason);
    }
  }
}
