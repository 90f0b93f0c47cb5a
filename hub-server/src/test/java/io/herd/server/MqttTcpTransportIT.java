package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPubAckMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The MQTT listener's own connection handling (a bare Netty pipeline): packets that arrive while
 * the session stopped reading, a connection's errors staying its own, and the connection count in
 * the Vert.x metrics. Devices here are raw sockets, so that many packets travel in one TCP write.
 */
class MqttTcpTransportIT {
  private static TestHub hub;

  @BeforeAll
  static void start() throws Exception {
    // 10 telemetry messages per second and device, 4 in flight.
    hub = TestHub.start(new HubConfig.DeviceLimits(-1, 256 * 1024, 4, 100, 10, 50));
  }

  @AfterAll
  static void stop() {
    hub.close();
  }

  @BeforeEach
  void noConnectionsLeft() {
    await().atMost(Duration.ofSeconds(10)).until(() -> hub.hub.sessions().connections() == 0);
  }

  @Test
  void packetsOfOneWriteThatArriveWhileReadingIsPausedAreHandledLaterAndInOrder() throws Exception {
    String id = "tr-burst";
    String key = hub.deviceKey(id);
    long before = hub.hub.events().nextSequence();
    try (RawDevice d = RawDevice.connect(id, key)) {
      List<MqttMessage> burst = new ArrayList<>();
      for (int i = 1; i <= 30; i++) {
        burst.add(
            MqttMessageBuilders.publish()
                .topicName("devices/" + id + "/messages/events/n=" + i)
                .qos(MqttQoS.AT_LEAST_ONCE)
                .messageId(i)
                .payload(Unpooled.copiedBuffer("m" + i, StandardCharsets.UTF_8))
                .build());
      }
      long t0 = System.nanoTime();
      // One TCP write: the session pauses after 4 in flight and at the rate of 10/s while the
      // rest of the packets are already decoded.
      d.send(burst);
      List<Integer> acked = new ArrayList<>();
      while (acked.size() < 30) {
        MqttMessage m = d.read(Duration.ofSeconds(15));
        assertThat(m.fixedHeader().messageType()).isEqualTo(MqttMessageType.PUBACK);
        acked.add(((MqttPubAckMessage) m).variableHeader().messageId());
      }
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertThat(acked).isSortedAccordingTo(Integer::compare).doesNotHaveDuplicates();
      // 10 in the bucket, then 20 at 10/s: about 2 s.
      assertThat(ms).isBetween(1_500L, 30_000L);
      assertThat(hub.hub.events().nextSequence() - before).isEqualTo(30);
    }
  }

  @Test
  void aMalformedPacketOrNonTlsBytesCloseOnlyTheirOwnConnection() throws Exception {
    String key = hub.deviceKey("tr-good");
    String badKey = hub.deviceKey("tr-bad");
    try (MqttTestDevice good = MqttTestDevice.connect(hub, "tr-good", key);
        RawDevice bad = RawDevice.connect("tr-bad", badKey);
        Socket plain = new Socket("localhost", hub.hub.mqttPort())) {
      // Packet type 0 is reserved [MQTT-2.2.1].
      bad.out.write(new byte[] {0x00, 0x00});
      bad.out.flush();
      assertThat(bad.readsEndOfStream(Duration.ofSeconds(10))).isTrue();

      plain.setSoTimeout(10_000);
      plain.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      plain.getOutputStream().flush();
      assertThat(endOfStream(plain.getInputStream())).isTrue();

      assertThat(good.client.isConnected()).isTrue();
      good.publish("devices/tr-good/messages/events/", "still here", 1);
    }
  }

  @Test
  void aConnectionWithoutConnectIsClosedAfterTheConnectTimeout() throws Exception {
    SSLSocket s =
        (SSLSocket)
            MqttTestDevice.trusting(hub.hub.caFile()).createSocket("localhost", hub.hub.mqttPort());
    try (s) {
      s.startHandshake();
      long t0 = System.nanoTime();
      s.setSoTimeout(30_000);
      assertThat(endOfStream(s.getInputStream())).isTrue();
      // The hub's connect timeout is 10 s, counted from the end of the TLS handshake.
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isBetween(9_000L, 20_000L);
    }
  }

  @Test
  void mqttConnectionsCountInTheVertxNetServerMetrics() throws Exception {
    String key = hub.deviceKey("tr-metrics");
    double idle = activeNetServerConnections();
    try (RawDevice d = RawDevice.connect("tr-metrics", key)) {
      assertThat(activeNetServerConnections()).isEqualTo(idle + 1);
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(activeNetServerConnections()).isEqualTo(idle));
  }

  private static double activeNetServerConnections() {
    HttpResponse<Buffer> r = Future.await(hub.client.get("/metrics").send());
    Matcher m =
        Pattern.compile("(?m)^vertx_net_server_active_connections(\\{[^}]*})? (\\S+)$")
            .matcher(r.bodyAsString());
    double sum = 0;
    while (m.find()) {
      sum += Double.parseDouble(m.group(2));
    }
    return sum;
  }

  private static boolean endOfStream(InputStream in) throws IOException {
    try {
      while (true) {
        if (in.read() < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      // A reset is a close too.
      return true;
    }
  }

  /** An MQTT device over a plain TLS socket, encoding and decoding with Netty's codec. */
  private static final class RawDevice implements AutoCloseable {
    final SSLSocket socket;
    final OutputStream out;
    final InputStream in;
    final EmbeddedChannel codec = new EmbeddedChannel(new MqttDecoder(), MqttEncoder.INSTANCE);

    private RawDevice(SSLSocket socket) throws IOException {
      this.socket = socket;
      this.out = socket.getOutputStream();
      this.in = socket.getInputStream();
    }

    static RawDevice connect(String id, String key) throws Exception {
      SSLSocket s =
          (SSLSocket)
              MqttTestDevice.trusting(hub.hub.caFile())
                  .createSocket("localhost", hub.hub.mqttPort());
      s.startHandshake();
      RawDevice d = new RawDevice(s);
      d.send(
          List.of(
              MqttMessageBuilders.connect()
                  .clientId(id)
                  .protocolVersion(MqttVersion.MQTT_3_1_1)
                  .cleanSession(false)
                  .keepAlive(60)
                  .username("localhost/" + id + "/?api-version=2021-04-12")
                  .password(MqttTestDevice.deviceToken(id, key).getBytes(StandardCharsets.UTF_8))
                  .build()));
      MqttMessage ack = d.read(Duration.ofSeconds(10));
      assertThat(((MqttConnAckMessage) ack).variableHeader().connectReturnCode())
          .isEqualTo(MqttConnectReturnCode.CONNECTION_ACCEPTED);
      return d;
    }

    /** Writes the packets in one write. */
    void send(List<MqttMessage> packets) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      for (MqttMessage p : packets) {
        codec.writeOutbound(p);
        ByteBuf b;
        while ((b = codec.readOutbound()) != null) {
          bytes.write(ByteBufUtil.getBytes(b));
          b.release();
        }
      }
      out.write(bytes.toByteArray());
      out.flush();
    }

    MqttMessage read(Duration timeout) throws IOException {
      socket.setSoTimeout((int) timeout.toMillis());
      byte[] buf = new byte[4096];
      while (true) {
        MqttMessage m = codec.readInbound();
        if (m != null) {
          return m;
        }
        int n = in.read(buf);
        if (n < 0) {
          throw new IOException("the hub closed the connection");
        }
        codec.writeInbound(Unpooled.wrappedBuffer(buf, 0, n));
      }
    }

    boolean readsEndOfStream(Duration timeout) throws IOException {
      socket.setSoTimeout((int) timeout.toMillis());
      return endOfStream(in);
    }

    @Override
    public void close() throws IOException {
      codec.finishAndReleaseAll();
      socket.close();
    }
  }
}
