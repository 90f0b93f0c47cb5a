package io.herd.simulator.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.simulator.bench.MethodsBench.Options;
import io.herd.simulator.bench.MethodsBench.Phase;
import io.herd.simulator.bench.MqttBench.C2dDelivery;
import io.herd.simulator.bench.MqttBench.C2dFigures;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class C2dBenchTest {

  @Test
  void readsTheMessageNumberAndSendTimeFromTheDeliveryTopic() {
    assertThat(
            C2dDelivery.parse(
                "devices/p-7/messages/devicebound/t=1764246000123456&%24.mid=1007"
                    + "&%24.to=%2Fdevices%2Fp-7%2Fmessages%2FdeviceBound"))
        .isEqualTo(new C2dDelivery(1007, 1_764_246_000_123_456L));
    assertThat(C2dDelivery.parse("devices/p-7/messages/devicebound/$.mid=3&t=9"))
        .isEqualTo(new C2dDelivery(3, 9));
  }

  @Test
  void rejectsDeliveryTopicsWithoutANumericIdOrTime() {
    assertThat(C2dDelivery.parse("devices/p-7/messages/devicebound/")).isNull();
    assertThat(C2dDelivery.parse("devices/p-7/messages/devicebound/%24.mid=x&t=1")).isNull();
    assertThat(C2dDelivery.parse("devices/p-7/messages/devicebound/%24.mid=1")).isNull();
    assertThat(C2dDelivery.parse("$iothub/methods/POST/m/?$rid=1")).isNull();
  }

  @Test
  void sendsTheMessageNumberAsIdAndTheTimeAsProperty() {
    JsonObject body = new JsonObject(MethodsBench.cloudToDeviceBody(42, 1_764_246_000_000_001L));

    assertThat(body.getString("messageId")).isEqualTo("42");
    assertThat(body.getJsonObject("properties").getString("t")).isEqualTo("1764246000000001");
    assertThat(body.getString("ack")).isEqualTo("none");
    assertThat(body.getString("data")).isEqualTo("bench 42");
    assertThat(MethodsBench.cloudToDeviceUri("p-1"))
        .isEqualTo("/devices/p-1/messages/deviceBound?api-version=2021-04-12");
  }

  @Test
  void acceptsOnlyA201NamingItsMessage() {
    assertThat(MethodsBench.checkEnqueued(201, "{\"messageId\":\"42\",\"deviceId\":\"p-2\"}", 42))
        .isNull();
    assertThat(MethodsBench.checkEnqueued(201, "{\"messageId\":\"41\"}", 42))
        .startsWith("wrong messageId");
    assertThat(MethodsBench.checkEnqueued(201, "nope", 42)).startsWith("unreadable body");
    assertThat(MethodsBench.kind(MethodsBench.checkEnqueued(403, "{\"errorCode\":403004}", 1)))
        .isEqualTo("HTTP 403");
  }

  @Test
  void countsDistinctMessagesAcrossLoops() {
    C2dFigures a = new C2dFigures();
    a.received = 10;
    a.duplicates = 1;
    a.malformed.fail("x");
    a.latencyMicros.recordValue(500);
    C2dFigures total = new C2dFigures();
    total.add(a);
    total.add(a);

    assertThat(total.distinct()).isEqualTo(16);
    assertThat(total.latencyMicros.getTotalCount()).isEqualTo(2);
  }

  @Test
  void theC2dPhaseNeedsTimeForItsClosedLoopOnly() {
    Options o =
        Options.parse(
            new String[] {
              "--hub-json", "h.json", "--prefix", "p", "--phase", "c2d", "--timeout-seconds", "65"
            });
    assertThat(o.phase()).isEqualTo(Phase.C2D);
    assertThatThrownBy(
            () ->
                Options.parse(
                    new String[] {"--hub-json", "h.json", "--prefix", "p", "--phase", "x"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--phase");
  }

  @Test
  void givesEachDeviceOneMessageInFlightNumberedInOrder() {
    MethodsBench.C2dDevices d = new MethodsBench.C2dDevices(3);

    assertThat(d.acquire()).isEqualTo(0); // device 0, message 0
    assertThat(d.acquire()).isEqualTo(1); // device 1, message 0
    d.release(0);
    assertThat(d.acquire()).isEqualTo(2); // device 2, message 0
    assertThat(d.acquire()).isEqualTo(3); // device 0 again: message 1
    d.release(2);
    // device 1 and 0 are busy: skipped
    assertThat(d.acquire()).isEqualTo(5); // device 2, message 1
  }

  @Test
  void theC2dPhaseNeedsFewerSendsInFlightThanDevices() {
    assertThatThrownBy(
            () ->
                Options.parse(
                    new String[] {
                      "--hub-json",
                      "h.json",
                      "--prefix",
                      "p",
                      "--phase",
                      "c2d",
                      "--devices",
                      "10",
                      "--concurrency",
                      "10"
                    }))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--concurrency");
  }
}
