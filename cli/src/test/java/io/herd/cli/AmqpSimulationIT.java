package io.herd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.herd.adapter.common.LiveEventStream;
import io.herd.simulator.SimulationReport;
import io.herd.simulator.SimulationReport.Count;
import io.herd.simulator.SimulationReport.Latency;
import io.herd.simulator.Simulator;
import io.herd.simulator.SimulatorConfig;
import io.vertx.core.Context;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code herd sim --protocol amqp} against a whole hub, driven with the CLI as an operator would:
 * 20 devices connect over AMQP (with churn), their telemetry arrives at the hub's event stream
 * marked amqp, a reboot, a firmware update to 2.0.0 and one on a device chosen to fail go through
 * direct methods, a desired telemetryConfig is applied and reported with status success, a factory
 * reset forgets it, the device chosen to be slow answers late, and the report file carries the AMQP
 * latencies.
 */
class AmqpSimulationIT {
  private static final String FLEET = "tags.fleet = 'amqp'";
  private static CliHub hub;

  @BeforeAll
  static void start() throws Exception {
    hub = CliHub.start();
  }

  @AfterAll
  static void stop() {
    if (hub != null) {
      hub.close();
    }
  }

  private static JsonObject reported(String device) {
    return new JsonObject(hub.ok("twin", "show", device, "-o", "json"))
        .getJsonObject("properties")
        .getJsonObject("reported");
  }

  private static JsonObject firmware(String device) {
    return reported(device).getJsonObject("firmware", new JsonObject());
  }

  /** Firmware status -> devices, over the fleet. */
  private static Map<String, Integer> firmwareProgress() {
    Map<String, Integer> byStatus = new TreeMap<>();
    String rows =
        hub.ok(
            "query",
            "SELECT properties.reported.firmware.status AS s, COUNT() AS n FROM devices WHERE "
                + FLEET
                + " GROUP BY properties.reported.firmware.status",
            "-o",
            "json");
    for (Object row : new io.vertx.core.json.JsonArray(rows)) {
      JsonObject o = (JsonObject) row;
      byStatus.put(String.valueOf(o.getValue("s")), o.getInteger("n"));
    }
    return byStatus;
  }

  private static JsonObject invoke(String device, String method, String payload) {
    JsonObject answer =
        new JsonObject(
            hub.ok(
                "method",
                "invoke",
                device,
                method,
                "--payload",
                payload,
                "--connect-timeout",
                "10",
                "--timeout",
                "10",
                "-o",
                "json"));
    assertThat(answer.getInteger("status")).as(answer.encode()).isEqualTo(200);
    return answer.getJsonObject("payload");
  }

  private static JsonObject withoutMetadata(JsonObject o) {
    JsonObject c = o == null ? new JsonObject() : o.copy();
    c.remove("$metadata");
    return c;
  }

  @Test
  void twentyAmqpDevicesRunTheDeviceManagementPatternsAndReportTheirAmqpLatencies()
      throws Exception {
    Path reportFile = hub.dataDir.resolve("amqp-sim.json");
    String[] args = {
      "--hub-config", hub.dataDir.resolve("hub.json").toString(),
      "--protocol", "amqp",
      "--devices", "20",
      "--prefix", "amqp",
      "--tag", "fleet=amqp",
      "--fail-percent", "10",
      "--seed", "7",
      "--churn", "5",
      "--slow-percent", "5",
      "--slow-ms", "1000",
      "--fw-step-ms", "400",
      "--reconnect-ms", "300",
      "--config-apply-ms", "100",
      "--rate", "2",
      "--event-loops", "1",
      "--status-seconds", "0",
      "--report", reportFile.toString()
    };
    SimulatorConfig config = SimulatorConfig.fromArgs(args);
    Set<Integer> failing = config.firmwareFailures();
    Set<Integer> late = config.lateAnswerers();
    assertThat(failing).hasSize(2);
    assertThat(late).hasSize(1);
    List<Integer> healthy =
        IntStream.range(0, 20)
            .filter(n -> !failing.contains(n) && !late.contains(n))
            .boxed()
            .toList();
    String updated = config.deviceId(healthy.get(0));
    String rebooted = config.deviceId(healthy.get(1));
    // A desired patch is lost while its device is offline (a churn drop), so three get one.
    List<String> configured = healthy.subList(2, 5).stream().map(config::deviceId).toList();
    String failed =
        config.deviceId(failing.stream().filter(n -> !late.contains(n)).findFirst().orElseThrow());
    String slow = config.deviceId(late.iterator().next());

    // Telemetry as the hub's event stream has it, from before the devices connect.
    Queue<LiveEventStream.Event> events = new ConcurrentLinkedQueue<>();
    Context context = hub.hub.vertx().getOrCreateContext();
    CompletableFuture<LiveEventStream.Reader> reader = new CompletableFuture<>();
    context.runOnContext(
        v -> reader.complete(hub.hub.events().open(context, -1, 1_000_000, events::add, o -> {})));
    reader.get(5, TimeUnit.SECONDS);

    CountDownLatch stopSim = new CountDownLatch(1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CompletableFuture<Integer> sim =
        CompletableFuture.supplyAsync(
            () ->
                Simulator.run(
                    args,
                    new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8),
                    stopSim));
    try {
      // Every device shows its firmware once it is online: registered, connected over AMQP.
      await()
          .atMost(Duration.ofSeconds(40))
          .pollInterval(Duration.ofMillis(250))
          .until(() -> firmwareProgress().equals(Map.of("current", 20)));

      assertThat(invoke(rebooted, "reboot", "{}").getString("result")).isEqualTo("rebooting");
      String fw = "{\"fwPackageUri\":\"https://fw.example/2.0.0.bin\",\"version\":\"2.0.0\"}";
      assertThat(invoke(updated, "firmwareUpdate", fw).getString("pendingVersion"))
          .isEqualTo("2.0.0");
      invoke(failed, "firmwareUpdate", fw);
      for (String device : configured) {
        hub.ok(
            "twin",
            "patch",
            device,
            "--desired",
            new JsonObject()
                .put(
                    "telemetryConfig",
                    new JsonObject().put("configId", "c1").put("sendFrequency", "500ms"))
                .put("sentAtMs", System.currentTimeMillis())
                .encode());
      }

      Set<String> seen = new TreeSet<>();
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                JsonObject f = firmware(updated);
                seen.add(f.getString("status"));
                return "current".equals(f.getString("status"))
                    && "2.0.0".equals(f.getString("currentVersion"));
              });
      // The update went through its steps, each a reported patch, not straight to its end.
      assertThat(seen).containsAnyOf("downloading", "verifying", "applying", "rebooting");
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> "failed".equals(firmware(failed).getString("status")));
      JsonObject f = firmware(failed);
      assertThat(f.getString("currentVersion")).isEqualTo("1.0.0");
      assertThat(f.getString("pendingVersion")).isEqualTo("2.0.0");
      assertThat(f.getString("error")).isNotBlank();
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> "online".equals(reported(rebooted).getString("rebootStatus")));
      assertThat(reported(rebooted).getString("lastReboot")).isNotBlank();
      JsonObject applied =
          new JsonObject()
              .put("configId", "c1")
              .put("sendFrequency", "500ms")
              .put("status", "success");
      for (String device : configured) {
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () ->
                    withoutMetadata(reported(device).getJsonObject("telemetryConfig"))
                        .equals(applied));
      }
      assertThat(firmwareProgress()).isEqualTo(Map.of("current", 19, "failed", 1));

      // A factory reset forgets the configuration just applied.
      assertThat(invoke(configured.get(0), "factoryReset", "null").getString("result"))
          .isEqualTo("resetting");
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () -> "complete".equals(reported(configured.get(0)).getString("factoryResetStatus")));
      assertThat(reported(configured.get(0)).containsKey("telemetryConfig")).isFalse();
      assertThat(reported(configured.get(0)).getString("lastFactoryReset")).isNotBlank();

      // The device chosen to be slow answers after --slow-ms (an update to the version it has).
      long t0 = System.nanoTime();
      assertThat(
              invoke(slow, "firmwareUpdate", fw.replace("2.0.0", "1.0.0"))
                  .getString("currentVersion"))
          .isEqualTo("1.0.0");
      assertThat(System.nanoTime() - t0)
          .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(1_000));

      // Telemetry from every device reached the hub over AMQP.
      Set<String> all =
          IntStream.range(0, 20).mapToObj(config::deviceId).collect(Collectors.toSet());
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  events.stream()
                      .map(e -> e.message().deviceId())
                      .collect(Collectors.toSet())
                      .containsAll(all));
      LiveEventStream.Event e = events.peek();
      assertThat(e.message().protocol()).isEqualTo("amqp");
      assertThat(e.message().systemProperties()).containsEntry("content-type", "application/json");
      assertThat(
              new JsonObject(new String(e.message().body(), StandardCharsets.UTF_8))
                  .getString("deviceId"))
          .isEqualTo(e.message().deviceId());
    } finally {
      stopSim.countDown();
      assertThat(sim.get(60, TimeUnit.SECONDS)).as(err.toString(StandardCharsets.UTF_8)).isZero();
    }

    SimulationReport r = SimulationReport.fromJson(new JsonObject(Files.readString(reportFile)));
    JsonObject json = new JsonObject(Files.readString(reportFile));
    assertThat(json.getJsonObject("options").getString("protocol")).isEqualTo("amqp");
    assertThat(r.devices()).isEqualTo(20);
    assertThat(r.count(Count.CONNECT_FAILURES)).isZero();
    assertThat(r.count(Count.CONNECTIONS_LOST)).isZero();
    assertThat(r.count(Count.CHURN_DROPS)).isPositive();
    // 20 first connects, then the reboot's, the update's and the reset's (and the churn drops').
    assertThat(r.count(Count.CONNECTS)).isGreaterThanOrEqualTo(23);
    assertThat(r.count(Count.REBOOTS)).isEqualTo(1);
    assertThat(r.count(Count.FIRMWARE_UPDATES)).isEqualTo(2);
    assertThat(r.count(Count.FIRMWARE_SUCCEEDED)).isEqualTo(1);
    assertThat(r.count(Count.FIRMWARE_FAILED)).isEqualTo(1);
    assertThat(r.count(Count.CONFIG_APPLIED)).isEqualTo(3);
    assertThat(r.count(Count.FACTORY_RESETS)).isEqualTo(1);
    assertThat(r.count(Count.METHODS_LATE)).isEqualTo(1);
    assertThat(r.count(Count.METHODS_ANSWERED)).isEqualTo(5);
    assertThat(r.count(Count.REPORTED_FAILED)).isZero();
    assertThat(r.count(Count.TELEMETRY_ACKED)).isPositive();
    // Every message the hub acknowledged is in its event stream (durable before the ack).
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> events.size() >= r.count(Count.TELEMETRY_ACKED));
    context.runOnContext(v -> reader.join().close());
    assertThat(r.latency(Latency.CONNECT).getTotalCount()).isEqualTo(r.count(Count.CONNECTS));
    assertThat(r.latency(Latency.TELEMETRY_PUBACK).getTotalCount())
        .isEqualTo(r.count(Count.TELEMETRY_ACKED));
    assertThat(r.latency(Latency.REPORTED_ACK).getTotalCount())
        .isEqualTo(r.count(Count.REPORTED_ACKED))
        .isPositive();
    assertThat(r.latency(Latency.METHOD_AT_DEVICE).getTotalCount()).isEqualTo(5);
    assertThat(r.latency(Latency.METHOD_AT_DEVICE).getMaxValue()).isGreaterThanOrEqualTo(1_000_000);
    assertThat(r.latency(Latency.DESIRED_DELIVERY).getTotalCount()).isBetween(1L, 3L);
    JsonObject latencies = json.getJsonObject("latencies");
    for (Latency l : Latency.values()) {
      assertThat(latencies.getJsonObject(l.wireName()).getLong("count"))
          .as(l.wireName())
          .isPositive();
    }
    assertThat(r.errors()).as(r.errors().toString()).isEmpty();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("connected : 20 of 20");
  }
}
