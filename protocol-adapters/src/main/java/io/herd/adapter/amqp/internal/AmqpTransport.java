package io.herd.adapter.amqp.internal;

import io.netty.buffer.ByteBuf;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import java.security.cert.X509Certificate;
import java.util.List;

/** The byte stream under one AMQP connection: TCP (with or without TLS) or a WebSocket. */
interface AmqpTransport {
  void write(Buffer data);

  /** A buffer for {@code size} bytes of output, to fill and hand to {@link #write(ByteBuf)}. */
  ByteBuf buffer(int size);

  /** Writes a buffer from {@link #buffer}; the transport releases it. */
  void write(ByteBuf data);

  /** Whether written data waits for the peer beyond the transport's buffer. */
  boolean writeQueueFull();

  /** Called once when a full write queue has room again. */
  void drainHandler(Handler<Void> handler);

  void pause();

  void resume();

  void close();

  /** The client certificate chain of the TLS handshake, leaf first; empty when none. */
  List<X509Certificate> peerCertificates();

  String remoteAddress();

  /** {@code amqp} or {@code amqp-ws}. */
  String protocol();
}
