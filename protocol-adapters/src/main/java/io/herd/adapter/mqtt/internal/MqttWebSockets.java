package io.herd.adapter.mqtt.internal;

import io.herd.adapter.common.AdapterServices;
import io.herd.adapter.mqtt.MqttConfig;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns WebSockets of the HTTPS listener into MQTT sessions. */
public final class MqttWebSockets {
  private static final Logger LOG = LoggerFactory.getLogger(MqttWebSockets.class);

  private final Vertx vertx;
  private final AdapterServices services;
  private final MqttConfig config;

  public MqttWebSockets(Vertx vertx, AdapterServices services, MqttConfig config) {
    this.vertx = vertx;
    this.services = services;
    this.config = config;
  }

  public void handle(ServerWebSocket ws) {
    WebSocketTransport transport =
        new WebSocketTransport(ws, MqttTcpListener.maxPacketBytes(config));
    MqttDeviceSession session =
        new MqttDeviceSession(vertx, vertx.getOrCreateContext(), transport, services, config);
    ws.handler(data -> transport.received(data, session::handle));
    ws.closeHandler(v -> session.onTransportClosed());
    ws.exceptionHandler(
        e ->
            LOG.debug(
                "MQTT WebSocket error [remote: {}, error: {}]", ws.remoteAddress(), e.toString()));
  }
}
