package io.herd.adapter.amqp.internal;

import io.herd.adapter.common.PeerCertificates;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.internal.buffer.BufferInternal;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * AMQP over a WebSocket of the HTTPS listener (sub-protocol {@code AMQPWSB10}): binary messages
 * carry the AMQP byte stream, which may split frames anywhere.
 */
final class WebSocketTransport implements AmqpTransport {
  private final ServerWebSocket ws;

  WebSocketTransport(ServerWebSocket ws) {
    this.ws = ws;
  }

  @Override
  public void write(Buffer data) {
    ws.writeBinaryMessage(data);
  }

  /** An unpooled heap buffer: a WebSocket frame copies what it carries. */
  @Override
  public ByteBuf buffer(int size) {
    return Unpooled.buffer(size);
  }

  @Override
  public void write(ByteBuf data) {
    ws.writeBinaryMessage(BufferInternal.buffer(data));
  }

  @Override
  public boolean writeQueueFull() {
    return ws.writeQueueFull();
  }

  @Override
  public void drainHandler(Handler<Void> handler) {
    ws.drainHandler(handler);
  }

  @Override
  public void pause() {
    ws.pause();
  }

  @Override
  public void resume() {
    ws.resume();
  }

  @Override
  public void close() {
    ws.close();
  }

  @Override
  public List<X509Certificate> peerCertificates() {
    return PeerCertificates.of(ws.isSsl(), ws::peerCertificates);
  }

  @Override
  public String remoteAddress() {
    return String.valueOf(ws.remoteAddress());
  }

  @Override
  public String protocol() {
    return "amqp-ws";
  }
}
