package io.herd.server.internal;

import io.herd.adapter.amqp.AmqpAdapter;
import io.herd.adapter.mqtt.MqttAdapter;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.ext.web.Router;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One HTTPS listener per event loop; Vert.x spreads connections of the shared port over them.
 * Stopping lets requests in flight finish for a few seconds before connections close.
 */
public final class HttpsVerticle extends VerticleBase {
  private static final long SHUTDOWN_GRACE_SECONDS = 10;

  private final HttpServerOptions options;
  private final Function<io.vertx.core.Vertx, Router> routerFactory;
  private final Handler<ServerWebSocket> mqttOverWebSocket;
  private final Handler<ServerWebSocket> amqpOverWebSocket;
  private HttpServer server;

  /**
   * @param mqttOverWebSocket serves WebSockets on {@link MqttAdapter#WEBSOCKET_PATH}
   * @param amqpOverWebSocket serves those on the same path whose client chose the sub-protocol
   *     {@link AmqpAdapter#WEBSOCKET_SUBPROTOCOL} (wire §10.4)
   */
  public HttpsVerticle(
      HttpServerOptions options,
      Function<io.vertx.core.Vertx, Router> routerFactory,
      Handler<ServerWebSocket> mqttOverWebSocket,
      Handler<ServerWebSocket> amqpOverWebSocket) {
    this.options = options;
    this.routerFactory = routerFactory;
    this.mqttOverWebSocket = mqttOverWebSocket;
    this.amqpOverWebSocket = amqpOverWebSocket;
  }

  @Override
  public Future<?> start() {
    server =
        vertx
            .createHttpServer(options)
            .requestHandler(routerFactory.apply(vertx))
            .webSocketHandshakeHandler(MqttAdapter::onHandshake)
            .webSocketHandler(
                ws -> {
                  if (AmqpAdapter.WEBSOCKET_SUBPROTOCOL.equals(ws.subProtocol())) {
                    amqpOverWebSocket.handle(ws);
                  } else {
                    mqttOverWebSocket.handle(ws);
                  }
                });
    return server.listen();
  }

  @Override
  public Future<?> stop() {
    return server == null
        ? Future.succeededFuture()
        : server.shutdown(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS);
  }

  public int actualPort() {
    return server.actualPort();
  }
}
