package io.herd.adapter.mqtt.internal;

import io.herd.adapter.common.AdapterServices;
import io.herd.adapter.mqtt.MqttConfig;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ImmediateExecutor;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.impl.buffer.VertxByteBufAllocator;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.net.VertxSslContext;
import io.vertx.core.internal.tls.SslContextManager;
import io.vertx.core.internal.tls.SslContextProvider;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.ServerSSLOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.metrics.TCPMetrics;
import io.vertx.core.spi.metrics.VertxMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.BiFunction;

/**
 * One MQTT port served by a bare Netty pipeline on Vert.x's own event loops and transport (epoll
 * when Vert.x uses it): TLS, Netty's MQTT codec and a {@link ChannelTransport} per connection.
 *
 * <p>A Vert.x {@code NetServer} would give every connection a {@code NetSocket} with an outbound
 * message queue (a 1,025-slot array, about 4.3 KB of heap) and more handlers; the session needs
 * none of it. What the {@code NetServer} did for the hub's options is done here: the socket options
 * through Vert.x's transport, TLS through Vert.x's own {@link SslContextManager} from the same
 * {@link NetServerOptions} (so protocols, engine, key manager, trust manager, client auth and the
 * session cache are exactly as configured), the handshake timeout, Vert.x's TCP metrics (connection
 * count) and closing the connections when the listener closes. Options it does not implement are
 * refused at start.
 */
public final class MqttTcpListener {
  /** Room for {@code deviceId/moduleId} with ids of up to 128 characters each. */
  static final int MAX_CLIENT_ID_LENGTH = 257;

  /**
   * The native buffer an OpenSSL engine keeps for what TLS writes while Netty feeds it input (the
   * server's handshake flight, session tickets, alerts): allocated per connection for its whole
   * life, 2 KB by Netty's default, most of a connection's native TLS memory once the handshake is
   * done. A larger write than this waits in BoringSSL for the next wrap, as a post-quantum flight
   * (over 2 KB) always did; the listener pays one more wrap per handshake instead of 1.75 KB per
   * idle device.
   */
  static final int TLS_NON_APPLICATION_BUFFER_BYTES = 256;

  /** A PUBLISH may carry a topic of up to 64 KB besides its payload. */
  static final int TOPIC_ALLOWANCE = 65_536;

  private final Channel server;
  private final ChannelGroup connections;
  private final TCPMetrics<?> metrics;

  private MqttTcpListener(Channel server, ChannelGroup connections, TCPMetrics<?> metrics) {
    this.server = server;
    this.connections = connections;
    this.metrics = metrics;
  }

  /** The decoder's bound on one packet: the payload limit plus a topic, with one byte to spare. */
  public static int maxPacketBytes(MqttConfig config) {
    return config.maxMessageBytes() + TOPIC_ALLOWANCE;
  }

  /**
   * Binds {@code options}' host and port.
   *
   * @param contexts the Vert.x context of each event loop, shared by the listeners
   */
  public static Future<MqttTcpListener> start(
      VertxInternal vertx,
      NetServerOptions options,
      EventLoopContexts contexts,
      AdapterServices services,
      MqttConfig config) {
    try {
      refuseUnsupported(options);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    ContextInternal startContext = vertx.getOrCreateContext();
    Future<SslContextProvider> tls;
    if (options.isSsl()) {
      ServerSSLOptions ssl = options.getSslOptions();
      SslContextManager manager =
          new SslContextManager(
              SslContextManager.resolveEngineOptions(options.getSslEngineOptions(), false));
      tls =
          manager.resolveSslContextProvider(
              ssl, null, ssl.getClientAuth(), ssl.getApplicationLayerProtocols(), startContext);
    } else {
      tls = Future.succeededFuture();
    }
    return tls.compose(provider -> bind(vertx, options, provider, contexts, services, config));
  }

  private static Future<MqttTcpListener> bind(
      VertxInternal vertx,
      NetServerOptions options,
      SslContextProvider tls,
      EventLoopContexts contexts,
      AdapterServices services,
      MqttConfig config) {
    SslContext sslContext = tls == null ? null : tls.sslServerContext(false);
    // This listener's own context: the SslContextManager made in start() is not shared.
    shrinkNativeTlsBuffer(sslContext);
    Executor delegatedTasks =
        tls != null && tls.useWorkerPool()
            ? vertx.internalWorkerPool().executor()
            : ImmediateExecutor.INSTANCE;
    long handshakeTimeoutMillis =
        options.getSslHandshakeTimeoutUnit().toMillis(options.getSslHandshakeTimeout());
    int maxPacketBytes = maxPacketBytes(config);
    ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE, true);
    BiFunction<ContextInternal, MqttTransport, MqttDeviceSession> newSession =
        (context, transport) -> new MqttDeviceSession(vertx, context, transport, services, config);
    VertxMetrics vertxMetrics = vertx.metrics();
    @SuppressWarnings("unchecked")
    TCPMetrics<Object> metrics =
        vertxMetrics == null
            ? null
            : (TCPMetrics<Object>)
                vertxMetrics.createNetServerMetrics(
                    options, SocketAddress.inetSocketAddress(options.getPort(), options.getHost()));

    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(vertx.acceptorEventLoopGroup(), vertx.nettyEventLoopGroup())
            .channelFactory(vertx.transport().serverChannelFactory(false))
            .childOption(ChannelOption.ALLOCATOR, VertxByteBufAllocator.POOLED_ALLOCATOR)
            .childHandler(
                new ChannelInitializer<>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ChannelPipeline pipeline = ch.pipeline();
                    if (sslContext != null) {
                      SslHandler ssl =
                          sslContext.newHandler(ByteBufAllocator.DEFAULT, delegatedTasks);
                      ssl.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
                      pipeline.addLast("ssl", ssl);
                    }
                    pipeline.addLast(
                        "mqttDecoder", new MqttDecoder(maxPacketBytes, MAX_CLIENT_ID_LENGTH));
                    pipeline.addLast("mqttEncoder", MqttEncoder.INSTANCE);
                    pipeline.addLast(
                        "session",
                        new ChannelTransport(
                            contexts.of(ch.eventLoop()), newSession, metrics, sslContext != null));
                    connections.add(ch);
                  }
                });
    vertx.transport().configure(options, false, bootstrap);

    Promise<MqttTcpListener> bound = Promise.promise();
    ChannelFuture f = bootstrap.bind(options.getHost(), options.getPort());
    f.addListener(
        done -> {
          if (done.isSuccess()) {
            bound.complete(new MqttTcpListener(f.channel(), connections, metrics));
          } else {
            if (metrics != null) {
              metrics.close();
            }
            bound.fail(done.cause());
          }
        });
    return bound.future();
  }

  /**
   * Sets an OpenSSL context's per-connection native buffer to {@link
   * #TLS_NON_APPLICATION_BUFFER_BYTES}, through Vert.x's wrapper; returns the size set, or -1 for a
   * context of another engine (or none), which has no such buffer.
   */
  static int shrinkNativeTlsBuffer(SslContext context) {
    SslContext inner = context instanceof VertxSslContext v ? v.unwrap() : context;
    if (inner instanceof ReferenceCountedOpenSslContext openSsl) {
      openSsl.setBioNonApplicationBufferSize(TLS_NON_APPLICATION_BUFFER_BYTES);
      return openSsl.getBioNonApplicationBufferSize();
    }
    return -1;
  }

  /** Listener features of {@link NetServerOptions} this listener does not implement. */
  private static void refuseUnsupported(NetServerOptions options) {
    List<String> unsupported = new ArrayList<>();
    if (options.isSni()) {
      unsupported.add("SNI");
    }
    if (options.isUseAlpn()) {
      unsupported.add("ALPN");
    }
    if (options.isUseProxyProtocol()) {
      unsupported.add("the proxy protocol");
    }
    if (options.getTrafficShapingOptions() != null) {
      unsupported.add("traffic shaping");
    }
    if (options.getIdleTimeout() > 0
        || options.getReadIdleTimeout() > 0
        || options.getWriteIdleTimeout() > 0) {
      unsupported.add("idle timeouts (the session enforces the MQTT keep-alive)");
    }
    if (options.getLogActivity()) {
      unsupported.add("activity logging");
    }
    if (options.getHost() == null || options.getPort() <= 0) {
      unsupported.add("a listener without a fixed host and port");
    }
    if (!unsupported.isEmpty()) {
      throw new IllegalArgumentException(
          "the MQTT listener does not support " + String.join(", ", unsupported));
    }
  }

  /** Stops accepting and closes every connection. */
  public Future<Void> close() {
    Promise<Void> closed = Promise.promise();
    server
        .close()
        .addListener(
            a ->
                connections
                    .close()
                    .addListener(
                        b -> {
                          if (metrics != null) {
                            metrics.close();
                          }
                          closed.complete();
                        }));
    return closed.future();
  }

  /** One Vert.x context per Netty event loop, made once and shared by all connections on it. */
  public static final class EventLoopContexts {
    private final VertxInternal vertx;
    private final Map<EventLoop, ContextInternal> contexts = new ConcurrentHashMap<>();

    public EventLoopContexts(VertxInternal vertx) {
      this.vertx = vertx;
    }

    ContextInternal of(EventLoop loop) {
      return contexts.computeIfAbsent(loop, l -> vertx.contextBuilder().withEventLoop(l).build());
    }
  }
}
