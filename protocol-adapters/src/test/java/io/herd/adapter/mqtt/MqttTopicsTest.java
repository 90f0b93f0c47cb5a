package io.herd.adapter.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.adapter.common.DeviceIdentity;
import io.herd.adapter.mqtt.internal.MqttTopics;
import io.herd.adapter.mqtt.internal.MqttTopics.Subscription;
import org.junit.jupiter.api.Test;

class MqttTopicsTest {
  private static final DeviceIdentity DEV = new DeviceIdentity("d1", null, "sas");
  private static final DeviceIdentity MOD = new DeviceIdentity("d1", "m1", "sas");

  @Test
  void telemetryTopicsWithAndWithoutBag() {
    assertThat(MqttTopics.parsePublish("devices/d1/messages/events/", DEV))
        .isEqualTo(new MqttTopics.Telemetry(""));
    assertThat(MqttTopics.parsePublish("devices/d1/messages/events/a=1&b=2", DEV))
        .isEqualTo(new MqttTopics.Telemetry("a=1&b=2"));
    assertThat(MqttTopics.parsePublish("devices/d1/messages/events", DEV))
        .isEqualTo(new MqttTopics.Telemetry(""));
    assertThat(MqttTopics.parsePublish("devices/d1/modules/m1/messages/events/x=1", MOD))
        .isEqualTo(new MqttTopics.Telemetry("x=1"));
  }

  @Test
  void anotherIdentitysTopicsAreInvalid() {
    assertThat(MqttTopics.parsePublish("devices/d2/messages/events/", DEV))
        .isInstanceOf(MqttTopics.Invalid.class);
    assertThat(MqttTopics.parsePublish("devices/d1/messages/events/", MOD))
        .isInstanceOf(MqttTopics.Invalid.class);
    assertThat(MqttTopics.parsePublish("devices/d1/modules/m2/messages/events/", MOD))
        .isInstanceOf(MqttTopics.Invalid.class);
    assertThat(MqttTopics.parsePublish("devices/d1/messages/events/a/b", DEV))
        .isInstanceOf(MqttTopics.Invalid.class);
  }

  @Test
  void twinAndMethodTopicsCarryTheirRequestIds() {
    assertThat(MqttTopics.parsePublish("$iothub/twin/GET/?$rid=42", DEV))
        .isEqualTo(new MqttTopics.TwinGet("42"));
    assertThat(MqttTopics.parsePublish("$iothub/twin/PATCH/properties/reported/?$rid=a-b", DEV))
        .isEqualTo(new MqttTopics.ReportedPatch("a-b"));
    assertThat(MqttTopics.parsePublish("$iothub/methods/res/200/?$rid=7f", DEV))
        .isEqualTo(new MqttTopics.MethodResponse(200, "7f"));
    assertThat(MqttTopics.parsePublish("$iothub/twin/GET/", DEV))
        .isInstanceOf(MqttTopics.Invalid.class);
    assertThat(MqttTopics.parsePublish("$iothub/methods/res/ok/?$rid=1", DEV))
        .isInstanceOf(MqttTopics.Invalid.class);
    assertThat(MqttTopics.parsePublish("$iothub/unknown", DEV))
        .isInstanceOf(MqttTopics.Invalid.class);
  }

  @Test
  void onlyTheDocumentedSubscriptionsOfTheOwnIdentityAreAllowed() {
    assertThat(MqttTopics.parseSubscription("devices/d1/messages/devicebound/#", DEV))
        .isEqualTo(Subscription.CLOUD_TO_DEVICE);
    assertThat(MqttTopics.parseSubscription("$iothub/twin/res/#", DEV))
        .isEqualTo(Subscription.TWIN_RESPONSES);
    assertThat(MqttTopics.parseSubscription("$iothub/twin/PATCH/properties/desired/#", DEV))
        .isEqualTo(Subscription.DESIRED_PROPERTIES);
    assertThat(MqttTopics.parseSubscription("$iothub/methods/POST/#", MOD))
        .isEqualTo(Subscription.METHODS);
    assertThat(MqttTopics.parseSubscription("devices/d1/modules/m1/inputs/#", MOD))
        .isEqualTo(Subscription.MODULE_INPUTS);
    assertThat(MqttTopics.parseSubscription("devices/d2/messages/devicebound/#", DEV)).isNull();
    assertThat(MqttTopics.parseSubscription("#", DEV)).isNull();
    assertThat(MqttTopics.parseSubscription("devices/+/messages/devicebound/#", DEV)).isNull();
    assertThat(MqttTopics.parseSubscription("devices/d1/messages/devicebound/#", MOD)).isNull();
  }

  @Test
  void hubTopicsAreFormattedAsTheSdksExpect() {
    assertThat(MqttTopics.twinResponse(204, "r 1", 5L))
        .isEqualTo("$iothub/twin/res/204/?$rid=r%201&$version=5");
    assertThat(MqttTopics.twinResponse(200, "1", null)).isEqualTo("$iothub/twin/res/200/?$rid=1");
    assertThat(MqttTopics.desired(9))
        .isEqualTo("$iothub/twin/PATCH/properties/desired/?$version=9");
    assertThat(MqttTopics.methodRequest("reboot", "a"))
        .isEqualTo("$iothub/methods/POST/reboot/?$rid=a");
    assertThat(MqttTopics.cloudToDevice("d1", "")).isEqualTo("devices/d1/messages/devicebound/");
  }
}
