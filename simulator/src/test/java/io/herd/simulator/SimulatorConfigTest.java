package io.herd.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.simulator.internal.ProcessFleet;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SimulatorConfigTest {

  private static final String CS =
      "HostName=hub.example:8443;SharedAccessKeyName=iothubowner;SharedAccessKey=a2V5";

  @Test
  void defaultsEverythingButTheHub() {
    SimulatorConfig c = SimulatorConfig.fromArgs("--connection-string", CS);

    assertThat(c.devices()).isEqualTo(100);
    assertThat(c.first()).isZero();
    assertThat(c.count()).isEqualTo(100);
    assertThat(c.prefix()).isEqualTo("sim");
    assertThat(c.protocol()).isEqualTo(SimulatorConfig.Protocol.MQTT);
    assertThat(c.rate()).isEqualTo(0.1);
    assertThat(c.fwStepMs()).isEqualTo(500);
    assertThat(c.processes()).isEqualTo(1);
    assertThat(c.deviceId(7)).isEqualTo("sim-7");
  }

  @Test
  void takesAmqpWithItsPort() {
    SimulatorConfig c =
        SimulatorConfig.fromArgs(
            "--connection-string", CS, "--protocol", "AMQP", "--amqp-port", "5672");

    assertThat(c.protocol()).isEqualTo(SimulatorConfig.Protocol.AMQP);
    assertThat(c.amqpPort()).isEqualTo(5672);
    assertThat(c.toJson().getString("protocol")).isEqualTo("amqp");
  }

  @Test
  void readsBackTheArgumentsItWritesForAForkedProcess() {
    SimulatorConfig c =
        SimulatorConfig.fromArgs(
            "--connection-string",
            CS,
            "--protocol",
            "amqp",
            "--amqp-port",
            "15671",
            "--ca",
            "/tmp/ca.pem",
            "--devices",
            "30000",
            "--processes",
            "2",
            "--prefix",
            "p",
            "--tag",
            "fleet=a",
            "--tag",
            "site=b",
            "--rate",
            "0.25",
            "--fail-percent",
            "12.5",
            "--slow-percent",
            "3",
            "--slow-ms",
            "700",
            "--churn",
            "0.5",
            "--seed",
            "99",
            "--fw-step-ms",
            "50",
            "--fw-version",
            "3.1",
            "--reconnect-ms",
            "10",
            "--config-apply-ms",
            "0",
            "--duration",
            "60",
            "--event-loops",
            "3",
            "--connect-concurrency",
            "50",
            "--status-seconds",
            "0");

    SimulatorConfig child = c.forChild(15_000, 15_000, Path.of("/tmp/r.json"));

    assertThat(SimulatorConfig.fromArgs(child.toArgs().toArray(String[]::new))).isEqualTo(child);
    assertThat(child.child()).isTrue();
    assertThat(child.processes()).isEqualTo(1);
    assertThat(child.devices()).isEqualTo(30_000);
    assertThat(child.first()).isEqualTo(15_000);
    assertThat(child.tags()).isEqualTo(Map.of("fleet", "a", "site", "b"));
    assertThat(child.toArgs()).doesNotContain("--hub-config");
    assertThat(child.protocol()).isEqualTo(SimulatorConfig.Protocol.AMQP);
    assertThat(child.amqpPort()).isEqualTo(15_671);
  }

  @Test
  void saysWhatIsWrong() {
    assertThatThrownBy(() -> SimulatorConfig.fromArgs("--devices", "3"))
        .hasMessageContaining("--connection-string")
        .hasMessageContaining("--hub-config");
    assertThatThrownBy(
            () -> SimulatorConfig.fromArgs("--connection-string", CS, "--protocol", "coap"))
        .hasMessageContaining("--protocol must be mqtt or amqp");
    assertThatThrownBy(
            () -> SimulatorConfig.fromArgs("--connection-string", CS, "--amqp-port", "70000"))
        .hasMessageContaining("--amqp-port");
    assertThatThrownBy(
            () -> SimulatorConfig.fromArgs("--connection-string", CS, "--devices", "19001"))
        .hasMessageContaining("at most 19000 devices")
        .hasMessageContaining("--processes 2");
    assertThatThrownBy(
            () -> SimulatorConfig.fromArgs("--connection-string", CS, "--fail-percent", "101"))
        .hasMessageContaining("--fail-percent");
    assertThatThrownBy(() -> SimulatorConfig.fromArgs("--connection-string", CS, "--prefix", "a/b"))
        .hasMessageContaining("--prefix");
    assertThatThrownBy(() -> SimulatorConfig.fromArgs("--connection-string", CS, "--rate", "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--rate");
    assertThatThrownBy(() -> SimulatorConfig.fromArgs("--connection-string", CS, "--bogus"))
        .hasMessageContaining("--bogus");
  }

  @Test
  void takesNineteenThousandDevicesPerProcess() {
    SimulatorConfig c =
        SimulatorConfig.fromArgs(
            "--connection-string", CS, "--devices", "38000", "--processes", "2");

    assertThat(c.processes()).isEqualTo(2);
  }

  @Test
  void splitsTheFleetEvenlyOverTheProcesses() {
    assertThat(ProcessFleet.slice(10, 3, 0)).containsExactly(0, 4);
    assertThat(ProcessFleet.slice(10, 3, 1)).containsExactly(4, 3);
    assertThat(ProcessFleet.slice(10, 3, 2)).containsExactly(7, 3);
    assertThat(ProcessFleet.slice(38_000, 2, 1)).containsExactly(19_000, 19_000);
  }

  @Test
  void namesTheInjectedFailuresAndLateDevicesOfTheWholeFleet() {
    SimulatorConfig c =
        SimulatorConfig.fromArgs(
            "--connection-string",
            CS,
            "--devices",
            "100",
            "--fail-percent",
            "10",
            "--slow-percent",
            "5",
            "--seed",
            "7");

    assertThat(c.firmwareFailures()).hasSize(10).allMatch(n -> n >= 0 && n < 100);
    assertThat(c.lateAnswerers()).hasSize(5);
    assertThat(c.withSlice(50, 50).firmwareFailures()).isEqualTo(c.firmwareFailures());
  }
}
