package io.herd.adapter.mqtt.internal;

import io.herd.adapter.common.PeerCertificates;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.spi.metrics.TCPMetrics;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.cert.X509Certificate;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MQTT over one Netty channel whose pipeline holds (TLS and) Netty's MQTT codec: the last handler
 * of the pipeline and the session's transport in one object.
 *
 * <p>Everything runs on the channel's event loop, inside {@code context} (a Vert.x context on that
 * same loop), so the session's timers and {@code runOnContext} calls come back to this thread.
 * Writes made while a read is being handled are flushed once when the read completes, as Vert.x's
 * sockets do; writes at other times are flushed at once. {@link #pause()} stops reading from the
 * socket; packets the decoder has already produced wait here until {@link #resume()}.
 */
final class ChannelTransport extends ChannelInboundHandlerAdapter implements MqttTransport {
  private static final Logger LOG = LoggerFactory.getLogger(ChannelTransport.class);

  private final ContextInternal context;
  private final BiFunction<ContextInternal, MqttTransport, MqttDeviceSession> sessions;
  private final TCPMetrics<Object> metrics;
  private final boolean tls;

  private ChannelHandlerContext ctx;
  private MqttDeviceSession session;
  private Object metric;
  private boolean reading;
  private boolean needsFlush;
  private boolean paused;
  private boolean closed;
  private boolean delivering;

  /** Packets decoded while paused; null until the first one. */
  private ArrayDeque<Object> pending;

  /**
   * @param sessions makes the session once the connection is ready (after the TLS handshake)
   * @param metrics the listener's Vert.x metrics, or null
   * @param tls whether an {@link SslHandler} precedes the codec: then the session starts when the
   *     handshake has succeeded
   */
  ChannelTransport(
      ContextInternal context,
      BiFunction<ContextInternal, MqttTransport, MqttDeviceSession> sessions,
      TCPMetrics<Object> metrics,
      boolean tls) {
    this.context = context;
    this.sessions = sessions;
    this.metrics = metrics;
    this.tls = tls;
  }

  // ---- Netty, on the channel's event loop

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    if (!tls) {
      start();
    }
    ctx.fireChannelActive();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof SslHandshakeCompletionEvent handshake) {
      if (handshake.isSuccess()) {
        start();
      } else {
        // The SslHandler closes the channel itself.
        LOG.debug(
            "TLS handshake failed [remote: {}, error: {}]",
            remoteAddress(),
            String.valueOf(handshake.cause()));
      }
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    reading = true;
    if (closed) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (session != null && !paused && !delivering && (pending == null || pending.isEmpty())) {
      deliver(msg);
    } else {
      // Paused, not started yet, or read again from inside the session (which resumed): in order.
      if (pending == null) {
        pending = new ArrayDeque<>(4);
      }
      pending.add(msg);
    }
    drain();
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    reading = false;
    flushIfNeeded();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closed = true;
    releasePending();
    if (session != null) {
      ContextInternal prev = context.beginDispatch();
      try {
        session.onTransportClosed();
      } catch (RuntimeException e) {
        context.reportException(e);
      } finally {
        context.endDispatch(prev);
      }
    }
    if (metrics != null && metric != null) {
      metrics.disconnected(metric, vertxAddress());
      metric = null;
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("MQTT connection error [remote: {}, error: {}]", remoteAddress(), cause.toString());
    if (metrics != null && metric != null) {
      metrics.exceptionOccurred(metric, vertxAddress(), cause);
    }
    ctx.close();
  }

  private void start() {
    if (metrics != null) {
      io.vertx.core.net.SocketAddress remote = vertxAddress();
      metric = metrics.connected(remote, remote == null ? null : remote.host());
    }
    ContextInternal prev = context.beginDispatch();
    try {
      session = sessions.apply(context, this);
    } catch (RuntimeException e) {
      context.reportException(e);
      ctx.close();
      return;
    } finally {
      context.endDispatch(prev);
    }
    drain();
  }

  private void deliver(Object msg) {
    delivering = true;
    ContextInternal prev = context.beginDispatch();
    try {
      session.handle(msg);
    } catch (RuntimeException e) {
      context.reportException(e);
    } finally {
      context.endDispatch(prev);
      delivering = false;
    }
  }

  /** Hands queued packets to the session while it reads; the outermost caller does the work. */
  private void drain() {
    if (pending == null || delivering) {
      return;
    }
    Object msg;
    while (!paused && !closed && session != null && (msg = pending.poll()) != null) {
      deliver(msg);
    }
  }

  private void flushIfNeeded() {
    if (needsFlush) {
      needsFlush = false;
      ctx.flush();
    }
  }

  private void releasePending() {
    if (pending != null) {
      Object msg;
      while ((msg = pending.poll()) != null) {
        ReferenceCountUtil.release(msg);
      }
    }
  }

  // ---- MqttTransport, called by the session on the same event loop

  @Override
  public void write(MqttMessage message) {
    if (!ctx.executor().inEventLoop()) {
      ctx.executor().execute(() -> write(message));
      return;
    }
    if (reading) {
      needsFlush = true;
      ctx.write(message, ctx.voidPromise());
    } else {
      ctx.writeAndFlush(message, ctx.voidPromise());
    }
  }

  @Override
  public boolean writeQueueFull() {
    return !ctx.channel().isWritable();
  }

  @Override
  public void pause() {
    if (!paused) {
      paused = true;
      ctx.channel().config().setAutoRead(false);
    }
  }

  @Override
  public void resume() {
    if (!paused) {
      return;
    }
    paused = false;
    if (pending != null && !pending.isEmpty() && !delivering) {
      boolean wasReading = reading;
      reading = true;
      try {
        drain();
      } finally {
        reading = wasReading;
      }
      if (!reading) {
        flushIfNeeded();
      }
    }
    if (!paused && !closed) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  @Override
  public void close() {
    if (!ctx.executor().inEventLoop()) {
      ctx.executor().execute(this::close);
      return;
    }
    needsFlush = false;
    // Like Vert.x's sockets: what was written before (a CONNACK refusing the device) goes out
    // first.
    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public List<X509Certificate> peerCertificates() {
    SslHandler ssl = ctx.pipeline().get(SslHandler.class);
    return PeerCertificates.of(
        ssl != null, () -> Arrays.asList(ssl.engine().getSession().getPeerCertificates()));
  }

  @Override
  public String remoteAddress() {
    SocketAddress address = ctx == null ? null : ctx.channel().remoteAddress();
    if (address instanceof InetSocketAddress inet) {
      return inet.getHostString() + ":" + inet.getPort();
    }
    return String.valueOf(address);
  }

  @Override
  public String protocol() {
    return "mqtt";
  }

  private io.vertx.core.net.SocketAddress vertxAddress() {
    SocketAddress address = ctx.channel().remoteAddress();
    return address instanceof InetSocketAddress inet
        ? io.vertx.core.net.SocketAddress.inetSocketAddress(inet)
        : null;
  }
}
