package io.herd.adapter.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.internal.net.VertxSslContext;
import java.io.InputStream;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The MQTT listener's TLS context: a small per-connection native buffer that still handshakes. */
class MqttTcpListenerTlsTest {

  @Test
  void shrinksTheNativeBufferOfAnOpenSslContextBehindVertxsWrapper() throws Exception {
    SslContext inner = server(SslProvider.OPENSSL);
    try {
      assertThat(((ReferenceCountedOpenSslContext) inner).getBioNonApplicationBufferSize())
          .as("Netty's default")
          .isEqualTo(2048);
      assertThat(MqttTcpListener.shrinkNativeTlsBuffer(wrapped(inner)))
          .isEqualTo(MqttTcpListener.TLS_NON_APPLICATION_BUFFER_BYTES);
      assertThat(((ReferenceCountedOpenSslContext) inner).getBioNonApplicationBufferSize())
          .isEqualTo(256);
    } finally {
      ReferenceCountUtil.release(inner);
    }
  }

  @Test
  void leavesOtherEnginesAlone() throws Exception {
    assertThat(MqttTcpListener.shrinkNativeTlsBuffer(wrapped(server(SslProvider.JDK))))
        .isEqualTo(-1);
    assertThat(MqttTcpListener.shrinkNativeTlsBuffer(null)).isEqualTo(-1);
  }

  /**
   * With the post-quantum hybrid the server's first flight is over 2 KB, with X25519 about 1 KB:
   * both outgrow the 256-byte buffer, and what does not fit waits in BoringSSL for the next wrap.
   */
  @ParameterizedTest
  @ValueSource(strings = {"X25519MLKEM768", "x25519", "secp256r1"})
  void handshakesWhoseServerFlightOutgrowsTheBufferComplete(String group) throws Exception {
    SslContext serverContext = server(SslProvider.OPENSSL);
    SslContext clientContext =
        SslContextBuilder.forClient()
            .sslProvider(SslProvider.OPENSSL)
            .trustManager(InsecureTrustManagerFactory.INSTANCE)
            .protocols("TLSv1.3")
            .option(OpenSslContextOption.GROUPS, new String[] {group})
            .build();
    MqttTcpListener.shrinkNativeTlsBuffer(serverContext);
    SSLEngine server = serverContext.newEngine(ByteBufAllocator.DEFAULT);
    SSLEngine client = clientContext.newEngine(ByteBufAllocator.DEFAULT, "localhost", 8883);
    try {
      handshake(client, server);
      assertThat(server.getSession().getProtocol()).isEqualTo("TLSv1.3");
      // Application data flows both ways afterwards.
      assertThat(roundTrip(client, server, "CONNECT")).isEqualTo("CONNECT");
      assertThat(roundTrip(server, client, "CONNACK")).isEqualTo("CONNACK");
    } finally {
      ReferenceCountUtil.release(server);
      ReferenceCountUtil.release(client);
      ReferenceCountUtil.release(serverContext);
      ReferenceCountUtil.release(clientContext);
    }
  }

  private static SslContext server(SslProvider provider) throws Exception {
    assertThat(provider != SslProvider.OPENSSL || OpenSsl.isAvailable())
        .as("netty-tcnative on the test classpath")
        .isTrue();
    try (InputStream cert = resource("tls/test-cert.pem");
        InputStream key = resource("tls/test-key.pem")) {
      return SslContextBuilder.forServer(cert, key).sslProvider(provider).build();
    }
  }

  private static InputStream resource(String name) {
    return MqttTcpListenerTlsTest.class.getClassLoader().getResourceAsStream(name);
  }

  private static SslContext wrapped(SslContext inner) {
    return new VertxSslContext(inner) {
      @Override
      protected void initEngine(SSLEngine engine) {}
    };
  }

  /** Moves TLS records between the two engines until both finish the handshake. */
  private static void handshake(SSLEngine client, SSLEngine server) throws Exception {
    ByteBuffer toServer = ByteBuffer.allocate(64 * 1024);
    ByteBuffer toClient = ByteBuffer.allocate(64 * 1024);
    ByteBuffer empty = ByteBuffer.allocate(0);
    ByteBuffer sink = ByteBuffer.allocate(64 * 1024);
    client.beginHandshake();
    server.beginHandshake();
    for (int i = 0; i < 100; i++) {
      runTasks(client);
      runTasks(server);
      if (done(client) && done(server)) {
        return;
      }
      client.wrap(empty, toServer);
      unwrapAll(server, toServer, sink);
      server.wrap(empty, toClient);
      unwrapAll(client, toClient, sink);
      sink.clear();
    }
    throw new AssertionError(
        "no handshake after 100 rounds: client "
            + client.getHandshakeStatus()
            + ", server "
            + server.getHandshakeStatus());
  }

  /** Feeds what {@code wire} holds (just written) to {@code engine}, as far as it takes it. */
  private static void unwrapAll(SSLEngine engine, ByteBuffer wire, ByteBuffer sink)
      throws Exception {
    wire.flip();
    while (wire.hasRemaining()) {
      int before = wire.remaining();
      engine.unwrap(wire, sink);
      if (wire.remaining() == before) {
        break;
      }
    }
    wire.compact();
  }

  /** The certificate checks and key operations the engines hand out as tasks. */
  private static void runTasks(SSLEngine engine) {
    Runnable task;
    while ((task = engine.getDelegatedTask()) != null) {
      task.run();
    }
  }

  private static boolean done(SSLEngine engine) {
    HandshakeStatus s = engine.getHandshakeStatus();
    return s == HandshakeStatus.NOT_HANDSHAKING || s == HandshakeStatus.FINISHED;
  }

  private static String roundTrip(SSLEngine from, SSLEngine to, String text) throws Exception {
    ByteBuffer wire = ByteBuffer.allocate(64 * 1024);
    from.wrap(ByteBuffer.wrap(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)), wire);
    ByteBuffer plain = ByteBuffer.allocate(64 * 1024);
    unwrapAll(to, wire, plain);
    plain.flip();
    return java.nio.charset.StandardCharsets.UTF_8.decode(plain).toString();
  }
}
