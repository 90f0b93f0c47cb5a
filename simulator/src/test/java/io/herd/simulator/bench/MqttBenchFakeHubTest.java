package io.herd.simulator.bench;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.herd.registry.SasAuthenticator;
import io.herd.registry.SasToken;
import io.herd.simulator.internal.DeviceTopics;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPubAckMessage;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttSubAckMessage;
import io.netty.handler.codec.mqtt.MqttSubAckPayload;
import io.netty.handler.codec.mqtt.MqttSubscribeMessage;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.SelfSignedCertificate;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MqttBench against a fake hub that speaks the IoT Hub MQTT device protocol (wire §2) over TLS and
 * checks each CONNECT's SAS token with Herd's own verifier: the generator's connect, telemetry,
 * reported and methods modes end to end.
 */
class MqttBenchFakeHubTest {

  private static final String HOST_NAME = "localhost";
  private static final String SEED = "fake-hub-seed";
  private static final String POLICY_KEY =
      Base64.getEncoder().encodeToString("a 32-byte key of the device pol.".getBytes(UTF_8));

  private static Vertx vertx;
  private static NetServer server;
  private static SelfSignedCertificate certificate;
  private static final AtomicInteger refusedConnects = new AtomicInteger();
  private static final AtomicInteger telemetry = new AtomicInteger();
  // Reported properties and their version per device, as the fake hub holds them.
  private static final Map<String, JsonObject> reported = new ConcurrentHashMap<>();
  private static final Map<String, Integer> versions = new ConcurrentHashMap<>();
  // Direct methods: requests sent per subscribed device, their payloads by $rid, the answers.
  private static final int METHODS_PER_DEVICE = 3;
  private static final Map<String, String> methodPayloads = new ConcurrentHashMap<>();
  private static final AtomicInteger methodsEchoed = new AtomicInteger();
  private static final AtomicInteger methodsWrong = new AtomicInteger();
  private static volatile int methodsExpected;
  private static volatile Path methodsStopFile;

  @TempDir static Path dir;

  @BeforeAll
  static void startFakeHub() throws Exception {
    vertx = Vertx.vertx();
    certificate = SelfSignedCertificate.create(HOST_NAME);
    server =
        vertx
            .createNetServer(
                new NetServerOptions()
                    .setHost("127.0.0.1")
                    .setPort(0)
                    .setSsl(true)
                    .setKeyCertOptions(certificate.keyCertOptions()))
            .connectHandler(s -> new FakeSession((NetSocketInternal) s))
            .listen()
            .await(10, TimeUnit.SECONDS);
    Files.writeString(
        dir.resolve("hub.json"),
        new JsonObject()
            .put("hostName", HOST_NAME)
            .put("ports", new JsonObject().put("https", 1).put("mqtt", server.actualPort()))
            .put("caFile", certificate.certificatePath())
            .put(
                "connectionStrings",
                new JsonObject()
                    .put(
                        "device",
                        "HostName="
                            + HOST_NAME
                            + ";SharedAccessKeyName=device;SharedAccessKey="
                            + POLICY_KEY))
            .encodePrettily());
  }

  @AfterAll
  static void stopFakeHub() throws Exception {
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
    if (certificate != null) {
      certificate.delete();
    }
  }

  @Test
  void connectsHoldsAndDisconnectsDevicesSignedWithTheirOwnKeys() throws Exception {
    Path ready = dir.resolve("ready");
    Path stop = dir.resolve("stop");
    Files.writeString(stop, "");
    int refusedBefore = refusedConnects.get();

    Properties r =
        run(
            "connect",
            "--devices",
            "50",
            "--first",
            "100",
            "--hold-seconds",
            "30",
            "--ready-file",
            ready.toString(),
            "--stop-file",
            stop.toString());

    assertThat(r.getProperty("status")).isEqualTo("ok");
    assertThat(r.getProperty("connect.devices")).isEqualTo("50");
    assertThat(r.getProperty("connect.failures")).isEqualTo("0");
    assertThat(r.getProperty("hold.lost")).isEqualTo("0");
    assertThat(Files.readString(ready)).contains("connected=50");
    assertThat(refusedConnects.get()).isEqualTo(refusedBefore);
  }

  @Test
  void reportsRefusedConnectsByReason() throws Exception {
    int refusedBefore = refusedConnects.get();

    Properties r =
        run(
            "connect",
            "--devices",
            "3",
            "--prefix",
            "other",
            "--key-seed",
            "not-the-seed",
            "--hold-seconds",
            "0");

    assertThat(r.getProperty("status")).isEqualTo("failed");
    assertThat(r.getProperty("connect.failureReasons"))
        .isEqualTo("3 x CONNACK CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD");
    assertThat(refusedConnects.get()).isEqualTo(refusedBefore + 3);
  }

  @Test
  void publishesQos1TelemetryWithAWindowOfUnacknowledgedMessages() throws Exception {
    int before = telemetry.get();

    Properties r =
        run(
            "telemetry",
            "--devices",
            "20",
            "--window",
            "4",
            "--auth",
            "policy",
            "--seconds",
            "1",
            "--warmup-seconds",
            "0");

    assertThat(r.getProperty("status")).isEqualTo("ok");
    assertThat(r.getProperty("telemetry.errors")).isEqualTo("0");
    assertThat(Long.parseLong(r.getProperty("telemetry.messages"))).isPositive();
    assertThat(telemetry.get() - before)
        .isGreaterThanOrEqualTo(Integer.parseInt(r.getProperty("telemetry.messages")));
  }

  @Test
  void patchesReportedPropertiesAndReadsTheTwinsBack() throws Exception {
    Properties r =
        run(
            "reported",
            "--devices",
            "10",
            "--first",
            "200",
            "--seconds",
            "1",
            "--warmup-seconds",
            "0",
            "--verify",
            "5");

    assertThat(r.getProperty("status")).isEqualTo("ok");
    assertThat(r.getProperty("reported.errors")).isEqualTo("0");
    assertThat(Long.parseLong(r.getProperty("reported.patches"))).isPositive();
    assertThat(r.getProperty("reported.verified")).isEqualTo("5");
    assertThat(reported.get("fake-205").getJsonObject("bench").getLong("seq")).isPositive();
  }

  @Test
  void answersEveryDirectMethodAtOnceWithStatus200AndItsPayload() throws Exception {
    Path ready = dir.resolve("methods-ready");
    Path stop = dir.resolve("methods-stop");
    // The fake hub writes the stop file once every request it sent has its right answer.
    methodsExpected = 20 * METHODS_PER_DEVICE;
    methodsStopFile = stop;

    Properties r =
        run(
            "methods",
            "--devices",
            "20",
            "--first",
            "300",
            "--hold-seconds",
            "30",
            "--ready-file",
            ready.toString(),
            "--stop-file",
            stop.toString());

    assertThat(r.getProperty("status")).isEqualTo("ok");
    assertThat(Files.readString(ready)).contains("connected=20", "subscribed=20");
    assertThat(r.getProperty("methods.answered")).isEqualTo("60");
    assertThat(r.getProperty("methods.malformed")).isEqualTo("0");
    assertThat(methodsEchoed.get()).isEqualTo(60);
    assertThat(methodsWrong.get()).isZero();
    assertThat(Files.exists(stop)).as("stop file written by the fake hub").isTrue();
  }

  /** Runs MqttBench against the fake hub; returns its result file. */
  private static Properties run(String mode, String... more) throws Exception {
    Path results = Files.createTempFile(dir, mode, ".properties");
    String[] common = {
      "--mode",
      mode,
      "--hub-json",
      dir.resolve("hub.json").toString(),
      "--host",
      HOST_NAME,
      "--prefix",
      "fake",
      "--key-seed",
      SEED,
      "--event-loops",
      "2",
      "--timeout-seconds",
      "60",
      "--result-file",
      results.toString()
    };
    String[] args = new String[common.length + more.length];
    System.arraycopy(common, 0, args, 0, common.length);
    System.arraycopy(more, 0, args, common.length, more.length);
    // Later options win: a test may override --prefix or --key-seed.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    MqttBench.run(dedupe(args), new PrintStream(out, true, UTF_8));
    Properties p = new Properties();
    try (var in = Files.newBufferedReader(results)) {
      p.load(in);
    }
    assertThat(p).as("result file; output:%n%s", out.toString(UTF_8)).isNotEmpty();
    return p;
  }

  private static String[] dedupe(String[] args) {
    Map<String, String> values = new java.util.LinkedHashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      values.put(args[i], args[i + 1]);
    }
    return values.entrySet().stream()
        .flatMap(e -> java.util.stream.Stream.of(e.getKey(), e.getValue()))
        .toArray(String[]::new);
  }

  /** One device's connection to the fake hub; runs on the socket's event loop. */
  private static final class FakeSession {
    private final NetSocketInternal socket;
    private String deviceId;

    FakeSession(NetSocketInternal socket) {
      this.socket = socket;
      var pipeline = socket.channelHandlerContext().pipeline();
      pipeline.addBefore("handler", "mqttEncoder", MqttEncoder.INSTANCE);
      pipeline.addBefore("handler", "mqttDecoder", new MqttDecoder());
      socket.messageHandler(
          msg -> {
            try {
              handle((MqttMessage) msg);
            } finally {
              ReferenceCountUtil.release(msg);
            }
          });
    }

    private void handle(MqttMessage m) {
      switch (m.fixedHeader().messageType()) {
        case CONNECT -> onConnect((MqttConnectMessage) m);
        case SUBSCRIBE -> {
          MqttSubscribeMessage sub = (MqttSubscribeMessage) m;
          socket.writeMessage(
              new MqttSubAckMessage(
                  new MqttFixedHeader(
                      MqttMessageType.SUBACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
                  MqttMessageIdVariableHeader.from(sub.variableHeader().messageId()),
                  new MqttSubAckPayload(0)));
          if (sub.payload()
              .topicSubscriptions()
              .get(0)
              .topicName()
              .equals(DeviceTopics.METHOD_REQUEST_FILTER)) {
            sendMethodRequests();
          }
        }
        case PUBLISH -> onPublish((MqttPublishMessage) m);
        case PINGREQ -> socket.writeMessage(MqttMessage.PINGRESP);
        case DISCONNECT -> socket.close();
        default -> socket.close();
      }
    }

    private void onConnect(MqttConnectMessage m) {
      String id = m.payload().clientIdentifier();
      boolean ok;
      try {
        SasToken token = SasToken.parse(new String(m.payload().passwordInBytes(), UTF_8));
        String key =
            token.keyName() == null
                ? Base64.getEncoder().encodeToString(MqttBench.deviceKey(SEED, id))
                : POLICY_KEY;
        ok =
            m.payload().userName().equals(DeviceTopics.userName(HOST_NAME, id))
                && !m.variableHeader().isCleanSession()
                && m.variableHeader().keepAliveTimeSeconds() == 180
                && token.resource().equals(HOST_NAME + "/devices/" + id)
                && SasAuthenticator.signatureMatches(token, key);
      } catch (RuntimeException e) {
        ok = false;
      }
      if (!ok) {
        refusedConnects.incrementAndGet();
      }
      deviceId = id;
      MqttConnAckMessage ack =
          MqttMessageBuilders.connAck()
              .returnCode(
                  ok
                      ? MqttConnectReturnCode.CONNECTION_ACCEPTED
                      : MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD)
              .sessionPresent(false)
              .build();
      socket.writeMessage(ack);
      if (!ok) {
        socket.close();
      }
    }

    private void sendMethodRequests() {
      for (int i = 0; i < METHODS_PER_DEVICE; i++) {
        String rid = Integer.toHexString(deviceId.hashCode()) + "x" + i;
        String payload = new JsonObject().put("n", i).put("device", deviceId).encode();
        methodPayloads.put(rid, payload);
        respond("$iothub/methods/POST/bench/?$rid=" + rid, payload);
      }
    }

    private void onMethodResponse(String topic, String body) {
      String rid = topic.substring(topic.indexOf("$rid=") + 5);
      if (topic.startsWith("$iothub/methods/res/200/?") && body.equals(methodPayloads.get(rid))) {
        if (methodsEchoed.incrementAndGet() == methodsExpected) {
          vertx.fileSystem().writeFile(methodsStopFile.toString(), Buffer.buffer());
        }
      } else {
        methodsWrong.incrementAndGet();
      }
    }

    private void onPublish(MqttPublishMessage m) {
      String topic = m.variableHeader().topicName();
      if (topic.startsWith(DeviceTopics.METHOD_RESPONSE_PREFIX)) {
        onMethodResponse(topic, m.payload().toString(UTF_8));
      } else if (topic.equals(DeviceTopics.telemetryTopic(deviceId))) {
        telemetry.incrementAndGet();
        socket.writeMessage(
            new MqttPubAckMessage(
                new MqttFixedHeader(MqttMessageType.PUBACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
                MqttMessageIdVariableHeader.from(m.variableHeader().packetId())));
      } else if (topic.startsWith(DeviceTopics.REPORTED_PATCH_TOPIC)) {
        String rid = topic.substring(DeviceTopics.REPORTED_PATCH_TOPIC.length());
        JsonObject patch = new JsonObject(m.payload().toString(UTF_8));
        reported.merge(deviceId, patch, (a, b) -> a.copy().mergeIn(b, true));
        int version = versions.merge(deviceId, 1, Integer::sum);
        respond("$iothub/twin/res/204/?$rid=" + rid + "&$version=" + version, "");
      } else if (topic.startsWith(DeviceTopics.TWIN_GET_TOPIC)) {
        String rid = topic.substring(DeviceTopics.TWIN_GET_TOPIC.length());
        JsonObject twin =
            new JsonObject()
                .put("desired", new JsonObject().put("$version", 1))
                .put(
                    "reported",
                    reported
                        .getOrDefault(deviceId, new JsonObject())
                        .copy()
                        .put("$version", versions.getOrDefault(deviceId, 0)));
        respond("$iothub/twin/res/200/?$rid=" + rid, twin.encode());
      } else {
        socket.close();
      }
    }

    private void respond(String topic, String body) {
      socket.writeMessage(
          new MqttPublishMessage(
              new MqttFixedHeader(MqttMessageType.PUBLISH, false, MqttQoS.AT_MOST_ONCE, false, 0),
              new MqttPublishVariableHeader(topic, 0),
              Unpooled.copiedBuffer(body, UTF_8)));
    }
  }
}
