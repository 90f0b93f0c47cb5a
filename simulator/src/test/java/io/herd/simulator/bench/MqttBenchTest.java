package io.herd.simulator.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.simulator.bench.MqttBench.Options;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class MqttBenchTest {

  @Test
  void derivesTheSameDeviceKeyInEveryProcess() {
    Options o =
        Options.parse(
            new String[] {
              "--mode", "create", "--hub-json", "hub.json", "--prefix", "p", "--key-seed", "s1"
            });

    byte[] key = Base64.getDecoder().decode(o.primaryKey(3));
    assertThat(key).hasSize(32).isEqualTo(MqttBench.deviceKey("s1", "p-3"));
    assertThat(MqttBench.deviceKey("s1", "p-4")).isNotEqualTo(key);
    assertThat(MqttBench.deviceKey("s2", "p-3")).isNotEqualTo(key);
  }

  @Test
  void defaultsTheWindowByMode() {
    String[] common = {"--broker", "mosquitto", "--port", "8883", "--ca-file", "ca.pem"};
    assertThat(parse("telemetry", common).window()).isEqualTo(16);
    assertThat(parse("connect", common).window()).isEqualTo(1);
  }

  @Test
  void requiresAKeySeedToSignWithDeviceKeys() {
    assertThatThrownBy(
            () ->
                Options.parse(
                    new String[] {"--mode", "connect", "--hub-json", "h.json", "--prefix", "p"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--key-seed");
    assertThat(
            Options.parse(
                    new String[] {
                      "--mode",
                      "connect",
                      "--hub-json",
                      "h.json",
                      "--prefix",
                      "p",
                      "--auth",
                      "policy"
                    })
                .auth())
        .isEqualTo(MqttBench.Auth.POLICY);
  }

  @Test
  void refusesNonLoopbackAddresses() {
    assertThatThrownBy(
            () ->
                Options.parse(
                    new String[] {
                      "--mode",
                      "connect",
                      "--hub-json",
                      "h.json",
                      "--prefix",
                      "p",
                      "--auth",
                      "policy",
                      "--source-addresses",
                      "127.0.0.2,10.0.0.1"
                    }))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("loopback");
  }

  @Test
  void spreadsConnectsOverLoopbackAddressesAndOffersTheDeviceStacksGroups() {
    Options defaults = parse("connect", mosquitto());
    assertThat(defaults.connectAddresses()).containsExactly("127.0.0.1");
    assertThat(defaults.tlsGroups()).isEqualTo("x25519,secp256r1,secp384r1");

    Options o =
        parse(
            "connect",
            mosquitto(
                "--connect-addresses",
                "127.0.0.1,127.0.0.2",
                "--tls-groups",
                "X25519MLKEM768,x25519"));
    assertThat(o.connectAddresses()).containsExactly("127.0.0.1", "127.0.0.2");
    assertThat(o.tlsGroups()).isEqualTo("X25519MLKEM768,x25519");

    assertThatThrownBy(
            () -> parse("connect", mosquitto("--connect-addresses", "127.0.0.1,192.0.2.1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("loopback");
    assertThatThrownBy(() -> parse("connect", mosquitto("--tls-groups", "x25519;")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--tls-groups");
  }

  /** Options of a run against Mosquitto, then {@code more}. */
  private static String[] mosquitto(String... more) {
    String[] common = {"--broker", "mosquitto", "--port", "8883", "--ca-file", "ca.pem"};
    String[] args = java.util.Arrays.copyOf(common, common.length + more.length);
    System.arraycopy(more, 0, args, common.length, more.length);
    return args;
  }

  private static Options parse(String mode, String[] common) {
    String[] args = new String[common.length + 4];
    args[0] = "--mode";
    args[1] = mode;
    args[2] = "--prefix";
    args[3] = "p";
    System.arraycopy(common, 0, args, 4, common.length);
    return Options.parse(args);
  }
}
