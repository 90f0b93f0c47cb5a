package io.herd.adapter.amqp;

import io.herd.adapter.amqp.internal.AmqpVerticle;
import io.herd.adapter.amqp.internal.AmqpWebSockets;
import io.herd.adapter.common.AdapterServices;
import io.herd.registry.SasAuthenticator;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.net.NetServerOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * The AMQP 1.0 endpoint (azure-iothub-wire.md §3): listeners on the AMQP port (TLS) and, when
 * configured, a plain-TCP port, and the handler for AMQP over WebSocket, which the HTTPS listener
 * serves at {@code /$iothub/websocket} to clients asking for {@value #WEBSOCKET_SUBPROTOCOL}.
 * Devices authenticate with SASL PLAIN, put-tokens on {@code $cbs} (with or without a SASL layer)
 * or their TLS client certificate; the service with a policy token on {@code $cbs}.
 */
public final class AmqpAdapter {
  /** The WebSocket sub-protocol of AMQP over WebSocket (wire §3.1). */
  public static final String WEBSOCKET_SUBPROTOCOL = "AMQPWSB10";

  private final Vertx vertx;
  private final List<String> deployments;
  private final AmqpWebSockets webSockets;

  private AmqpAdapter(Vertx vertx, List<String> deployments, AmqpWebSockets webSockets) {
    this.vertx = vertx;
    this.deployments = deployments;
    this.webSockets = webSockets;
  }

  /**
   * Starts the listeners.
   *
   * @param serviceAuthenticator verifies the service's policy tokens (and gateway tokens)
   * @param cloudToDevice the queues the service's cloud-to-device links send into
   * @param listeners one server options per listener, each with its fixed port
   * @param instances listener instances per port, normally one per event loop
   */
  public static Future<AmqpAdapter> start(
      Vertx vertx,
      AmqpConfig config,
      AdapterServices services,
      SasAuthenticator serviceAuthenticator,
      CloudToDeviceService cloudToDevice,
      List<NetServerOptions> listeners,
      int instances) {
    List<Future<String>> deployed = new ArrayList<>();
    for (NetServerOptions options : listeners) {
      deployed.add(
          vertx.deployVerticle(
              () ->
                  new AmqpVerticle(
                      new NetServerOptions(options),
                      services,
                      serviceAuthenticator,
                      cloudToDevice,
                      config),
              new DeploymentOptions().setInstances(instances)));
    }
    return Future.all(deployed)
        .map(
            all -> {
              List<String> ids = new ArrayList<>();
              for (Future<String> f : deployed) {
                ids.add(f.result());
              }
              return new AmqpAdapter(
                  vertx,
                  ids,
                  new AmqpWebSockets(vertx, services, serviceAuthenticator, cloudToDevice, config));
            });
  }

  /** Serves an accepted WebSocket as an AMQP connection; runs on the WebSocket's context. */
  public Handler<ServerWebSocket> webSocketHandler() {
    return webSockets::handle;
  }

  public Future<Void> close() {
    List<Future<Void>> undeployed = new ArrayList<>();
    for (String id : deployments) {
      undeployed.add(vertx.undeploy(id));
    }
    return Future.all(undeployed).mapEmpty();
  }
}
