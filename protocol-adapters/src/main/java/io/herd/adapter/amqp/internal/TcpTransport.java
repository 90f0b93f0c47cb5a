package io.herd.adapter.amqp.internal;

import io.herd.adapter.common.PeerCertificates;
import io.netty.buffer.ByteBuf;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;
import java.security.cert.X509Certificate;
import java.util.List;

/** AMQP over a TCP connection, with or without TLS. */
final class TcpTransport implements AmqpTransport {
  private final NetSocketInternal socket;

  TcpTransport(NetSocket socket) {
    this.socket = (NetSocketInternal) socket;
  }

  @Override
  public void write(Buffer data) {
    socket.write(data);
  }

  /**
   * A pooled direct buffer of the channel's allocator: TLS encrypts from it without another copy
   * into direct memory, and Netty releases it once written.
   */
  @Override
  public ByteBuf buffer(int size) {
    return socket.channelHandlerContext().alloc().directBuffer(size);
  }

  @Override
  public void write(ByteBuf data) {
    socket.writeMessage(data);
  }

  @Override
  public boolean writeQueueFull() {
    return socket.writeQueueFull();
  }

  @Override
  public void drainHandler(Handler<Void> handler) {
    socket.drainHandler(handler);
  }

  /**
   * Stops reading from the channel: the bytes go to a message handler (see {@link AmqpVerticle}),
   * past the socket's own inbound queue, which {@link NetSocket#pause} would pause.
   */
  @Override
  public void pause() {
    socket.channelHandlerContext().channel().config().setAutoRead(false);
  }

  @Override
  public void resume() {
    socket.channelHandlerContext().channel().config().setAutoRead(true);
  }

  @Override
  public void close() {
    socket.close();
  }

  @Override
  public List<X509Certificate> peerCertificates() {
    return PeerCertificates.of(socket.isSsl(), socket::peerCertificates);
  }

  @Override
  public String remoteAddress() {
    return String.valueOf(socket.remoteAddress());
  }

  @Override
  public String protocol() {
    return "amqp";
  }
}
