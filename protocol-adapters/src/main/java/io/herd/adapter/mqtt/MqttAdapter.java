package io.herd.adapter.mqtt;

import io.herd.adapter.common.AdapterServices;
import io.herd.adapter.mqtt.internal.MqttVerticle;
import io.herd.adapter.mqtt.internal.MqttWebSockets;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
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

  private final Vertx vertx;
  private final List<String> deployments;
  private final MqttWebSockets webSockets;

  private MqttAdapter(Vertx vertx, List<String> deployments, MqttWebSockets webSockets) {
    this.vertx = vertx;
    this.deployments = deployments;
    this.webSockets = webSockets;
  }

  /**
   * Starts the listeners.
   *
   * @param listeners one server options per listener (TLS and optionally plain), each with its
   *     fixed port: the instances of one listener share it
   * @param instances listener instances per port, normally one per event loop
   */
  public static Future<MqttAdapter> start(
      Vertx vertx,
      MqttConfig config,
      AdapterServices services,
      List<NetServerOptions> listeners,
      int instances) {
    List<Future<String>> deployed = new ArrayList<>();
    for (NetServerOptions options : listeners) {
      deployed.add(
          vertx.deployVerticle(
              () -> new MqttVerticle(new NetServerOptions(options), services, config),
              new DeploymentOptions().setInstances(instances)));
    }
    return Future.all(deployed)
        .map(
            all -> {
              List<String> ids = new ArrayList<>();
              for (Future<String> f : deployed) {
                ids.add(f.result());
              }
              return new MqttAdapter(vertx, ids, new MqttWebSockets(vertx, services, config));
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
    return MqttVerticle.maxPacketBytes(config);
  }

  public Future<Void> close() {
    List<Future<Void>> undeployed = new ArrayList<>();
    for (String id : deployments) {
      undeployed.add(vertx.undeploy(id));
    }
    return Future.all(undeployed).mapEmpty();
  }
}
