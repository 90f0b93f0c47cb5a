package io.herd.simulator.internal;

import io.vertx.core.Vertx;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.TrustOptions;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS for the clients of the simulator and the load generators, MQTT sockets and AMQP connections
 * alike: trust one CA, verify the server's host name, and validate a server chain once per distinct
 * chain ({@link ChainCachingTrustManager}).
 */
public final class ClientTls {

  private ClientTls() {}

  /**
   * Makes {@code options} TLS options that trust {@code caFile} (null: the JVM's default trust) and
   * verify the server's host name; OpenSSL when asked for and available. {@code timeoutMs} bounds
   * the TCP connect and the TLS handshake each. Returns {@code options}.
   */
  public static <T extends NetClientOptions> T apply(
      T options, Vertx vertx, Path caFile, boolean openSsl, int timeoutMs) {
    if (caFile != null) {
      options.setTrustOptions(trustOptions(vertx, caFile));
    }
    options
        .setSsl(true)
        .setHostnameVerificationAlgorithm("HTTPS")
        .setSslEngineOptions(
            openSsl && OpenSSLEngineOptions.isAvailable()
                ? new OpenSSLEngineOptions()
                : new JdkSSLEngineOptions())
        .setConnectTimeout(timeoutMs)
        .setSslHandshakeTimeout(timeoutMs)
        .setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS)
        .setTcpNoDelay(true);
    return options;
  }

  /** {@link #apply} to new {@link NetClientOptions}. */
  public static NetClientOptions netClientOptions(
      Vertx vertx, Path caFile, boolean openSsl, int timeoutMs) {
    return apply(new NetClientOptions(), vertx, caFile, openSsl, timeoutMs);
  }

  private static TrustOptions trustOptions(Vertx vertx, Path caFile) {
    TrustManager[] managers;
    try {
      managers =
          new PemTrustOptions()
              .addCertPath(caFile.toString())
              .getTrustManagerFactory(vertx)
              .getTrustManagers();
    } catch (Exception e) {
      throw new IllegalArgumentException(
          "cannot load the CA file "
              + caFile
              + ": "
              + e.getClass().getSimpleName()
              + ": "
              + e.getMessage(),
          e);
    }
    for (TrustManager m : managers) {
      if (m instanceof X509ExtendedTrustManager x) {
        return TrustOptions.wrap(new ChainCachingTrustManager(x));
      }
    }
    throw new IllegalStateException("the JDK offers no X509ExtendedTrustManager");
  }
}
