package io.herd.simulator.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.herd.simulator.internal.DeviceTopics.MethodRequest;
import io.herd.simulator.internal.DeviceTopics.TwinResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttSubAckMessage;
import io.netty.handler.codec.mqtt.MqttTopicSubscription;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Vertx;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import java.util.List;

/**
 * The MQTT {@link DeviceConnection}: TCP + TLS, CONNECT with a SAS token as the Node SDK sends it
 * (wire §2.1), SUBSCRIBE to twin responses, desired-property notifications and direct methods, then
 * a twin GET. Telemetry goes with QoS 1, the window slot as packet id.
 */
public final class MqttDeviceConnection implements DeviceConnection {

  /** The Node SDK's keep-alive (wire §2.1). */
  public static final int KEEP_ALIVE_SECONDS = 180;

  private static final String GET_RID = "get";
  private static final int SUBSCRIBE_PACKET_ID = 1;
  private static final List<MqttTopicSubscription> SUBSCRIPTIONS =
      List.of(
          new MqttTopicSubscription(DeviceTopics.TWIN_RESPONSE_FILTER, MqttQoS.AT_MOST_ONCE),
          new MqttTopicSubscription(DeviceTopics.DESIRED_FILTER, MqttQoS.AT_MOST_ONCE),
          new MqttTopicSubscription(DeviceTopics.METHOD_REQUEST_FILTER, MqttQoS.AT_MOST_ONCE));

  /** The steps of the handshake; then {@link ConnectionLife#isOnline}. */
  private enum Step {
    CONNECTING,
    SUBSCRIBING,
    READING_TWIN
  }

  private final String deviceId;
  private final Listener listener;
  private final ConnectionLife life;
  // Telemetry with an empty property bag but for its content type and encoding (wire §2.4).
  private final String telemetryTopic;
  private Step step = Step.CONNECTING;
  private NetSocketInternal socket;

  public MqttDeviceConnection(Vertx vertx, String deviceId, Listener listener) {
    this.deviceId = deviceId;
    this.listener = listener;
    this.life = new ConnectionLife(vertx, listener);
    this.telemetryTopic =
        DeviceTopics.telemetryTopic(deviceId) + "%24.ct=application%2Fjson&%24.ce=utf-8";
  }

  /**
   * Opens connections to {@code target}'s MQTT port on {@code net} (TLS client options), each with
   * {@code timeoutMs} for its handshake.
   */
  public static Opener opener(Vertx vertx, NetClient net, HubTarget target, long timeoutMs) {
    return (deviceId, sasToken, listener) -> {
      MqttDeviceConnection c = new MqttDeviceConnection(vertx, deviceId, listener);
      c.open(
          net,
          target.host(),
          target.mqttPort(),
          target.hostName(),
          sasToken,
          KEEP_ALIVE_SECONDS,
          timeoutMs);
      return c;
    };
  }

  /**
   * Connects to {@code host:port} and signs in as the device; the handshake (up to the twin) must
   * finish within {@code timeoutMs}, or the connection closes with a reason.
   */
  public void open(
      NetClient net,
      String host,
      int port,
      String hostName,
      String password,
      int keepAliveSeconds,
      long timeoutMs) {
    life.begin(timeoutMs, this::awaited);
    net.connect(port, host)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                life.fail("TCP/TLS: " + ConnectionLife.describe(ar.cause()));
                return;
              }
              NetSocketInternal s = (NetSocketInternal) ar.result();
              if (life.hasEnded()) {
                s.close(); // timed out or closed meanwhile
                return;
              }
              socket = s;
              life.opened(s::close);
              MqttWire.installCodec(s);
              s.messageHandler(this::onMessage);
              s.exceptionHandler(e -> life.reason(ConnectionLife.describe(e)));
              s.closeHandler(v -> life.ended());
              s.writeMessage(MqttWire.connect(hostName, deviceId, password, keepAliveSeconds));
            });
  }

  @Override
  public boolean isOnline() {
    return life.isOnline();
  }

  @Override
  public void report(String rid, JsonObject patch) {
    publish(DeviceTopics.REPORTED_PATCH_TOPIC + rid, bytes(patch), 0);
  }

  /** Telemetry with QoS 1 and {@code tag} as packet id; its PUBACK comes to the listener. */
  @Override
  public boolean telemetry(byte[] body, int tag) {
    if (!life.isOnline()) {
      return false;
    }
    socket.writeMessage(
        new MqttPublishMessage(
            MqttWire.PUBLISH_QOS1,
            new MqttPublishVariableHeader(telemetryTopic, tag),
            Unpooled.wrappedBuffer(body)));
    return true;
  }

  @Override
  public void answer(String rid, int status, JsonObject payload) {
    publish(
        DeviceTopics.methodResponseTopic(rid, status),
        payload == null ? Unpooled.EMPTY_BUFFER : bytes(payload),
        0);
  }

  /** Keeps the connection alive (MQTT-3.1.2-23): a PINGREQ. */
  @Override
  public void ping() {
    if (life.isOnline()) {
      socket.writeMessage(MqttMessage.PINGREQ);
    }
  }

  /** MQTT renews a token only by connecting again with it (wire §2.1). */
  @Override
  public boolean renew(String sasToken) {
    return false;
  }

  @Override
  public void close(boolean graceful) {
    boolean online = life.isOnline();
    if (life.closeByUs()) {
      if (graceful && online) {
        socket.writeMessage(MqttMessage.DISCONNECT);
      }
      socket.close();
    }
  }

  private void publish(String topic, ByteBuf body, int packetId) {
    if (!life.isOnline()) {
      return;
    }
    socket.writeMessage(
        new MqttPublishMessage(
            MqttWire.PUBLISH_QOS0, new MqttPublishVariableHeader(topic, packetId), body));
  }

  private void onMessage(Object msg) {
    try {
      if (!(msg instanceof MqttMessage m)) {
        return;
      }
      if (m.decoderResult().isFailure()) {
        life.fail("undecodable packet: " + ConnectionLife.describe(m.decoderResult().cause()));
        return;
      }
      switch (m.fixedHeader().messageType()) {
        case CONNACK -> onConnack((MqttConnAckMessage) m);
        case SUBACK -> onSuback((MqttSubAckMessage) m);
        case PUBLISH -> onPublish((MqttPublishMessage) m);
        case PUBACK -> {
          if (life.isOnline()) {
            listener.onTelemetryAcked(
                ((MqttMessageIdVariableHeader) m.variableHeader()).messageId());
          }
        }
        default -> {
          // PINGRESP; nothing else comes to a client.
        }
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onConnack(MqttConnAckMessage m) {
    if (step != Step.CONNECTING) {
      return;
    }
    MqttConnectReturnCode rc = m.variableHeader().connectReturnCode();
    if (rc != MqttConnectReturnCode.CONNECTION_ACCEPTED) {
      life.fail("CONNACK " + rc);
      return;
    }
    listener.onConnected(life.sinceBeginNanos());
    step = Step.SUBSCRIBING;
    socket.writeMessage(MqttWire.subscribe(SUBSCRIBE_PACKET_ID, SUBSCRIPTIONS));
  }

  private void onSuback(MqttSubAckMessage m) {
    if (step != Step.SUBSCRIBING) {
      return;
    }
    List<Integer> granted = m.payload().grantedQoSLevels();
    if (granted.size() != SUBSCRIPTIONS.size() || granted.stream().anyMatch(q -> q >= 0x80)) {
      life.fail("SUBACK refused a subscription: " + granted);
      return;
    }
    step = Step.READING_TWIN;
    socket.writeMessage(
        new MqttPublishMessage(
            MqttWire.PUBLISH_QOS0,
            new MqttPublishVariableHeader(DeviceTopics.TWIN_GET_TOPIC + GET_RID, 0),
            Unpooled.EMPTY_BUFFER));
  }

  private void onPublish(MqttPublishMessage m) {
    String topic = m.variableHeader().topicName();
    if (topic.startsWith(DeviceTopics.TWIN_RESPONSE_PREFIX)) {
      TwinResponse r = TwinResponse.parse(topic);
      if (r == null) {
        life.fail("malformed twin response topic " + topic);
      } else if (life.isOnline()) {
        listener.onTwinResponse(r.rid(), r.status());
      } else if (step == Step.READING_TWIN && GET_RID.equals(r.rid())) {
        onTwin(r, m);
      }
    } else if (topic.startsWith(DeviceTopics.DESIRED_PREFIX)) {
      long version = DeviceTopics.desiredVersion(topic);
      Object body = json(m);
      if (version < 0 || !(body instanceof JsonObject patch)) {
        life.fail("malformed desired-properties notification " + topic);
      } else if (life.isOnline()) {
        listener.onDesired(version, patch);
      }
    } else if (topic.startsWith(DeviceTopics.METHOD_REQUEST_PREFIX)) {
      MethodRequest r = MethodRequest.parse(topic);
      if (r == null) {
        life.fail("malformed method request topic " + topic);
      } else if (life.isOnline()) {
        listener.onMethod(r.name(), r.rid(), json(m));
      }
    }
    // Anything else (cloud-to-device messages) the device did not subscribe to.
  }

  private void onTwin(TwinResponse r, MqttPublishMessage m) {
    if (r.status() != 200 || !(json(m) instanceof JsonObject twin)) {
      life.fail("twin GET answered " + r.status() + ": " + m.payload().toString(UTF_8));
      return;
    }
    life.online();
    listener.onOnline(twin);
  }

  private static ByteBuf bytes(JsonObject json) {
    return Unpooled.wrappedBuffer(json.toBuffer().getBytes());
  }

  /** The body as JSON (an object, array, string, number or boolean), or null. */
  private static Object json(MqttPublishMessage m) {
    return JsonBody.parse(m.payload().toString(UTF_8));
  }

  private String awaited() {
    return switch (step) {
      case CONNECTING -> socket == null ? "TCP/TLS connection" : "CONNACK";
      case SUBSCRIBING -> "SUBACK";
      case READING_TWIN -> "twin GET response";
    };
  }
}
