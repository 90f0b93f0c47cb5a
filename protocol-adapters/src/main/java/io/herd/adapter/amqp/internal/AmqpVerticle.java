package io.herd.adapter.amqp.internal;

import io.herd.adapter.amqp.AmqpConfig;
import io.herd.adapter.amqp.CloudToDeviceService;
import io.herd.adapter.common.AdapterServices;
import io.herd.registry.SasAuthenticator;
import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One AMQP listener per event loop; Vert.x spreads the connections of the shared port over them.
 */
public final class AmqpVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(AmqpVerticle.class);

  private final NetServerOptions options;
  private final AdapterServices services;
  private final SasAuthenticator serviceAuthenticator;
  private final CloudToDeviceService cloudToDevice;
  private final AmqpConfig config;
  private NetServer server;

  public AmqpVerticle(
      NetServerOptions options,
      AdapterServices services,
      SasAuthenticator serviceAuthenticator,
      CloudToDeviceService cloudToDevice,
      AmqpConfig config) {
    this.options = options;
    this.services = services;
    this.serviceAuthenticator = serviceAuthenticator;
    this.cloudToDevice = cloudToDevice;
    this.config = config;
  }

  @Override
  public Future<?> start() {
    server =
        vertx
            .createNetServer(options)
            .connectHandler(
                socket -> {
                  AmqpEngine engine =
                      new AmqpEngine(vertx, context, new TcpTransport(socket), config);
                  AmqpConnection connection =
                      new AmqpConnection(
                          vertx, engine, services, serviceAuthenticator, cloudToDevice, config);
                  // The bytes as Netty read them, without a copy into a Vert.x buffer and the
                  // socket's inbound queue; TcpTransport pauses reading on the channel itself.
                  ((NetSocketInternal) socket)
                      .messageHandler(
                          msg -> {
                            try {
                              if (msg instanceof ByteBuf b) {
                                engine.received(b);
                              }
                            } finally {
                              ReferenceCountUtil.release(msg);
                            }
                          });
                  socket.closeHandler(v -> engine.onTransportClosed());
                  socket.exceptionHandler(
                      e ->
                          LOG.debug(
                              "AMQP connection error [remote: {}, error: {}]",
                              socket.remoteAddress(),
                              e.toString()));
                  connection.start();
                });
    return server.listen();
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
