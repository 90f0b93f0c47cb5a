package io.herd.server.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.server.tls.TestCertificates.SelfSigned;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.junit5.VertxExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(VertxExtension.class)
class ServerTlsTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  @TempDir Path temp;
  private Vertx vertx;
  private TlsMaterial material;
  private HttpServer server;

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    material = LocalCertificateAuthority.ensure(temp.resolve("tls"), "hub.example.test");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (server != null) {
      await(server.close());
    }
  }

  @Test
  void configuresPemFilesTls12And13AndTheOpenSslEngine() {
    HttpServerOptions options = ServerTls.apply(new HttpServerOptions(), material);

    assertThat(OpenSSLEngineOptions.isAvailable()).as("netty-tcnative on the classpath").isTrue();
    assertThat(ServerTls.usesOpenSsl()).isTrue();
    assertThat(options.isSsl()).isTrue();
    assertThat(options.getSslEngineOptions()).isInstanceOf(OpenSSLEngineOptions.class);
    // No per-session memory kept for resumption on a hub that holds many idle devices.
    assertThat(((OpenSSLEngineOptions) options.getSslEngineOptions()).isSessionCacheEnabled())
        .isFalse();
    assertThat(options.getEnabledSecureTransportProtocols())
        .containsExactlyInAnyOrder("TLSv1.2", "TLSv1.3");
    // The server's key and chain, behind the key manager whose key material OpenSSL caches.
    javax.net.ssl.KeyManagerFactory kmf;
    try {
      kmf = options.getKeyCertOptions().getKeyManagerFactory(null);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    assertThat(kmf).isInstanceOf(io.netty.handler.ssl.OpenSslCachingX509KeyManagerFactory.class);
    javax.net.ssl.X509KeyManager km = (javax.net.ssl.X509KeyManager) kmf.getKeyManagers()[0];
    assertThat(km.getCertificateChain("herd")[0].getSubjectX500Principal().getName())
        .contains("CN=");
    assertThat(options.getClientAuth()).isEqualTo(ClientAuth.NONE);
    assertThat(options.isUseAlpn()).isFalse();
  }

  @ParameterizedTest(name = "openssl={0}, host={1}, client offers {2}")
  @CsvSource({
    "true,  localhost, TLSv1.3",
    "true,  127.0.0.1, TLSv1.3",
    "true,  localhost, TLSv1.2",
    "true,  127.0.0.1, TLSv1.2",
    "false, localhost, TLSv1.3",
    "false, 127.0.0.1, TLSv1.3",
    "false, localhost, TLSv1.2",
  })
  void clientsTrustingOnlyCaPemConnectByNameAndLoopbackAddress(
      boolean openSsl, String host, String protocol) throws Exception {
    int port = start(ServerTls.apply(new HttpServerOptions(), material, false, openSsl));

    HttpResponse<String> response =
        get(TestCertificates.trusting(material.caCertificate()), protocol, host, port);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.sslSession()).get().extracting(s -> s.getProtocol()).isEqualTo(protocol);
  }

  @ParameterizedTest(name = "openssl={0}")
  @ValueSource(booleans = {true, false})
  void refusesTls11ThatTheSameClientCanNegotiateElsewhere(boolean openSsl) throws Exception {
    int port = start(ServerTls.apply(new HttpServerOptions(), material, false, openSsl));
    // Control: a server that still allows TLS 1.1 proves the client really speaks it.
    HttpServerOptions permissive =
        ServerTls.apply(new HttpServerOptions(), material, false, true)
            .setEnabledSecureTransportProtocols(Set.of("TLSv1.1", "TLSv1.2"));
    HttpServer control =
        await(vertx.createHttpServer(permissive).requestHandler(r -> r.response().end()).listen(0));
    try {
      assertThat(await(connectWith("TLSv1.1", control.actualPort()))).isEqualTo("TLSv1.1");

      assertThatThrownBy(() -> await(connectWith("TLSv1.1", port)))
          .as("the server answers with a protocol_version alert")
          .hasStackTraceContaining("ALERT_PROTOCOL_VERSION");
      assertThat(await(connectWith("TLSv1.2", port))).isEqualTo("TLSv1.2");
    } finally {
      await(control.close());
    }
  }

  @ParameterizedTest(name = "openssl={0}")
  @ValueSource(booleans = {true, false})
  void requestsButDoesNotRequireClientCertificates(boolean openSsl) throws Exception {
    int port = start(ServerTls.apply(new HttpServerOptions(), material, true, openSsl));
    SelfSigned device = TestCertificates.selfSigned("device-1", "EC");

    HttpResponse<String> withCertificate =
        get(
            TestCertificates.clientContext(material.caCertificate(), device),
            "TLSv1.3",
            "localhost",
            port);
    HttpResponse<String> without =
        get(TestCertificates.trusting(material.caCertificate()), "TLSv1.3", "localhost", port);

    assertThat(withCertificate.body()).isEqualTo("CN=device-1");
    assertThat(without.body()).isEqualTo("none");
  }

  @Test
  void refusesClientsThatDoNotTrustCaPem() throws Exception {
    int port = start(ServerTls.apply(new HttpServerOptions(), material));

    assertThatThrownBy(() -> get(SSLContext.getDefault(), "TLSv1.3", "localhost", port))
        .isInstanceOf(SSLHandshakeException.class);
  }

  @Test
  void doesNotAskForClientCertificatesByDefault() throws Exception {
    int port = start(ServerTls.apply(new HttpServerOptions(), material));
    SelfSigned device = TestCertificates.selfSigned("device-1", "EC");

    HttpResponse<String> response =
        get(
            TestCertificates.clientContext(material.caCertificate(), device),
            "TLSv1.3",
            "localhost",
            port);

    assertThat(response.body()).isEqualTo("none");
  }

  @ParameterizedTest(name = "openssl={0}, key={1}")
  @CsvSource({"true, RSA", "false, RSA", "true, SEC1", "false, SEC1"})
  void servesUserSuppliedCertificatesWithTraditionalKeyFiles(boolean openSsl, String keyForm)
      throws Exception {
    SelfSigned own =
        keyForm.equals("RSA")
            ? TestCertificates.selfSigned("localhost", "RSA")
            : TestCertificates.selfSignedSec1Ec("localhost");
    Path cert = TestCertificates.writePem(temp.resolve("own-cert.pem"), own.certificate());
    Path key = TestCertificates.writePem(temp.resolve("own-key.pem"), own.keys());
    assertThat(Files.readString(key))
        .startsWith("-----BEGIN " + (keyForm.equals("RSA") ? "RSA" : "EC"));
    TlsMaterial supplied = TlsMaterial.userSupplied(cert, key);
    int port = start(ServerTls.apply(new HttpServerOptions(), supplied, false, openSsl));

    HttpResponse<String> response =
        get(TestCertificates.trusting(cert), "TLSv1.2", "localhost", port);

    assertThat(response.statusCode()).isEqualTo(200);
  }

  private int start(HttpServerOptions options) throws Exception {
    server =
        await(
            vertx
                .createHttpServer(options.setHost("127.0.0.1"))
                .requestHandler(
                    request -> {
                      String peer;
                      try {
                        List<Certificate> chain = request.connection().peerCertificates();
                        peer = ((X509Certificate) chain.get(0)).getSubjectX500Principal().getName();
                      } catch (SSLPeerUnverifiedException e) {
                        peer = "none";
                      }
                      request.response().end(peer);
                    })
                .listen(0));
    return server.actualPort();
  }

  /** The protocol a Vert.x client with the OpenSSL engine negotiates when it offers only one. */
  private Future<String> connectWith(String protocol, int port) {
    NetClientOptions options =
        new NetClientOptions()
            .setSsl(true)
            .setSslEngineOptions(new OpenSSLEngineOptions())
            .setEnabledSecureTransportProtocols(Set.of(protocol))
            .setHostnameVerificationAlgorithm("HTTPS")
            .setTrustOptions(
                new PemTrustOptions().addCertPath(material.caCertificate().toString()));
    return vertx
        .createNetClient(options)
        .connect(port, "localhost")
        .map(
            (NetSocket socket) -> {
              String negotiated = socket.sslSession().getProtocol();
              socket.close();
              return negotiated;
            });
  }

  private static HttpResponse<String> get(
      SSLContext context, String protocol, String host, int port) throws Exception {
    SSLParameters parameters = new SSLParameters();
    parameters.setProtocols(new String[] {protocol});
    HttpClient client =
        HttpClient.newBuilder()
            .sslContext(context)
            .sslParameters(parameters)
            .connectTimeout(TIMEOUT)
            .build();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("https://" + host + ":" + port + "/"))
            .timeout(TIMEOUT)
            .build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future
        .toCompletionStage()
        .toCompletableFuture()
        .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
  }
}
