package io.herd.server.tls;

import io.netty.handler.ssl.OpenSslCachingX509KeyManagerFactory;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SSLEngineOptions;
import io.vertx.core.net.TrustOptions;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.LinkedHashSet;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies {@link TlsMaterial} to Vert.x server options: TLS 1.2 and 1.3 only, the OpenSSL engine
 * (netty-tcnative) when it loads, else the JDK's. Works for every server whose options extend
 * {@link NetServerOptions}: HTTP, MQTT and AMQP (proton).
 */
public final class ServerTls {
  /** The only protocol versions offered; older ones are refused during the handshake. */
  public static final List<String> PROTOCOLS = List.of("TLSv1.2", "TLSv1.3");

  private static final Logger LOG = LoggerFactory.getLogger(ServerTls.class);

  private ServerTls() {}

  /** Same as {@link #apply(NetServerOptions, TlsMaterial, boolean)} without client certificates. */
  public static <T extends NetServerOptions> T apply(T options, TlsMaterial material) {
    return apply(options, material, false);
  }

  /**
   * Turns on TLS with the given certificate and key.
   *
   * @param requestClientCertificates when true the server asks for, but does not require, a client
   *     certificate and accepts any chain the client sends: checking it (thumbprint or CA of a
   *     registered device) is the device authenticator's job, through the connection's {@code
   *     peerCertificates()}. When false no client certificate is asked for.
   * @return {@code options}, for chaining
   */
  public static <T extends NetServerOptions> T apply(
      T options, TlsMaterial material, boolean requestClientCertificates) {
    return apply(options, material, requestClientCertificates, Engine.OPENSSL);
  }

  /** Whether {@link #apply} selects the OpenSSL engine in this process. */
  public static boolean usesOpenSsl() {
    return Engine.OPENSSL;
  }

  static <T extends NetServerOptions> T apply(
      T options, TlsMaterial material, boolean requestClientCertificates, boolean openSsl) {
    // No server-side session cache: it kept every handshake's session, about 2.8 KB of native
    // memory per connected device (19,000 TLS devices: 18.1 -> 15.2 KB of RSS each), to save a
    // reconnecting device one full handshake of about 0.2 ms of hub CPU.
    SSLEngineOptions engine =
        openSsl
            ? new OpenSSLEngineOptions().setSessionCacheEnabled(false)
            : new JdkSSLEngineOptions();
    options
        .setSsl(true)
        .setKeyCertOptions(keyCertOptions(material))
        .setEnabledSecureTransportProtocols(new LinkedHashSet<>(PROTOCOLS))
        .setSslEngineOptions(engine);
    if (requestClientCertificates) {
      options
          .setClientAuth(ClientAuth.REQUEST)
          .setTrustOptions(TrustOptions.wrap(AnyClientCertificate.INSTANCE));
    } else {
      options.setClientAuth(ClientAuth.NONE);
    }
    return options;
  }

  /**
   * The server's key and chain behind a key manager whose key material OpenSSL keeps: without the
   * caching factory netty-tcnative re-encodes and parses the key and chain on every handshake,
   * about 5% of the hub's CPU in a burst of new TLS connections.
   */
  static KeyCertOptions keyCertOptions(TlsMaterial material) {
    try {
      List<X509Certificate> chain = Pem.readCertificates(material.certificateChain());
      PrivateKey key = Pem.readPrivateKey(material.privateKey());
      char[] password = new char[0];
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("herd", key, password, chain.toArray(new Certificate[0]));
      KeyManagerFactory base =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      base.init(store, password);
      return KeyCertOptions.wrap(new OpenSslCachingX509KeyManagerFactory(base));
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalArgumentException(
          "cannot load the TLS key and certificate " + material.certificateChain(), e);
    }
  }

  /** Chooses the engine once per process, so the log says it once. */
  private static final class Engine {
    static final boolean OPENSSL = detect();

    private static boolean detect() {
      if (OpenSSLEngineOptions.isAvailable()) {
        LOG.info("TLS engine selected [engine: openssl, protocols: {}]", PROTOCOLS);
        return true;
      }
      LOG.info(
          "TLS engine selected [engine: jdk, protocols: {}, reason: netty-tcnative not loadable]",
          PROTOCOLS);
      return false;
    }
  }

  /**
   * Accepts any client chain during the handshake. Without it a self-signed device certificate,
   * which IoT Hub accepts by thumbprint, would fail against the JDK's default trust store.
   */
  private static final class AnyClientCertificate extends X509ExtendedTrustManager {
    static final AnyClientCertificate INSTANCE = new AnyClientCertificate();

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    // This trust manager is installed on servers only; it never judges a server.
    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("this trust manager judges clients only");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("this trust manager judges clients only");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("this trust manager judges clients only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      // Empty: the CertificateRequest names no CAs, so clients offer whatever they have.
      return new X509Certificate[0];
    }
  }
}
