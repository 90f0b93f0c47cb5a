package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.herd.adapter.common.LiveEventStream;
import io.herd.simulator.Simulation;
import io.herd.simulator.SimulationReport;
import io.herd.simulator.SimulationReport.Count;
import io.herd.simulator.SimulationReport.Latency;
import io.herd.simulator.Simulator;
import io.herd.simulator.SimulatorConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device simulator against a whole hub: each device-management pattern seen from the service
 * side (methods over REST, twins read back), telemetry arriving at the hub, late answers and churn,
 * and a fleet split over two processes. The simulator signs in here with a service connection
 * string whose HostName carries the HTTPS port, as an operator would pass it.
 */
class SimulatorPatternsIT {
  private static final String API = "?api-version=2021-04-12";
  private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
  private static TestHub hub;
  private static Simulation sim;

  @TempDir static Path dir;

  @BeforeAll
  static void start() throws Exception {
    hub = TestHub.start();
    sim = Simulation.start(config("pat", 4, "--rate", "5"), QUIET);
    assertThat(sim.awaitOnline(Duration.ofSeconds(30))).isTrue();
  }

  @AfterAll
  static void stop() throws Exception {
    if (sim != null) {
      sim.stop();
    }
    if (hub != null) {
      hub.close();
    }
  }

  private static String[] args(String prefix, int devices, String... more) {
    List<String> a =
        new ArrayList<>(
            List.of(
                "--connection-string",
                hub.hub
                    .policies()
                    .find("iothubowner")
                    .orElseThrow()
                    .connectionString("localhost:" + hub.hub.httpsPort()),
                "--ca",
                hub.hub.caFile().toString(),
                "--mqtt-port",
                Integer.toString(hub.hub.mqttPort()),
                "--prefix",
                prefix,
                "--devices",
                Integer.toString(devices),
                "--reconnect-ms",
                "300",
                "--config-apply-ms",
                "100",
                "--event-loops",
                "1",
                "--status-seconds",
                "0"));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  private static SimulatorConfig config(String prefix, int devices, String... more) {
    return SimulatorConfig.fromArgs(args(prefix, devices, more));
  }

  private static HttpResponse<Buffer> call(
      String device, String method, Object payload, int connectTimeoutSeconds) {
    return Future.await(
        hub.client
            .post("/twins/" + device + "/methods" + API)
            .putHeader("Authorization", hub.owner())
            .timeout(60_000)
            .sendJsonObject(
                new JsonObject()
                    .put("methodName", method)
                    .put("payload", payload)
                    .put("responseTimeoutInSeconds", 20)
                    .put("connectTimeoutInSeconds", connectTimeoutSeconds)));
  }

  private static JsonObject invoke(String device, String method, Object payload) {
    HttpResponse<Buffer> r = call(device, method, payload, 0);
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  private static JsonObject twin(String device) {
    HttpResponse<Buffer> r =
        Future.await(
            hub.client
                .get("/twins/" + device + API)
                .putHeader("Authorization", hub.owner())
                .send());
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  private static JsonObject reported(String device) {
    return twin(device).getJsonObject("properties").getJsonObject("reported");
  }

  private static void patchDesired(String device, JsonObject desired) {
    HttpResponse<Buffer> r =
        Future.await(
            hub.client
                .patch("/twins/" + device + API)
                .putHeader("Authorization", hub.owner())
                .putHeader("If-Match", "*")
                .sendJsonObject(
                    new JsonObject().put("properties", new JsonObject().put("desired", desired))));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
  }

  private static Instant lastUpdated(JsonObject reported, String property) {
    return Instant.parse(
        reported.getJsonObject("$metadata").getJsonObject(property).getString("$lastUpdated"));
  }

  @Test
  void rebootAnswersAtOnceThenReportsRebootingAndOnlineAcrossAReconnect() throws Exception {
    long connects = sim.report().count(Count.CONNECTS);

    JsonObject answer = invoke("pat-0", "reboot", new JsonObject());

    assertThat(answer.getInteger("status")).isEqualTo(200);
    assertThat(answer.getJsonObject("payload").getString("result")).isEqualTo("rebooting");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> "online".equals(reported("pat-0").getString("rebootStatus")));
    JsonObject r = reported("pat-0");
    // rebootStatus: online was reported after lastReboot (with rebooting), on a new connection.
    assertThat(lastUpdated(r, "rebootStatus")).isAfter(lastUpdated(r, "lastReboot"));
    assertThat(Instant.parse(r.getString("lastReboot"))).isBefore(lastUpdated(r, "rebootStatus"));
    SimulationReport report = sim.report();
    assertThat(report.count(Count.REBOOTS)).isEqualTo(1);
    assertThat(report.count(Count.CONNECTS)).isGreaterThan(connects);
    assertThat(twin("pat-0").getString("connectionState")).isEqualTo("Connected");
  }

  @Test
  void configurationIsAppliedAndReportedWithItsStatusAndAFailureSaysWhy() throws Exception {
    patchDesired(
        "pat-2",
        new JsonObject()
            .put(
                "telemetryConfig",
                new JsonObject().put("configId", "c1").put("sendFrequency", "500ms"))
            .put("sentAtMs", System.currentTimeMillis()));

    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                new JsonObject()
                    .put("configId", "c1")
                    .put("sendFrequency", "500ms")
                    .put("status", "success")
                    .equals(withoutMetadata(reported("pat-2").getJsonObject("telemetryConfig"))));

    patchDesired(
        "pat-2",
        new JsonObject()
            .put(
                "telemetryConfig",
                new JsonObject().put("configId", "c2").put("sendFrequency", "soon")));
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                "failure"
                    .equals(
                        reported("pat-2").getJsonObject("telemetryConfig").getString("status")));
    JsonObject failed = reported("pat-2").getJsonObject("telemetryConfig");
    assertThat(failed.getString("configId")).isEqualTo("c2");
    assertThat(failed.getString("error")).contains("'soon' is not a duration");
    SimulationReport report = sim.report();
    assertThat(report.count(Count.CONFIG_APPLIED)).isGreaterThanOrEqualTo(1);
    assertThat(report.count(Count.CONFIG_FAILED)).isGreaterThanOrEqualTo(1);
    assertThat(report.latency(Latency.DESIRED_DELIVERY).getTotalCount()).isGreaterThanOrEqualTo(1);
  }

  private static JsonObject withoutMetadata(JsonObject o) {
    if (o == null) {
      return null;
    }
    JsonObject c = o.copy();
    c.remove("$metadata");
    return c;
  }

  @Test
  void factoryResetClearsTheReportedConfigurationAndReportsComplete() throws Exception {
    patchDesired(
        "pat-1",
        new JsonObject()
            .put(
                "telemetryConfig",
                new JsonObject().put("configId", "r1").put("sendFrequency", "1s")));
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> {
              JsonObject c = reported("pat-1").getJsonObject("telemetryConfig");
              return c != null && "success".equals(c.getString("status"));
            });

    JsonObject answer = invoke("pat-1", "factoryReset", null);

    assertThat(answer.getInteger("status")).isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> "complete".equals(reported("pat-1").getString("factoryResetStatus")));
    JsonObject r = reported("pat-1");
    assertThat(r.containsKey("telemetryConfig")).isFalse();
    assertThat(r.getString("lastFactoryReset")).isNotNull();
    assertThat(sim.report().count(Count.FACTORY_RESETS)).isEqualTo(1);
  }

  @Test
  void aFirmwareRequestWithoutAPackageIsAnswered400ByTheDevice() {
    JsonObject answer = invoke("pat-3", "firmwareUpdate", new JsonObject().put("version", "9"));

    assertThat(answer.getInteger("status")).isEqualTo(400);
    assertThat(answer.getJsonObject("payload").getString("error")).contains("fwPackageUri");
  }

  @Test
  void telemetryReachesTheHubsEventStreamAndIsAcknowledged() throws Exception {
    LiveEventStream events = hub.hub.events();
    Queue<LiveEventStream.Event> seen = new ConcurrentLinkedQueue<>();
    Context context = hub.hub.vertx().getOrCreateContext();
    List<LiveEventStream.Reader> reader = new ArrayList<>();
    CountDownLatch opened = new CountDownLatch(1);
    context.runOnContext(
        v -> {
          reader.add(events.open(context, -1, 100_000, seen::add, o -> {}));
          opened.countDown();
        });
    opened.await();
    long acked = sim.report().count(Count.TELEMETRY_ACKED);
    try {
      // 4 devices at 5 messages a second: 20 from each device well within the limit.
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () -> seen.stream().filter(e -> e.message().deviceId().equals("pat-3")).count() >= 5);
    } finally {
      context.runOnContext(v -> reader.get(0).close());
    }
    LiveEventStream.Event e =
        seen.stream().filter(x -> x.message().deviceId().equals("pat-3")).findFirst().orElseThrow();
    JsonObject body = new JsonObject(new String(e.message().body(), StandardCharsets.UTF_8));
    assertThat(body.getString("deviceId")).isEqualTo("pat-3");
    assertThat(body.getLong("seq")).isPositive();
    assertThat(e.message().systemProperties()).containsEntry("content-type", "application/json");
    SimulationReport report = sim.report();
    assertThat(report.count(Count.TELEMETRY_ACKED)).isGreaterThan(acked);
    assertThat(report.latency(Latency.TELEMETRY_PUBACK).getTotalCount())
        .isEqualTo(report.count(Count.TELEMETRY_ACKED));
    assertThat(report.latency(Latency.REPORTED_ACK).getTotalCount()).isPositive();
    assertThat(report.latency(Latency.CONNECT).getTotalCount()).isGreaterThanOrEqualTo(4);
  }

  @Test
  void slowDevicesAnswerMethodsLate() throws Exception {
    try (Simulation s =
        Simulation.start(
            config("late", 4, "--slow-percent", "50", "--slow-ms", "1500", "--rate", "0"), QUIET)) {
      assertThat(s.awaitOnline(Duration.ofSeconds(30))).isTrue();
      Set<Integer> late = s.config().lateAnswerers();
      assertThat(late).hasSize(2);
      int slow = late.iterator().next();
      int fast = 0;
      while (late.contains(fast)) {
        fast++;
      }

      long slowMs = answerMs(s.config().deviceId(slow));
      long fastMs = answerMs(s.config().deviceId(fast));

      assertThat(slowMs).isGreaterThanOrEqualTo(1_500);
      assertThat(fastMs).isLessThan(1_500);
      SimulationReport report = s.report();
      assertThat(report.count(Count.METHODS_LATE)).isEqualTo(1);
      assertThat(report.latency(Latency.METHOD_AT_DEVICE).getMaxValue())
          .isGreaterThanOrEqualTo(1_500_000);
    }
  }

  private static long answerMs(String device) {
    long t0 = System.nanoTime();
    assertThat(answered(device)).isTrue();
    return (System.nanoTime() - t0) / 1_000_000;
  }

  @Test
  void churnDropsConnectionsAndTheDevicesComeBack() throws Exception {
    try (Simulation s =
        Simulation.start(config("churn", 4, "--churn", "25", "--rate", "0"), QUIET)) {
      assertThat(s.awaitOnline(Duration.ofSeconds(30))).isTrue();

      await().atMost(Duration.ofSeconds(20)).until(() -> s.report().count(Count.CHURN_DROPS) >= 3);

      assertThat(s.awaitOnline(Duration.ofSeconds(10))).isTrue();
      SimulationReport report = s.report();
      assertThat(report.count(Count.CONNECTS)).isGreaterThanOrEqualTo(4 + 3);
      assertThat(report.count(Count.CONNECTIONS_LOST)).isZero();
      assertThat(report.count(Count.CONNECT_FAILURES)).isZero();
    }
  }

  /**
   * True when {@code device} answered a firmware update to the version it has (which starts
   * nothing) with 200.
   */
  private static boolean answered(String device) {
    HttpResponse<Buffer> r =
        call(
            device,
            "firmwareUpdate",
            new JsonObject().put("fwPackageUri", "https://fw/1").put("version", "1.0.0"),
            5);
    return r.statusCode() == 200 && r.bodyAsJsonObject().getInteger("status") == 200;
  }

  @Test
  void twoProcessesSplitTheFleetAndMergeTheirReports() throws Exception {
    Path report = dir.resolve("two.json");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int status =
        Simulator.run(
            args("two", 6, "--processes", "2", "--duration", "2", "--report", report.toString()),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            new CountDownLatch(1));

    assertThat(status).as(err.toString(StandardCharsets.UTF_8)).isZero();
    SimulationReport r = SimulationReport.fromJson(new JsonObject(Files.readString(report)));
    assertThat(r.processes()).isEqualTo(2);
    assertThat(r.devices()).isEqualTo(6);
    assertThat(r.online()).isEqualTo(6);
    assertThat(r.count(Count.CONNECTS)).isGreaterThanOrEqualTo(6);
    assertThat(r.latency(Latency.CONNECT).getTotalCount()).isEqualTo(r.count(Count.CONNECTS));
    for (int n = 0; n < 6; n++) {
      assertThat(reported("two-" + n).getJsonObject("firmware").getString("currentVersion"))
          .isEqualTo("1.0.0");
    }
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("processes : 2")
        .contains("6 simulated in 2 processes");
  }
}
