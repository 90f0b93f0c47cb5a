package io.herd.adapter.amqp.internal;

import io.herd.adapter.amqp.AmqpConfig;
import io.herd.adapter.amqp.CloudToDeviceService;
import io.herd.adapter.common.AdapterServices;
import io.herd.registry.SasAuthenticator;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns WebSockets of the HTTPS listener into AMQP connections. */
public final class AmqpWebSockets {
  private static final Logger LOG = LoggerFactory.getLogger(AmqpWebSockets.class);

  private final Vertx vertx;
  private final AdapterServices services;
  private final SasAuthenticator serviceAuthenticator;
  private final CloudToDeviceService cloudToDevice;
  private final AmqpConfig config;

  public AmqpWebSockets(
      Vertx vertx,
      AdapterServices services,
      SasAuthenticator serviceAuthenticator,
      CloudToDeviceService cloudToDevice,
      AmqpConfig config) {
    this.vertx = vertx;
    this.services = services;
    this.serviceAuthenticator = serviceAuthenticator;
    this.cloudToDevice = cloudToDevice;
    this.config = config;
  }

  /** Serves {@code ws} as one AMQP connection; runs on the WebSocket's context. */
  public void handle(ServerWebSocket ws) {
    AmqpEngine engine =
        new AmqpEngine(vertx, vertx.getOrCreateContext(), new WebSocketTransport(ws), config);
    AmqpConnection connection =
        new AmqpConnection(vertx, engine, services, serviceAuthenticator, cloudToDevice, config);
    ws.handler(engine::received);
    ws.closeHandler(v -> engine.onTransportClosed());
    ws.exceptionHandler(
        e ->
            LOG.debug(
                "AMQP WebSocket error [remote: {}, error: {}]", ws.remoteAddress(), e.toString()));
    connection.start();
  }
}
