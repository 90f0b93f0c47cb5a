package io.herd.adapter.mqtt.internal;

import io.herd.adapter.common.AdapterServices;
import io.herd.adapter.mqtt.MqttConfig;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One MQTT listener per event loop; Vert.x spreads the connections of the shared port over them.
 * Netty's MQTT codec sits in each connection's pipeline, so sessions see whole packets.
 */
public final class MqttVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(MqttVerticle.class);

  /** Room for {@code deviceId/moduleId} with ids of up to 128 characters each. */
  static final int MAX_CLIENT_ID_LENGTH = 257;

  /** A PUBLISH may carry a topic of up to 64 KB besides its payload. */
  static final int TOPIC_ALLOWANCE = 65_536;

  private final NetServerOptions options;
  private final AdapterServices services;
  private final MqttConfig config;
  private NetServer server;

  public MqttVerticle(NetServerOptions options, AdapterServices services, MqttConfig config) {
    this.options = options;
    this.services = services;
    this.config = config;
  }

  /** The decoder's bound on one packet: the payload limit plus a topic, with one byte to spare. */
  public static int maxPacketBytes(MqttConfig config) {
    return config.maxMessageBytes() + TOPIC_ALLOWANCE;
  }

  @Override
  public Future<?> start() {
    server =
        vertx
            .createNetServer(options)
            .connectHandler(
                so -> {
                  NetSocketInternal socket = (NetSocketInternal) so;
                  ChannelPipeline pipeline = socket.channelHandlerContext().pipeline();
                  pipeline.addBefore("handler", "mqttEncoder", MqttEncoder.INSTANCE);
                  pipeline.addBefore(
                      "handler",
                      "mqttDecoder",
                      new MqttDecoder(maxPacketBytes(config), MAX_CLIENT_ID_LENGTH));
                  MqttDeviceSession session =
                      new MqttDeviceSession(
                          vertx, context, new TcpTransport(socket), services, config);
                  socket.messageHandler(session::handle);
                  socket.closeHandler(v -> session.onTransportClosed());
                  socket.exceptionHandler(
                      e ->
                          LOG.debug(
                              "MQTT connection error [remote: {}, error: {}]",
                              socket.remoteAddress(),
                              e.toString()));
                });
    return server.listen();
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
