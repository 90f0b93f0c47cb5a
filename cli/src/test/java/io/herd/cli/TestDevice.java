package io.herd.cli;

import io.herd.core.SasSigner;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * A device speaking IoT Hub's MQTT with Paho: telemetry, received messages in a queue, and direct
 * methods answered with status 200 and {@code {"method": name, "echo": payload}}.
 */
final class TestDevice implements AutoCloseable {
  record Received(String topic, String payload) {}

  private static final String METHODS = "$iothub/methods/POST/";

  final String deviceId;
  final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
  private final MqttClient client;
  private final ExecutorService answers = Executors.newSingleThreadExecutor();

  private TestDevice(String deviceId, MqttClient client) {
    this.deviceId = deviceId;
    this.client = client;
    client.setCallback(
        new MqttCallback() {
          @Override
          public void connectionLost(Throwable cause) {}

          @Override
          public void messageArrived(String topic, MqttMessage message) {
            String payload = new String(message.getPayload(), StandardCharsets.UTF_8);
            if (topic.startsWith(METHODS)) {
              // Paho's callback thread must not publish; answer from another one.
              answers.execute(() -> answer(topic, payload));
            } else {
              received.add(new Received(topic, payload));
            }
          }

          @Override
          public void deliveryComplete(IMqttDeliveryToken token) {}
        });
  }

  static TestDevice connect(CliHub h, String deviceId, String key) throws Exception {
    MqttClient c =
        new MqttClient("ssl://localhost:" + h.hub.mqttPort(), deviceId, new MemoryPersistence());
    c.setTimeToWait(15_000);
    TestDevice d = new TestDevice(deviceId, c);
    long se = Instant.now().getEpochSecond() + 3600;
    String sr = URLEncoder.encode("localhost/devices/" + deviceId, StandardCharsets.UTF_8);
    String sig = SasSigner.sign(Base64.getDecoder().decode(key), sr + "\n" + se);
    MqttConnectOptions o = new MqttConnectOptions();
    o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
    o.setCleanSession(false);
    o.setAutomaticReconnect(false);
    o.setUserName("localhost/" + deviceId + "/?api-version=2021-04-12");
    o.setPassword(
        ("SharedAccessSignature sr="
                + sr
                + "&sig="
                + URLEncoder.encode(sig, StandardCharsets.UTF_8)
                + "&se="
                + se)
            .toCharArray());
    o.setSocketFactory(HubClient.sslContext(h.hub.caFile()).getSocketFactory());
    o.setHttpsHostnameVerificationEnabled(false);
    c.connect(o);
    return d;
  }

  void subscribe(String filter) throws MqttException {
    client.subscribe(filter, 1);
  }

  void answerMethods() throws MqttException {
    client.subscribe(METHODS + "#", 0);
  }

  void sendTelemetry(String properties, String body) throws MqttException {
    MqttMessage m = new MqttMessage(body.getBytes(StandardCharsets.UTF_8));
    m.setQos(1);
    client.publish("devices/" + deviceId + "/messages/events/" + properties, m);
  }

  Received next() throws InterruptedException {
    Received r = received.poll(15, TimeUnit.SECONDS);
    if (r == null) {
      throw new AssertionError("no message within 15 s");
    }
    return r;
  }

  /** {@code $iothub/methods/POST/{name}/?$rid={rid}} answered on {@code .../res/200/?$rid=}. */
  private void answer(String topic, String payload) {
    String rest = topic.substring(METHODS.length());
    String name = rest.substring(0, rest.indexOf('/'));
    String rid = topic.substring(topic.indexOf("$rid=") + 5);
    String echo = payload.isEmpty() ? "null" : payload;
    try {
      client.publish(
          "$iothub/methods/res/200/?$rid=" + rid,
          ("{\"method\":\"" + name + "\",\"echo\":" + echo + "}").getBytes(StandardCharsets.UTF_8),
          0,
          false);
    } catch (MqttException e) {
      // the device is closing
    }
  }

  @Override
  public void close() {
    answers.shutdownNow();
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
