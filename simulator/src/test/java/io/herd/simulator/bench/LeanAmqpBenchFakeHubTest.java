package io.herd.simulator.bench;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.herd.registry.SasAuthenticator;
import io.herd.registry.SasToken;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SelfSignedCertificate;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import io.vertx.proton.ProtonServer;
import io.vertx.proton.ProtonServerOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.message.Message;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LeanAmqpBench against a fake hub on vertx-proton's server (proton-j), which checks each put-token
 * with Herd's own verifier, grants a little credit at a time, settles late and rejects on request:
 * the generator must stay within credit and its window and count outcomes by kind.
 */
class LeanAmqpBenchFakeHubTest {
  private static final String HOST_NAME = "localhost";
  private static final String SEED = "fake-amqp-hub-seed";
  private static final String POLICY_KEY =
      Base64.getEncoder().encodeToString("a 32-byte key of the device pol.".getBytes(UTF_8));

  private static Vertx vertx;
  private static ProtonServer server;
  private static SelfSignedCertificate certificate;

  // What the fake hub does and saw; reset per test.
  private static volatile int credit;
  private static volatile int rejectEvery;
  private static final AtomicInteger received = new AtomicInteger();
  private static final AtomicInteger beyondCredit = new AtomicInteger();
  private static final AtomicInteger maxUnsettled = new AtomicInteger();
  private static final AtomicInteger badTokens = new AtomicInteger();
  private static final AtomicInteger withoutMessageId = new AtomicInteger();

  @TempDir static Path dir;

  @BeforeAll
  static void startFakeHub() throws Exception {
    vertx = Vertx.vertx();
    certificate = SelfSignedCertificate.create(HOST_NAME);
    java.util.concurrent.CompletableFuture<ProtonServer> listening =
        new java.util.concurrent.CompletableFuture<>();
    ProtonServer.create(
            vertx,
            new ProtonServerOptions()
                .setHost("127.0.0.1")
                .setSsl(true)
                .setKeyCertOptions(certificate.keyCertOptions()))
        .connectHandler(LeanAmqpBenchFakeHubTest::serve)
        .listen(
            0,
            "127.0.0.1",
            ar -> {
              if (ar.succeeded()) {
                listening.complete(ar.result());
              } else {
                listening.completeExceptionally(ar.cause());
              }
            });
    server = listening.get(10, TimeUnit.SECONDS);
    Files.writeString(
        dir.resolve("hub.json"),
        new JsonObject()
            .put("hostName", HOST_NAME)
            .put("ports", new JsonObject().put("https", 1).put("amqp", server.actualPort()))
            .put("caFile", certificate.certificatePath())
            .put(
                "connectionStrings",
                new JsonObject()
                    .put(
                        "iothubowner",
                        "HostName="
                            + HOST_NAME
                            + ";SharedAccessKeyName=iothubowner;SharedAccessKey="
                            + POLICY_KEY))
            .encodePrettily());
  }

  @AfterAll
  static void stopFakeHub() throws Exception {
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    if (certificate != null) {
      certificate.delete();
    }
  }

  @BeforeEach
  void reset() {
    received.set(0);
    beyondCredit.set(0);
    maxUnsettled.set(0);
    badTokens.set(0);
    withoutMessageId.set(0);
    rejectEvery = 0;
  }

  /** One connection of the fake hub: $cbs answers, then the events link. */
  private static void serve(ProtonConnection c) {
    ProtonSender[] replies = new ProtonSender[1];
    c.openHandler(x -> c.open());
    c.sessionOpenHandler(s -> s.open());
    c.senderOpenHandler(
        s -> {
          s.setSource(s.getRemoteSource());
          s.open();
          replies[0] = s;
        });
    c.receiverOpenHandler(
        r -> {
          r.setTarget(r.getRemoteTarget());
          String address = r.getRemoteTarget().getAddress();
          if ("$cbs".equals(address)) {
            r.handler((d, m) -> replies[0].send(putTokenAnswer(m)));
            r.open();
          } else {
            events(r);
          }
        });
  }

  private static Message putTokenAnswer(Message request) {
    Map<String, Object> app = request.getApplicationProperties().getValue();
    String token = (String) ((AmqpValue) request.getBody()).getValue();
    String audience = (String) app.get("name");
    int status = 200;
    try {
      SasToken t = SasToken.parse(token);
      String id = audience.substring(audience.lastIndexOf("%2F") + 3);
      byte[] key = MqttBench.deviceKey(SEED, id);
      if (!audience.equals(HOST_NAME + "%2Fdevices%2F" + id)
          || !t.resource().equals(HOST_NAME + "/devices/" + id)
          || !SasAuthenticator.signatureMatches(t, Base64.getEncoder().encodeToString(key))) {
        status = 401;
      }
    } catch (RuntimeException e) {
      status = 401;
    }
    if (status != 200) {
      badTokens.incrementAndGet();
    }
    Message answer = Message.Factory.create();
    answer.setCorrelationId(request.getMessageId());
    Map<String, Object> props = new LinkedHashMap<>();
    props.put("status-code", status);
    props.put("status-description", status == 200 ? "OK" : "Unauthorized");
    answer.setApplicationProperties(new ApplicationProperties(props));
    return answer;
  }

  /**
   * The events link: {@code credit} at a time, given back only when messages are settled, which
   * happens every few milliseconds for all that came in since.
   */
  private static void events(ProtonReceiver r) {
    r.setAutoAccept(false);
    r.setPrefetch(0);
    int[] granted = {credit};
    int[] count = {0};
    List<io.vertx.proton.ProtonDelivery> unsettled = new ArrayList<>();
    r.handler(
        (d, m) -> {
          int n = ++count[0];
          received.incrementAndGet();
          if (n > granted[0]) {
            beyondCredit.incrementAndGet();
          }
          if (m.getMessageId() == null || !(m.getBody() instanceof Data)) {
            withoutMessageId.incrementAndGet();
          }
          unsettled.add(d);
          maxUnsettled.accumulateAndGet(unsettled.size(), Math::max);
        });
    long timer =
        vertx.setPeriodic(
            3,
            t -> {
              for (io.vertx.proton.ProtonDelivery d : unsettled) {
                int every = rejectEvery;
                if (every > 0 && received.get() % every == 0) {
                  Rejected no = new Rejected();
                  no.setError(
                      new ErrorCondition(
                          Symbol.valueOf("amqp:resource-limit-exceeded"), "queue full"));
                  d.disposition(no, true);
                } else {
                  d.disposition(Accepted.getInstance(), true);
                }
              }
              int settled = unsettled.size();
              unsettled.clear();
              if (settled > 0) {
                granted[0] += settled;
                r.flow(settled);
              }
            });
    r.closeHandler(x -> vertx.cancelTimer(timer));
    r.open();
    r.flow(credit);
  }

  private static Properties run(String... extra) throws Exception {
    Path results = dir.resolve("results-" + UUID.randomUUID() + ".properties");
    List<String> args =
        new ArrayList<>(
            List.of(
                "--hub-json",
                dir.resolve("hub.json").toString(),
                "--prefix",
                "fake",
                "--key-seed",
                SEED,
                "--seconds",
                "2",
                "--warmup-seconds",
                "0",
                "--timeout-seconds",
                "60",
                "--result-file",
                results.toString()));
    args.addAll(List.of(extra));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int status = LeanAmqpBench.run(args.toArray(String[]::new), new PrintStream(out, true, UTF_8));
    Properties p = new Properties();
    if (Files.exists(results)) {
      p.load(Files.newBufferedReader(results));
    }
    p.setProperty("exit", Integer.toString(status));
    p.setProperty("output", out.toString(UTF_8));
    return p;
  }

  @Test
  void sendsOnlyWithinTheCreditTheHubGives() throws Exception {
    credit = 3;
    Properties r = run("--devices", "4", "--window", "16");

    assertThat(r.getProperty("exit")).as(r.getProperty("output")).isEqualTo("0");
    assertThat(r.getProperty("connect.devices")).isEqualTo("4");
    assertThat(Long.parseLong(r.getProperty("telemetry.messages"))).isPositive();
    assertThat(received.get()).isPositive();
    assertThat(beyondCredit.get()).isZero();
    assertThat(maxUnsettled.get()).isLessThanOrEqualTo(3);
    assertThat(badTokens.get()).isZero();
    assertThat(withoutMessageId.get()).isZero();
  }

  @Test
  void keepsNoMoreThanItsWindowUnsettled() throws Exception {
    credit = 1000;
    Properties r = run("--devices", "2", "--window", "5");

    assertThat(r.getProperty("exit")).as(r.getProperty("output")).isEqualTo("0");
    assertThat(beyondCredit.get()).isZero();
    assertThat(maxUnsettled.get()).isEqualTo(5);
  }

  @Test
  void countsRejectionsAsErrorsByKind() throws Exception {
    credit = 50;
    rejectEvery = 7;
    Properties r = run("--devices", "2", "--window", "8");

    assertThat(r.getProperty("exit")).isEqualTo("1");
    assertThat(r.getProperty("status")).isEqualTo("failed");
    assertThat(Long.parseLong(r.getProperty("telemetry.errors"))).isPositive();
    assertThat(r.getProperty("output"))
        .contains("x rejected: amqp:resource-limit-exceeded (queue full)");
  }
}
