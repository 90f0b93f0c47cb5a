package io.herd.simulator.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.simulator.internal.DeviceTopics.MethodRequest;
import io.herd.simulator.internal.DeviceTopics.TwinResponse;
import org.junit.jupiter.api.Test;

class DeviceTopicsTest {

  @Test
  void parsesTwinResponseTopics() {
    assertThat(TwinResponse.parse("$iothub/twin/res/204/?$rid=17&$version=5"))
        .isEqualTo(new TwinResponse(204, "17", 5));
    assertThat(TwinResponse.parse("$iothub/twin/res/200/?$rid=v3"))
        .isEqualTo(new TwinResponse(200, "v3", -1));
    assertThat(TwinResponse.parse("$iothub/twin/res/429/?$version=2&$rid=a-b"))
        .isEqualTo(new TwinResponse(429, "a-b", 2));
  }

  @Test
  void rejectsMalformedTwinResponseTopics() {
    assertThat(TwinResponse.parse("devices/d/messages/devicebound/")).isNull();
    assertThat(TwinResponse.parse("$iothub/twin/res/ok/?$rid=1")).isNull();
    assertThat(TwinResponse.parse("$iothub/twin/res/204/?$version=1")).isNull();
    assertThat(TwinResponse.parse("$iothub/twin/res/204")).isNull();
  }

  @Test
  void formatsTheIotHubUserNameAndTelemetryTopic() {
    assertThat(DeviceTopics.userName("localhost", "bench-1"))
        .isEqualTo("localhost/bench-1/?api-version=2021-04-12");
    assertThat(DeviceTopics.telemetryTopic("bench-1"))
        .isEqualTo("devices/bench-1/messages/events/");
  }

  @Test
  void parsesMethodRequestTopicsAndFormatsTheAnswerTopic() {
    MethodRequest r = MethodRequest.parse("$iothub/methods/POST/bench/?$rid=1f");

    assertThat(r).isEqualTo(new MethodRequest("bench", "1f"));
    assertThat(r.responseTopic(200)).isEqualTo("$iothub/methods/res/200/?$rid=1f");
    assertThat(MethodRequest.parse("$iothub/methods/POST//?$rid=1")).isNull();
    assertThat(MethodRequest.parse("$iothub/methods/POST/bench/?$x=1")).isNull();
    assertThat(MethodRequest.parse("$iothub/twin/res/200/?$rid=1")).isNull();
  }

  @Test
  void readsTheVersionOfADesiredPropertiesNotification() {
    assertThat(DeviceTopics.desiredVersion("$iothub/twin/PATCH/properties/desired/?$version=12"))
        .isEqualTo(12);
    assertThat(DeviceTopics.desiredVersion("$iothub/twin/PATCH/properties/desired/?$x=1"))
        .isEqualTo(-1);
    assertThat(DeviceTopics.desiredVersion("$iothub/twin/PATCH/properties/desired/?$version=x"))
        .isEqualTo(-1);
    assertThat(DeviceTopics.desiredVersion("$iothub/twin/res/200/?$version=3")).isEqualTo(-1);
  }
}
