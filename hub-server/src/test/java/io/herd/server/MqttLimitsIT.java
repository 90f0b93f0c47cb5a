package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The configurable limits of the MQTT endpoint and the reaction to exceeding each. */
class MqttLimitsIT {
  private static TestHub hub;

  @BeforeAll
  static void start() throws Exception {
    // At most 2 connections, 10 telemetry messages per second and device, 4 in flight.
    hub = TestHub.start(new HubConfig.DeviceLimits(-1, 256 * 1024, 4, 2, 10, 50));
  }

  @AfterAll
  static void stop() {
    hub.close();
  }

  @BeforeEach
  void noConnectionsLeft() {
    await().atMost(Duration.ofSeconds(10)).until(() -> hub.hub.sessions().connections() == 0);
  }

  private static String key(String id) throws Exception {
    return hub.deviceKey(id);
  }

  @Test
  void connectionsBeyondTheLimitAreRefusedAsServerUnavailable() throws Exception {
    String a = key("lim-a");
    String b = key("lim-b");
    String c = key("lim-c");
    try (MqttTestDevice da = MqttTestDevice.connect(hub, "lim-a", a);
        MqttTestDevice db = MqttTestDevice.connect(hub, "lim-b", b)) {
      int code;
      try (MqttTestDevice dc = MqttTestDevice.connect(hub, "lim-c", c)) {
        code = -1;
      } catch (MqttException e) {
        code = e.getReasonCode();
      }
      assertThat(code).isEqualTo(MqttException.REASON_CODE_BROKER_UNAVAILABLE);
      assertThat(da.client.isConnected()).isTrue();
      assertThat(db.client.isConnected()).isTrue();
    }
    // A slot freed is a slot usable again.
    noConnectionsLeft();
    try (MqttTestDevice dc = MqttTestDevice.connect(hub, "lim-c", c)) {
      assertThat(dc.client.isConnected()).isTrue();
    }
  }

  @Test
  void telemetryAboveTheDeviceRateIsSlowedDownNotDropped() throws Exception {
    String k = key("lim-rate");
    long before = hub.hub.events().nextSequence();
    long t0 = System.nanoTime();
    try (MqttTestDevice d = MqttTestDevice.connect(hub, "lim-rate", k)) {
      for (int i = 0; i < 30; i++) {
        d.publish("devices/lim-rate/messages/events/n=" + i, "m" + i, 1);
      }
    }
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    // 10 in the bucket, then 20 at 10/s: about 2 s; generous bounds.
    assertThat(ms).isBetween(1_500L, 30_000L);
    assertThat(hub.hub.events().nextSequence() - before).isEqualTo(30);
  }
}
