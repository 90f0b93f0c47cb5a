package io.herd.adapter.amqp.internal;

import io.herd.adapter.common.PeerCertificates;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import java.security.cert.X509Certificate;
import java.util.List;

/** AMQP over a TCP connection, with or without TLS. */
final class TcpTransport implements AmqpTransport {
  private final NetSocket socket;

  TcpTransport(NetSocket socket) {
    this.socket = socket;
  }

  @Override
  public void write(Buffer data) {
    socket.write(data);
  }

  @Override
  public boolean writeQueueFull() {
    return socket.writeQueueFull();
  }

  @Override
  public void drainHandler(Handler<Void> handler) {
    socket.drainHandler(handler);
  }

  @Override
  public void pause() {
    socket.pause();
  }

  @Override
  public void resume() {
    socket.resume();
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
