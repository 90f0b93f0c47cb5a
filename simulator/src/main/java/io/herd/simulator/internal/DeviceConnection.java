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
 * One MQTT connection of a simulated device, from TCP connect to close, owned by the device's event
 * loop: TCP + TLS, CONNECT with a SAS token, SUBSCRIBE to twin responses, desired-property
 * notifications and direct methods, then a twin GET (azure-iothub-wire.md §2.5: subscribe to
 * desired first, then read the twin). The connection is "online" once the twin arrived; what comes
 * in afterwards goes to the {@link Listener}. A connection is used once: the device opens a new one
 * to reconnect.
 */
public final class DeviceConnection {

  /** Where a connection reports to; every call comes on the device's event loop. */
  public interface Listener {
    /** CONNACK accepted, {@code connectNanos} after the TCP connect began. */
    void onConnected(long connectNanos);

    /** Subscribed and the twin read: {@code {"desired": {...}, "reported": {...}}}. */
    void onOnline(JsonObject twinProperties);

    /**
     * The connection is closed; {@code reason} says why when it was not this side's {@link #close},
     * null otherwise. {@code failedConnect}: it never came online.
     */
    void onClosed(String reason, boolean failedConnect);

    void onTwinResponse(TwinResponse response);

    void onDesired(long version, JsonObject patch);

    /** A method request; {@code payload} is its JSON body, or null when empty or not JSON. */
    void onMethod(MethodRequest request, Object payload);

    void onPuback(int packetId);
  }

  private static final String GET_RID = "get";
  private static final int SUBSCRIBE_PACKET_ID = 1;
  private static final List<MqttTopicSubscription> SUBSCRIPTIONS =
      List.of(
          new MqttTopicSubscription(DeviceTopics.TWIN_RESPONSE_FILTER, MqttQoS.AT_MOST_ONCE),
          new MqttTopicSubscription(DeviceTopics.DESIRED_FILTER, MqttQoS.AT_MOST_ONCE),
          new MqttTopicSubscription(DeviceTopics.METHOD_REQUEST_FILTER, MqttQoS.AT_MOST_ONCE));

  private enum State {
    CONNECTING,
    SUBSCRIBING,
    READING_TWIN,
    ONLINE,
    CLOSED
  }

  private final Vertx vertx;
  private final String deviceId;
  private final Listener listener;
  private State state = State.CONNECTING;
  private NetSocketInternal socket;
  private long startNanos;
  private long handshakeTimer = -1;
  private String closeReason;
  private boolean closedByUs;

  public DeviceConnection(Vertx vertx, String deviceId, Listener listener) {
    this.vertx = vertx;
    this.deviceId = deviceId;
    this.listener = listener;
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
    startNanos = System.nanoTime();
    handshakeTimer =
        vertx.setTimer(
            timeoutMs,
            t -> {
              handshakeTimer = -1;
              if (state != State.ONLINE && state != State.CLOSED) {
                fail("no " + awaited() + " within " + timeoutMs + " ms");
              }
            });
    net.connect(port, host)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                finish("TCP/TLS: " + describe(ar.cause()));
                return;
              }
              NetSocketInternal s = (NetSocketInternal) ar.result();
              if (state == State.CLOSED) {
                s.close(); // timed out or closed meanwhile
                return;
              }
              socket = s;
              MqttWire.installCodec(s);
              s.messageHandler(this::onMessage);
              s.exceptionHandler(
                  e -> closeReason = closeReason == null ? describe(e) : closeReason);
              s.closeHandler(v -> finish(closeReason == null ? "closed by the hub" : closeReason));
              s.writeMessage(MqttWire.connect(hostName, deviceId, password, keepAliveSeconds));
            });
  }

  public boolean isOnline() {
    return state == State.ONLINE;
  }

  /** Sends a reported-properties patch with {@code rid}; the answer comes to the listener. */
  public void report(String rid, JsonObject patch) {
    publish(DeviceTopics.REPORTED_PATCH_TOPIC + rid, bytes(patch), 0);
  }

  /** Sends telemetry with QoS 1 and {@code packetId}; its PUBACK comes to the listener. */
  public void telemetry(String topic, ByteBuf body, int packetId) {
    if (state != State.ONLINE) {
      body.release();
      return;
    }
    socket.writeMessage(
        new MqttPublishMessage(
            MqttWire.PUBLISH_QOS1, new MqttPublishVariableHeader(topic, packetId), body));
  }

  /** Answers a direct method. */
  public void answer(MethodRequest request, int status, JsonObject payload) {
    publish(
        request.responseTopic(status), payload == null ? Unpooled.EMPTY_BUFFER : bytes(payload), 0);
  }

  /** Keeps the connection alive (MQTT-3.1.2-23): a PINGREQ. */
  public void ping() {
    if (state == State.ONLINE) {
      socket.writeMessage(MqttMessage.PINGREQ);
    }
  }

  /**
   * Closes the connection; {@code graceful} sends DISCONNECT first, otherwise the socket just goes
   * away, as when a device loses its network. The listener hears {@code onClosed} with a null
   * reason.
   */
  public void close(boolean graceful) {
    if (state == State.CLOSED) {
      return;
    }
    closedByUs = true;
    if (socket == null) {
      finish(null);
      return;
    }
    if (graceful && state == State.ONLINE) {
      socket.writeMessage(MqttMessage.DISCONNECT);
    }
    socket.close();
  }

  private void publish(String topic, ByteBuf body, int packetId) {
    if (state != State.ONLINE) {
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
        fail("undecodable packet: " + describe(m.decoderResult().cause()));
        return;
      }
      switch (m.fixedHeader().messageType()) {
        case CONNACK -> onConnack((MqttConnAckMessage) m);
        case SUBACK -> onSuback((MqttSubAckMessage) m);
        case PUBLISH -> onPublish((MqttPublishMessage) m);
        case PUBACK -> {
          if (state == State.ONLINE) {
            listener.onPuback(((MqttMessageIdVariableHeader) m.variableHeader()).messageId());
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
    if (state != State.CONNECTING) {
      return;
    }
    MqttConnectReturnCode rc = m.variableHeader().connectReturnCode();
    if (rc != MqttConnectReturnCode.CONNECTION_ACCEPTED) {
      fail("CONNACK " + rc);
      return;
    }
    listener.onConnected(System.nanoTime() - startNanos);
    state = State.SUBSCRIBING;
    socket.writeMessage(MqttWire.subscribe(SUBSCRIBE_PACKET_ID, SUBSCRIPTIONS));
  }

  private void onSuback(MqttSubAckMessage m) {
    if (state != State.SUBSCRIBING) {
      return;
    }
    List<Integer> granted = m.payload().grantedQoSLevels();
    if (granted.size() != SUBSCRIPTIONS.size() || granted.stream().anyMatch(q -> q >= 0x80)) {
      fail("SUBACK refused a subscription: " + granted);
      return;
    }
    state = State.READING_TWIN;
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
        fail("malformed twin response topic " + topic);
      } else if (state == State.READING_TWIN && GET_RID.equals(r.rid())) {
        onTwin(r, m);
      } else if (state == State.ONLINE) {
        listener.onTwinResponse(r);
      }
    } else if (topic.startsWith(DeviceTopics.DESIRED_PREFIX)) {
      long version = DeviceTopics.desiredVersion(topic);
      Object body = json(m);
      if (version < 0 || !(body instanceof JsonObject patch)) {
        fail("malformed desired-properties notification " + topic);
      } else if (state == State.ONLINE) {
        listener.onDesired(version, patch);
      }
    } else if (topic.startsWith(DeviceTopics.METHOD_REQUEST_PREFIX)) {
      MethodRequest r = MethodRequest.parse(topic);
      if (r == null) {
        fail("malformed method request topic " + topic);
      } else if (state == State.ONLINE) {
        listener.onMethod(r, json(m));
      }
    }
    // Anything else (cloud-to-device messages) the device did not subscribe to.
  }

  private void onTwin(TwinResponse r, MqttPublishMessage m) {
    if (r.status() != 200 || !(json(m) instanceof JsonObject twin)) {
      fail("twin GET answered " + r.status() + ": " + m.payload().toString(UTF_8));
      return;
    }
    state = State.ONLINE;
    cancelHandshakeTimer();
    listener.onOnline(twin);
  }

  private static ByteBuf bytes(JsonObject json) {
    return Unpooled.wrappedBuffer(json.toBuffer().getBytes());
  }

  /** The body as JSON (an object, array, string, number or boolean), or null. */
  private static Object json(MqttPublishMessage m) {
    String text = m.payload().toString(UTF_8).trim();
    if (text.isEmpty()) {
      return null;
    }
    try {
      return io.vertx.core.json.Json.decodeValue(text);
    } catch (RuntimeException e) {
      return null;
    }
  }

  private String awaited() {
    return switch (state) {
      case CONNECTING -> socket == null ? "TCP/TLS connection" : "CONNACK";
      case SUBSCRIBING -> "SUBACK";
      default -> "twin GET response";
    };
  }

  private void fail(String reason) {
    closeReason = reason;
    if (socket == null) {
      finish(reason);
    } else {
      socket.close();
    }
  }

  private void finish(String reason) {
    if (state == State.CLOSED) {
      return;
    }
    boolean failedConnect = state != State.ONLINE;
    state = State.CLOSED;
    cancelHandshakeTimer();
    listener.onClosed(closedByUs ? null : reason, failedConnect);
  }

  private void cancelHandshakeTimer() {
    if (handshakeTimer >= 0) {
      vertx.cancelTimer(handshakeTimer);
      handshakeTimer = -1;
    }
  }

  private static String describe(Throwable t) {
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }
}
