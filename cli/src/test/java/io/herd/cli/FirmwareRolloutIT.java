package io.herd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.herd.simulator.Simulation;
import io.herd.simulator.SimulationReport;
import io.herd.simulator.SimulationReport.Count;
import io.herd.simulator.SimulatorConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The firmware-update pattern end to end (issue 8, point 4), as an operator runs it: 100 simulated
 * devices ({@code herd sim}), 10 of them chosen to fail, a direct-method job targeted by a tag
 * query ({@code herd jobs schedule-method}), progress watched with {@code herd query "SELECT
 * properties.reported.firmware.status AS s, COUNT() AS n FROM devices GROUP BY
 * properties.reported.firmware.status"}, ending with 90 devices on the new version and the 10
 * injected failures reported as failed.
 */
class FirmwareRolloutIT {
  private static final String PROGRESS =
      "SELECT properties.reported.firmware.status AS s, COUNT() AS n FROM devices"
          + " GROUP BY properties.reported.firmware.status";
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

  /** {@code herd query TEXT -o json}: every row, every page. */
  private static JsonArray query(String text) {
    return new JsonArray(hub.ok("query", text, "-o", "json"));
  }

  /** The GROUP BY rows as status -> devices. */
  private static Map<String, Integer> progress() {
    Map<String, Integer> byStatus = new TreeMap<>();
    for (Object row : query(PROGRESS)) {
      JsonObject o = (JsonObject) row;
      byStatus.put(String.valueOf(o.getValue("s")), o.getInteger("n"));
    }
    return byStatus;
  }

  private static JsonObject job(String id) {
    return new JsonObject(hub.ok("jobs", "show", id, "-o", "json"));
  }

  private static Set<String> ids(JsonArray rows) {
    Set<String> ids = new TreeSet<>();
    rows.forEach(row -> ids.add(((JsonObject) row).getString("deviceId")));
    return ids;
  }

  @Test
  void aMethodJobUpdatesNinetyDevicesAndTheTenInjectedFailuresReportFailed() throws Exception {
    SimulatorConfig config =
        SimulatorConfig.fromArgs(
            "--hub-config", hub.dataDir.resolve("hub.json").toString(),
            "--devices", "100",
            "--prefix", "fw",
            "--tag", "fleet=rollout",
            "--fail-percent", "10",
            "--seed", "7",
            "--fw-step-ms", "400",
            "--reconnect-ms", "500",
            "--rate", "0.5",
            "--status-seconds", "0");
    Set<String> injected = new TreeSet<>();
    config.firmwareFailures().forEach(n -> injected.add(config.deviceId(n)));
    assertThat(injected).hasSize(10);
    ByteArrayOutputStream log = new ByteArrayOutputStream();

    try (Simulation sim =
        Simulation.start(config, new PrintStream(log, true, StandardCharsets.UTF_8))) {
      assertThat(sim.awaitOnline(Duration.ofSeconds(40))).as(log.toString()).isTrue();
      assertThat(log.toString(StandardCharsets.UTF_8)).contains("100 created, 0 existed");
      // Every device shows its firmware when it comes up.
      await().atMost(Duration.ofSeconds(20)).until(() -> progress().equals(Map.of("current", 100)));

      hub.ok(
          "jobs",
          "schedule-method",
          "--job-id",
          "fw-2-0-0",
          "--query",
          "tags.fleet = 'rollout'",
          "--method",
          "firmwareUpdate",
          "--payload",
          "{\"fwPackageUri\":\"https://fw.example/2.0.0.bin\",\"version\":\"2.0.0\"}",
          "--timeout",
          "30");

      Set<String> seen = new TreeSet<>();
      Map<String, Integer> done = Map.of("current", 90, "failed", 10);
      await()
          .atMost(Duration.ofSeconds(40))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                Map<String, Integer> p = progress();
                seen.addAll(p.keySet());
                return p.equals(done)
                    && query(
                                "SELECT COUNT() AS n FROM devices"
                                    + " WHERE properties.reported.firmware.currentVersion = '2.0.0'")
                            .getJsonObject(0)
                            .getInteger("n")
                        == 90;
              });

      // The progress query saw the updates in flight, not only their outcome.
      assertThat(seen)
          .contains("current", "failed")
          .containsAnyOf("downloading", "verifying", "applying", "rebooting");
      JsonArray failed =
          query(
              "SELECT deviceId, properties.reported.firmware AS fw FROM devices"
                  + " WHERE properties.reported.firmware.status = 'failed'");
      assertThat(ids(failed)).isEqualTo(injected);
      for (Object row : failed) {
        JsonObject fw = ((JsonObject) row).getJsonObject("fw");
        assertThat(fw.getString("currentVersion")).isEqualTo("1.0.0");
        assertThat(fw.getString("pendingVersion")).isEqualTo("2.0.0");
        assertThat(fw.getString("error")).isNotBlank();
      }
      assertThat(
              ids(
                  query(
                      "SELECT deviceId FROM devices"
                          + " WHERE properties.reported.firmware.currentVersion = '2.0.0'")))
          .hasSize(90)
          .doesNotContainAnyElementsOf(injected);
      JsonObject stats = job("fw-2-0-0").getJsonObject("deviceJobStatistics");
      assertThat(stats.getInteger("deviceCount")).isEqualTo(100);
      assertThat(stats.getInteger("succeededCount")).isEqualTo(100); // every device answered 200
      SimulationReport report = sim.report();
      assertThat(report.count(Count.FIRMWARE_UPDATES)).isEqualTo(100);
      assertThat(report.count(Count.FIRMWARE_SUCCEEDED)).isEqualTo(90);
      assertThat(report.count(Count.FIRMWARE_FAILED)).isEqualTo(10);
      assertThat(report.count(Count.REPORTED_FAILED)).isZero();
    }
  }
}
