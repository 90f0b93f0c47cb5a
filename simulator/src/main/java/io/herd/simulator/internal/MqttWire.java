package io.herd.simulator.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttSubscribeMessage;
import io.netty.handler.codec.mqtt.MqttSubscribePayload;
import io.netty.handler.codec.mqtt.MqttTopicSubscription;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.vertx.core.internal.net.NetSocketInternal;
import java.util.List;

/**
 * The client side of MQTT over a Vert.x socket, as the load generator and the simulator use it:
 * Netty's MQTT codec in the socket's pipeline ({@link ClientTls} for TLS) and the CONNECT the Azure
 * SDKs send (azure-iothub-wire.md §2.1).
 */
public final class MqttWire {

  /** IoT Hub's largest message plus headroom. */
  public static final int MAX_PACKET_BYTES = 256 * 1024 + 4096;

  public static final MqttFixedHeader PUBLISH_QOS0 =
      new MqttFixedHeader(MqttMessageType.PUBLISH, false, MqttQoS.AT_MOST_ONCE, false, 0);
  public static final MqttFixedHeader PUBLISH_QOS1 =
      new MqttFixedHeader(MqttMessageType.PUBLISH, false, MqttQoS.AT_LEAST_ONCE, false, 0);
  // [MQTT-3.8.1-1] SUBSCRIBE has the fixed-header flags 0010.
  private static final MqttFixedHeader SUBSCRIBE =
      new MqttFixedHeader(MqttMessageType.SUBSCRIBE, false, MqttQoS.AT_LEAST_ONCE, false, 0);
  private static final MqttFixedHeader PUBACK =
      new MqttFixedHeader(MqttMessageType.PUBACK, false, MqttQoS.AT_MOST_ONCE, false, 0);

  private MqttWire() {}

  /** Puts Netty's MQTT encoder and decoder in front of the socket's handler. */
  public static void installCodec(NetSocketInternal socket) {
    ChannelPipeline pipeline = socket.channelHandlerContext().pipeline();
    pipeline.addBefore("handler", "mqttEncoder", MqttEncoder.INSTANCE);
    pipeline.addBefore("handler", "mqttDecoder", new MqttDecoder(MAX_PACKET_BYTES));
  }

  /**
   * A CONNECT as the SDKs send it: MQTT 3.1.1, client id = device id, clean session off, the IoT
   * Hub user name and {@code password} (a SAS token).
   */
  public static MqttConnectMessage connect(
      String hostName, String deviceId, String password, int keepAliveSeconds) {
    return MqttMessageBuilders.connect()
        .protocolVersion(MqttVersion.MQTT_3_1_1)
        .clientId(deviceId)
        .cleanSession(false)
        .keepAlive(keepAliveSeconds)
        .hasUser(true)
        .username(DeviceTopics.userName(hostName, deviceId))
        .hasPassword(true)
        .password(password.getBytes(UTF_8))
        .build();
  }

  public static MqttSubscribeMessage subscribe(
      int packetId, List<MqttTopicSubscription> subscriptions) {
    return new MqttSubscribeMessage(
        SUBSCRIBE,
        MqttMessageIdVariableHeader.from(packetId),
        new MqttSubscribePayload(subscriptions));
  }

  public static MqttMessage puback(int packetId) {
    return new MqttMessage(PUBACK, MqttMessageIdVariableHeader.from(packetId));
  }
}
