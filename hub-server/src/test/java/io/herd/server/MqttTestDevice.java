package io.herd.server;

import io.herd.registry.SasAuthenticator;
import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Instant;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/** A device over MQTT as the Azure SDKs speak it, with Paho; received messages queue up. */
final class MqttTestDevice implements AutoCloseable {
  record Received(String topic, String payload, int qos) {}

  final MqttClient client;
  final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
  volatile Throwable lost;

  private MqttTestDevice(MqttClient client) {
    this.client = client;
    client.setCallback(
        new MqttCallback() {
          @Override
          public void connectionLost(Throwable cause) {
            lost = cause;
          }

          @Override
          public void messageArrived(String topic, MqttMessage message) {
            received.add(
                new Received(
                    topic,
                    new String(message.getPayload(), StandardCharsets.UTF_8),
                    message.getQos()));
          }

          @Override
          public void deliveryComplete(IMqttDeliveryToken token) {}
        });
  }

  /** A device SAS token as the Node SDK makes it: sr = url-encoded {host}/devices/{id}. */
  static String token(String resource, String key, long expiry, String policy) {
    String sr = URLEncoder.encode(resource, StandardCharsets.UTF_8);
    String sig = SasAuthenticator.sign(key, sr + "\n" + expiry);
    return "SharedAccessSignature sr="
        + sr
        + "&sig="
        + URLEncoder.encode(sig, StandardCharsets.UTF_8)
        + "&se="
        + expiry
        + (policy == null ? "" : "&skn=" + policy);
  }

  static String deviceToken(String clientId, String key) {
    String resource =
        clientId.contains("/")
            ? "localhost/devices/" + clientId.replace("/", "/modules/")
            : "localhost/devices/" + clientId;
    return token(resource, key, Instant.now().getEpochSecond() + 3600, null);
  }

  /** Trusts the hub's CA and presents {@code cert} as the client certificate. */
  static SSLSocketFactory withClientCertificate(
      Path caPem, java.security.PrivateKey key, java.security.cert.X509Certificate cert)
      throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(caPem)) {
      trust.setCertificateEntry(
          "herd-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry(
        "device", key, "pw".toCharArray(), new java.security.cert.Certificate[] {cert});
    javax.net.ssl.KeyManagerFactory kmf =
        javax.net.ssl.KeyManagerFactory.getInstance(
            javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, "pw".toCharArray());
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx.getSocketFactory();
  }

  /** Connects over TLS with a client certificate and no password. */
  static MqttTestDevice connectWithCertificate(TestHub h, String clientId, SSLSocketFactory factory)
      throws Exception {
    MqttClient c =
        new MqttClient("ssl://localhost:" + h.hub.mqttPort(), clientId, new MemoryPersistence());
    c.setTimeToWait(15_000);
    MqttTestDevice d = new MqttTestDevice(c);
    MqttConnectOptions o = new MqttConnectOptions();
    o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
    o.setCleanSession(false);
    o.setUserName("localhost/" + clientId + "/?api-version=2021-04-12");
    o.setSocketFactory(factory);
    o.setHttpsHostnameVerificationEnabled(false);
    c.connect(o);
    return d;
  }

  static SSLSocketFactory trusting(Path caPem) throws Exception {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    try (InputStream in = Files.newInputStream(caPem)) {
      ks.setCertificateEntry(
          "herd-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx.getSocketFactory();
  }

  /** Connects; throws MqttException with the CONNACK reason when refused. */
  static MqttTestDevice connect(
      String uri, Path caPem, String clientId, String username, String password) throws Exception {
    MqttClient c = new MqttClient(uri, clientId, new MemoryPersistence());
    c.setTimeToWait(15_000);
    MqttTestDevice d = new MqttTestDevice(c);
    MqttConnectOptions o = new MqttConnectOptions();
    o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
    o.setCleanSession(false);
    o.setAutomaticReconnect(false);
    o.setKeepAliveInterval(60);
    o.setConnectionTimeout(10);
    o.setUserName(username);
    if (password != null) {
      o.setPassword(password.toCharArray());
    }
    if (uri.startsWith("ssl:") || uri.startsWith("wss:")) {
      o.setSocketFactory(trusting(caPem));
      o.setHttpsHostnameVerificationEnabled(false);
    }
    c.connect(o);
    return d;
  }

  static MqttTestDevice connect(TestHub h, String clientId, String key) throws Exception {
    return connect(
        "ssl://localhost:" + h.hub.mqttPort(),
        h.hub.caFile(),
        clientId,
        "localhost/" + clientId + "/?api-version=2021-04-12",
        deviceToken(clientId, key));
  }

  void subscribe(String filter, int qos) throws MqttException {
    client.subscribe(filter, qos);
  }

  void publish(String topic, String payload, int qos) throws MqttException {
    MqttMessage m = new MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
    m.setQos(qos);
    client.publish(topic, m);
  }

  Received next() throws InterruptedException {
    Received r = received.poll(10, TimeUnit.SECONDS);
    if (r == null) {
      throw new AssertionError("no message within 10 s");
    }
    return r;
  }

  @Override
  public void close() {
    try {
      if (client.isConnected()) {
        client.disconnect(1000);
      }
      client.close(true);
    } catch (MqttException e) {
      // closing a test client; nothing to do
    }
  }
}
