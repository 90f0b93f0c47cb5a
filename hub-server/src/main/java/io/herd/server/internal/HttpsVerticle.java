package io.herd.server.internal;

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
  private HttpServer server;

  /**
   * @param mqttOverWebSocket serves WebSockets on {@link MqttAdapter#WEBSOCKET_PATH}
   */
  public HttpsVerticle(
      HttpServerOptions options,
      Function<io.vertx.core.Vertx, Router> routerFactory,
      Handler<ServerWebSocket> mqttOverWebSocket) {
    this.options = options;
    this.routerFactory = routerFactory;
    this.mqttOverWebSocket = mqttOverWebSocket;
  }

  @Override
  public Future<?> start() {
    server =
        vertx
            .createHttpServer(options)
            .requestHandler(routerFactory.apply(vertx))
            .webSocketHandshakeHandler(MqttAdapter::onHandshake)
            .webSocketHandler(mqttOverWebSocket);
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
