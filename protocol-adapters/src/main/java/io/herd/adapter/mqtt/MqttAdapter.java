package io.herd.adapter.mqtt;

import io.herd.adapter.common.AdapterServices;
import io.herd.adapter.mqtt.internal.MqttTcpListener;
import io.herd.adapter.mqtt.internal.MqttWebSockets;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.net.NetServerOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * The MQTT device endpoint: listeners on the MQTT port (TLS) and, when configured, a plain-TCP
 * port, and the WebSocket handler the HTTPS listener serves at {@value #WEBSOCKET_PATH}.
 */
public final class MqttAdapter {
  /** Where the SDKs open MQTT over WebSocket (wire §2.8). */
  public static final String WEBSOCKET_PATH = "/$iothub/websocket";

  /** The WebSocket sub-protocol they ask for. */
  public static final String WEBSOCKET_SUBPROTOCOL = "mqtt";

  private final List<MqttTcpListener> listeners;
  private final MqttWebSockets webSockets;

  private MqttAdapter(List<MqttTcpListener> listeners, MqttWebSockets webSockets) {
    this.listeners = listeners;
    this.webSockets = webSockets;
  }

  /**
   * Starts the listeners: each serves its port on all of Vert.x's event loops, a connection staying
   * on the loop that accepted it.
   *
   * @param listeners one server options per listener (TLS and optionally plain), each with a fixed
   *     host and port; of the options only what a device listener needs is supported (socket
   *     options, TLS without SNI or ALPN), others make the start fail
   */
  public static Future<MqttAdapter> start(
      Vertx vertx, MqttConfig config, AdapterServices services, List<NetServerOptions> listeners) {
    VertxInternal internal = (VertxInternal) vertx;
    MqttTcpListener.EventLoopContexts contexts = new MqttTcpListener.EventLoopContexts(internal);
    List<Future<MqttTcpListener>> started = new ArrayList<>();
    for (NetServerOptions options : listeners) {
      started.add(
          MqttTcpListener.start(
              internal, new NetServerOptions(options), contexts, services, config));
    }
    return Future.join(started)
        .transform(
            all -> {
              List<MqttTcpListener> up = new ArrayList<>();
              for (Future<MqttTcpListener> f : started) {
                if (f.succeeded()) {
                  up.add(f.result());
                }
              }
              MqttAdapter adapter =
                  new MqttAdapter(up, new MqttWebSockets(vertx, services, config));
              if (all.succeeded()) {
                return Future.succeededFuture(adapter);
              }
              // Close what did start, so a failed start leaves no port bound.
              return adapter.close().transform(closed -> Future.failedFuture(all.cause()));
            });
  }

  /** Accepts WebSocket handshakes on {@value #WEBSOCKET_PATH} only. */
  public static void onHandshake(ServerWebSocketHandshake handshake) {
    if (WEBSOCKET_PATH.equals(handshake.path())) {
      handshake.accept();
    } else {
      handshake.reject(404);
    }
  }

  /** Serves an accepted WebSocket as an MQTT connection; runs on the WebSocket's context. */
  public Handler<ServerWebSocket> webSocketHandler() {
    return webSockets::handle;
  }

  /** The largest WebSocket frame and message an MQTT packet may need. */
  public static int maxWebSocketBytes(MqttConfig config) {
    return MqttTcpListener.maxPacketBytes(config);
  }

  public Future<Void> close() {
    List<Future<Void>> closed = new ArrayList<>();
    for (MqttTcpListener listener : listeners) {
      closed.add(listener.close());
    }
    return Future.all(closed).mapEmpty();
  }
}
