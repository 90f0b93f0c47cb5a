package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.adapter.common.CloudToDeviceMessage;
import io.herd.adapter.common.LiveEventStream;
import io.herd.core.twin.TwinKey;
import io.herd.testkit.DebianPackages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** mosquitto_pub and mosquitto_sub (Debian mosquitto-clients) over TLS against the hub. */
class MosquittoClientsIT {
  private static TestHub hub;

  @BeforeAll
  static void start() throws Exception {
    hub = TestHub.start();
  }

  @AfterAll
  static void stop() {
    hub.close();
  }

  private static String key(String id) throws Exception {
    return hub.deviceKey(id);
  }

  private static List<String> common(Path tool, String id, String key) {
    return new ArrayList<>(
        List.of(
            tool.toString(),
            "-h",
            "localhost",
            "-p",
            Integer.toString(hub.hub.mqttPort()),
            "--cafile",
            hub.hub.caFile().toString(),
            "-V",
            "mqttv311",
            "-i",
            id,
            "-u",
            "localhost/" + id + "/?api-version=2021-04-12",
            "-P",
            MqttTestDevice.deviceToken(id, key)));
  }

  private static Process start(List<String> command) throws Exception {
    return new ProcessBuilder(command).redirectErrorStream(true).start();
  }

  @Test
  void mosquittoPubSendsTelemetryOverTls() throws Exception {
    Path pub = DebianPackages.require("mosquitto_pub", "mosquitto-clients");
    String key = key("mosq-pub");
    long before = hub.hub.events().nextSequence();
    List<String> cmd = common(pub, "mosq-pub", key);
    cmd.addAll(
        List.of(
            "-q", "1", "-t", "devices/mosq-pub/messages/events/kind=cli", "-m", "from mosquitto"));
    Process p = start(cmd);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out).isZero();

    List<LiveEventStream.Event> seen = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> got = new CompletableFuture<>();
    var ctx = hub.hub.vertx().getOrCreateContext();
    CompletableFuture<LiveEventStream.Reader> reader = new CompletableFuture<>();
    ctx.runOnContext(
        v ->
            reader.complete(
                hub.hub
                    .events()
                    .open(
                        ctx,
                        before - 1,
                        1000,
                        e -> {
                          if (e.message().deviceId().equals("mosq-pub")) {
                            seen.add(e);
                            got.complete(null);
                          }
                        },
                        x -> {})));
    try {
      got.get(10, TimeUnit.SECONDS);
    } finally {
      reader.get().close();
    }
    assertThat(new String(seen.get(0).message().body(), StandardCharsets.UTF_8))
        .isEqualTo("from mosquitto");
    assertThat(seen.get(0).message().properties()).containsEntry("kind", "cli");
  }

  @Test
  void mosquittoSubReceivesCloudToDeviceMessagesOverTls() throws Exception {
    Path sub = DebianPackages.require("mosquitto_sub", "mosquitto-clients");
    String key = key("mosq-sub");
    List<String> cmd = common(sub, "mosq-sub", key);
    cmd.addAll(
        List.of(
            "-q",
            "1",
            "-t",
            "devices/mosq-sub/messages/devicebound/#",
            "-C",
            "1",
            "-W",
            "30",
            "-v"));
    Process p = start(cmd);
    try {
      boolean delivered = false;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!delivered && System.nanoTime() < deadline && p.isAlive()) {
        try {
          hub.hub
              .sessions()
              .deliver(
                  TwinKey.device("mosq-sub"),
                  new CloudToDeviceMessage(
                      Map.of("$.mid", "c-1"),
                      Map.of(),
                      "to the cli".getBytes(StandardCharsets.UTF_8)))
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
          delivered = true;
        } catch (Exception e) {
          Thread.sleep(100); // not connected or not subscribed yet
        }
      }
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(delivered).as(out).isTrue();
      assertThat(out.trim())
          .isEqualTo("devices/mosq-sub/messages/devicebound/%24.mid=c-1 to the cli");
    } finally {
      p.destroyForcibly();
    }
  }
}
