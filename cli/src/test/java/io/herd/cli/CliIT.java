package io.herd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every command run in-process against a whole hub, devices speaking MQTT. */
class CliIT {
  private static CliHub hub;

  @TempDir Path tmp;

  @BeforeAll
  static void start() throws Exception {
    hub = CliHub.start();
  }

  @AfterAll
  static void stop() {
    hub.close();
  }

  private static JsonObject json(String text) {
    return new JsonObject(text);
  }

  @Test
  void devicesCreateShowUpdateListAndDelete() {
    JsonObject created =
        json(hub.ok("devices", "create", "crud-1", "--status", "disabled", "-o", "json"));
    assertThat(created.getString("status")).isEqualTo("disabled");
    assertThat(
            created
                .getJsonObject("authentication")
                .getJsonObject("symmetricKey")
                .getString("primaryKey"))
        .isNotEmpty();

    assertThat(json(hub.ok("devices", "show", "crud-1", "-o", "json")).getString("etag"))
        .isEqualTo(created.getString("etag"));
    assertThat(hub.ok("devices", "show", "crud-1")).contains("status", "disabled");

    JsonObject updated =
        json(
            hub.ok(
                "devices",
                "update",
                "crud-1",
                "--status",
                "enabled",
                "--status-reason",
                "back",
                "-o",
                "json"));
    assertThat(updated.getString("status")).isEqualTo("enabled");
    assertThat(updated.getString("statusReason")).isEqualTo("back");
    Cli.Result stale =
        hub.herd(
            "devices",
            "update",
            "crud-1",
            "--status",
            "disabled",
            "--etag",
            created.getString("etag"));
    assertThat(stale.code()).isEqualTo(1);
    assertThat(stale.err()).startsWith("error: PreconditionFailed (412001): ");

    JsonArray listed =
        new JsonArray(hub.ok("devices", "list", "--where", "deviceId = 'crud-1'", "-o", "json"));
    assertThat(listed).hasSize(1);
    assertThat(listed.getJsonObject(0).getString("status")).isEqualTo("enabled");
    assertThat(hub.ok("devices", "list", "--where", "deviceId = 'crud-1'"))
        .startsWith("deviceId  status   connectionState")
        .contains("crud-1    enabled  Disconnected");

    String key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    String other = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=";
    JsonObject keyed =
        json(
            hub.ok(
                "devices",
                "create",
                "crud-2",
                "--primary-key",
                key,
                "--secondary-key",
                key,
                "-o",
                "json"));
    assertThat(keyed.getJsonObject("authentication").getJsonObject("symmetricKey"))
        .isEqualTo(new JsonObject().put("primaryKey", key).put("secondaryKey", key));
    JsonObject rekeyed =
        json(
            hub.ok(
                "devices", "update", "crud-2", "--secondary-key", other, "--edge", "-o", "json"));
    assertThat(rekeyed.getJsonObject("authentication").getJsonObject("symmetricKey"))
        .isEqualTo(new JsonObject().put("primaryKey", key).put("secondaryKey", other));
    assertThat(rekeyed.getJsonObject("capabilities").getBoolean("iotEdge")).isTrue();
    String thumb = "0123456789abcdef0123456789abcdef01234567";
    JsonObject x509 =
        json(hub.ok("devices", "create", "crud-3", "--primary-thumbprint", thumb, "-o", "json"));
    assertThat(x509.getJsonObject("authentication").getString("type")).isEqualTo("selfSigned");
    assertThat(
            x509.getJsonObject("authentication")
                .getJsonObject("x509Thumbprint")
                .getString("primaryThumbprint"))
        .isEqualToIgnoringCase(thumb);
    assertThat(hub.herd("devices", "delete", "crud-2", "crud-3").code()).isZero();

    Cli.Result again = hub.herd("devices", "create", "crud-1");
    assertThat(again.code()).isEqualTo(1);
    assertThat(again.err()).startsWith("error: DeviceAlreadyExists (409001): ");

    Cli.Result deleted = hub.herd("devices", "delete", "crud-1");
    assertThat(deleted.code()).isZero();
    assertThat(deleted.err()).contains("deleted device 'crud-1'");
    Cli.Result gone = hub.herd("devices", "show", "crud-1");
    assertThat(gone.code()).isEqualTo(1);
    assertThat(gone.err()).startsWith("error: DeviceNotFound (404001): ");

    Cli.Result badFlag = hub.herd("devices", "show", "crud-1", "--colour", "red");
    assertThat(badFlag.code()).isEqualTo(2);
    assertThat(badFlag.err()).startsWith("error: Unknown options: '--colour', 'red'");
  }

  @Test
  void importCsvAndJsonLinesThenExportAndImportTheExportAgain() throws Exception {
    Path csv = tmp.resolve("fleet.csv");
    Files.writeString(
        csv,
        "deviceId,status,tags.site,tags.floor,desired.fw\n"
            + "imp-1,enabled,b1,1,\"\"\"1.0\"\"\"\n"
            + "imp-2,disabled,b1,2,1.1\n"
            + "imp-3,,\"b,2\",,\n");
    Cli.Result fromCsv = hub.herd("devices", "import", csv.toString(), "-o", "json");
    assertThat(fromCsv.code()).as(fromCsv.err()).isZero();
    assertThat(json(fromCsv.out()))
        .isEqualTo(new JsonObject().put("entries", 3).put("succeeded", 3).put("failed", 0));

    String key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    Path lines = tmp.resolve("more.jsonl");
    Files.writeString(
        lines,
        "{\"id\":\"imp-4\",\"authentication\":{\"type\":\"sas\",\"symmetricKey\":{\"primaryKey\":\""
            + key
            + "\",\"secondaryKey\":\""
            + key
            + "\"}},\"tags\":{\"site\":\"b4\"}}\n"
            + "{\"deviceId\":\"imp-5\",\"properties\":{\"desired\":{\"mode\":\"eco\"}}}\n");
    assertThat(hub.herd("devices", "import", lines.toString()).code()).isZero();

    JsonObject twin1 = json(hub.ok("twin", "show", "imp-1", "-o", "json"));
    assertThat(twin1.getJsonObject("tags"))
        .isEqualTo(new JsonObject().put("site", "b1").put("floor", 1));
    assertThat(twin1.getJsonObject("properties").getJsonObject("desired").getValue("fw"))
        .isEqualTo("1.0");
    assertThat(
            json(hub.ok("twin", "show", "imp-2", "-o", "json"))
                .getJsonObject("properties")
                .getJsonObject("desired")
                .getValue("fw"))
        .isEqualTo(1.1);
    assertThat(json(hub.ok("devices", "show", "imp-2", "-o", "json")).getString("status"))
        .isEqualTo("disabled");

    Path export = tmp.resolve("export.jsonl");
    Cli.Result exported =
        hub.herd("devices", "export", "--file", export.toString(), "--page-size", "2");
    assertThat(exported.code()).as(exported.err()).isZero();
    List<JsonObject> mine =
        Files.readAllLines(export, StandardCharsets.UTF_8).stream()
            .map(JsonObject::new)
            .filter(o -> o.getString("id").startsWith("imp-"))
            .collect(Collectors.toList());
    assertThat(mine)
        .extracting(o -> o.getString("id"))
        .containsExactly("imp-1", "imp-2", "imp-3", "imp-4", "imp-5");
    JsonObject four = mine.get(3);
    assertThat(
            four.getJsonObject("authentication")
                .getJsonObject("symmetricKey")
                .getString("primaryKey"))
        .isEqualTo(key);
    assertThat(four.getJsonObject("tags")).isEqualTo(new JsonObject().put("site", "b4"));
    assertThat(mine.get(4).getJsonObject("properties").getJsonObject("desired"))
        .isEqualTo(new JsonObject().put("mode", "eco"));
    assertThat(mine.get(2).getJsonObject("tags").getString("site")).isEqualTo("b,2");
    assertThat(Files.readString(export)).doesNotContain("$metadata");

    // The export imports as it is: delete the devices and bring them back with their keys.
    assertThat(hub.herd("devices", "delete", "imp-1", "imp-2", "imp-3", "imp-4", "imp-5").code())
        .isZero();
    Path back = tmp.resolve("back.jsonl");
    Files.write(back, mine.stream().map(JsonObject::encode).collect(Collectors.toList()));
    Cli.Result restored = hub.herd("devices", "import", back.toString(), "--mode", "create");
    assertThat(restored.code()).as(restored.err()).isZero();
    JsonObject four2 = json(hub.ok("devices", "show", "imp-4", "-o", "json"));
    assertThat(
            four2
                .getJsonObject("authentication")
                .getJsonObject("symmetricKey")
                .getString("primaryKey"))
        .isEqualTo(key);
    assertThat(
            json(hub.ok("twin", "show", "imp-5", "-o", "json"))
                .getJsonObject("properties")
                .getJsonObject("desired")
                .getString("mode"))
        .isEqualTo("eco");

    // Entries the hub refuses are listed with their codes, the rest still land; exit 1.
    Path mixed = tmp.resolve("mixed.csv");
    Files.writeString(mixed, "deviceId\nimp-1\nimp-6\n");
    Cli.Result partly =
        hub.herd("devices", "import", mixed.toString(), "--mode", "create", "-o", "json");
    assertThat(partly.code()).isEqualTo(1);
    assertThat(partly.err()).contains("error: DeviceAlreadyExists (409001): device 'imp-1'");
    assertThat(json(partly.out()).getInteger("succeeded")).isEqualTo(1);
    assertThat(hub.herd("devices", "show", "imp-6").code()).isZero();

    Path broken = tmp.resolve("broken.csv");
    Files.writeString(broken, "deviceId,colour\nx,red\n");
    Cli.Result bad = hub.herd("devices", "import", broken.toString());
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("unknown column 'colour'");
  }

  @Test
  void twinPatchMergesTagsAndDesiredAndShowPrintsThem() {
    hub.createDevice("twin-1");
    JsonObject patched =
        json(
            hub.ok(
                "twin",
                "patch",
                "twin-1",
                "--tags",
                "{\"site\":\"b1\",\"floor\":3}",
                "--desired",
                "{\"fw\":\"1.2\",\"cfg\":{\"rate\":5}}",
                "-o",
                "json"));
    assertThat(patched.getJsonObject("tags"))
        .isEqualTo(new JsonObject().put("site", "b1").put("floor", 3));
    hub.ok("twin", "patch", "twin-1", "--tags", "{\"floor\":null}");
    String table = hub.ok("twin", "show", "twin-1");
    assertThat(table)
        .contains("tags.site", "b1", "properties.desired.fw", "1.2", "properties.desired.cfg.rate");
    assertThat(table).doesNotContain("tags.floor", "$metadata");
    Cli.Result stale =
        hub.herd("twin", "patch", "twin-1", "--desired", "{\"x\":1}", "--etag", "AAAAAAAAAAE=");
    assertThat(stale.code()).isEqualTo(1);
    assertThat(stale.err()).startsWith("error: PreconditionFailed (412001): ");
  }

  @Test
  void queryFollowsContinuationInAllThreeOutputs() throws Exception {
    Path csv = tmp.resolve("q.csv");
    StringBuilder sb = new StringBuilder("deviceId,tags.group,tags.n\n");
    for (int i = 1; i <= 5; i++) {
      sb.append("q-").append(i).append(",q,").append(i).append('\n');
    }
    Files.writeString(csv, sb.toString());
    hub.ok("devices", "import", csv.toString());
    String sql = "SELECT * FROM devices WHERE tags.group = 'q'";

    JsonArray rows = new JsonArray(hub.ok("query", sql, "--page-size", "2", "-o", "json"));
    assertThat(rows).hasSize(5);
    assertThat(rows.stream().map(r -> ((JsonObject) r).getString("deviceId")))
        .containsExactly("q-1", "q-2", "q-3", "q-4", "q-5");

    List<String> csvLines =
        hub.ok("query", sql, "--page-size", "2", "-o", "csv").lines().collect(Collectors.toList());
    assertThat(csvLines).hasSize(6);
    assertThat(csvLines.get(0)).startsWith("deviceId,status,connectionState,");
    assertThat(csvLines.get(3))
        .startsWith("q-3,enabled,Disconnected,")
        .contains("\"{\"\"group\"\":\"\"q\"\",\"\"n\"\":3}\"");

    List<String> table =
        hub.herd(Map.of("COLUMNS", "60"), "query", sql, "--page-size", "2")
            .out()
            .lines()
            .collect(Collectors.toList());
    assertThat(table).hasSize(6);
    assertThat(table).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(60));
    assertThat(table.get(5)).startsWith("q-5");

    String raw =
        hub.ok(
            "query",
            "SELECT deviceId, tags.n AS n FROM devices WHERE tags.group = 'q'",
            "--page-size",
            "2",
            "-o",
            "csv");
    assertThat(raw).isEqualTo("deviceId,n\nq-1,1\nq-2,2\nq-3,3\nq-4,4\nq-5,5\n");

    assertThat(new JsonArray(hub.ok("query", sql, "--max-items", "3", "-o", "json"))).hasSize(3);
    assertThat(
            hub.ok(
                "query",
                "SELECT COUNT() AS total FROM devices WHERE tags.group = 'q'",
                "-o",
                "csv"))
        .isEqualTo("total\n5\n");

    Cli.Result bad = hub.herd("query", "SELECT * FROM nowhere");
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.err()).startsWith("error: ArgumentInvalid (400004): Invalid query");
  }

  @Test
  void methodInvokeGetsTheDevicesAnswer() throws Exception {
    String key = hub.createDevice("meth-1");
    try (TestDevice d = TestDevice.connect(hub, "meth-1", key)) {
      d.answerMethods();
      JsonObject answer =
          json(
              hub.ok(
                  "method",
                  "invoke",
                  "meth-1",
                  "reboot",
                  "--payload",
                  "{\"delay\":5}",
                  "--timeout",
                  "10",
                  "-o",
                  "json"));
      assertThat(answer.getInteger("status")).isEqualTo(200);
      assertThat(answer.getJsonObject("payload"))
          .isEqualTo(
              new JsonObject()
                  .put("method", "reboot")
                  .put("echo", new JsonObject().put("delay", 5)));
    }
    Cli.Result offline = hub.herd("method", "invoke", "meth-1", "reboot");
    assertThat(offline.code()).isEqualTo(1);
    assertThat(offline.err()).startsWith("error: DeviceNotOnline (404103): ");
  }

  @Test
  void c2dSendReachesTheDeviceWithItsProperties() throws Exception {
    String key = hub.createDevice("c2d-1");
    try (TestDevice d = TestDevice.connect(hub, "c2d-1", key)) {
      d.subscribe("devices/c2d-1/messages/devicebound/#");
      JsonObject sent =
          json(
              hub.ok(
                  "c2d",
                  "send",
                  "c2d-1",
                  "reboot now",
                  "--property",
                  "priority=high",
                  "--message-id",
                  "m-1",
                  "-o",
                  "json"));
      assertThat(sent.getString("messageId")).isEqualTo("m-1");
      TestDevice.Received r = d.next();
      assertThat(r.payload()).isEqualTo("reboot now");
      assertThat(r.topic())
          .startsWith("devices/c2d-1/messages/devicebound/")
          .contains("priority=high")
          .contains("m-1");
    }
    Cli.Result unknown = hub.herd("c2d", "send", "nobody", "x");
    assertThat(unknown.code()).isEqualTo(1);
    assertThat(unknown.err()).startsWith("error: DeviceNotFound (404001): ");
  }

  @Test
  void monitorPrintsTelemetryLiveAndFromTheRetainedStream() throws Exception {
    String key = hub.createDevice("mon-1");
    try (TestDevice d = TestDevice.connect(hub, "mon-1", key)) {
      CompletableFuture<Cli.Result> live =
          CompletableFuture.supplyAsync(
              () -> hub.herd("monitor", "--device", "mon-1", "--count", "1", "-o", "json"));
      // The reader may not be subscribed yet when a message goes out: send until one arrives.
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                d.sendTelemetry("temp=21", "{\"t\":21}");
                return live.isDone();
              });
      Cli.Result r = live.get();
      assertThat(r.code()).as(r.err()).isZero();
      JsonObject m = json(r.out().strip());
      assertThat(m.getString("deviceId")).isEqualTo("mon-1");
      assertThat(m.getJsonObject("properties").getString("temp")).isEqualTo("21");
      assertThat(m.getString("body")).isEqualTo("{\"t\":21}");

      String replay = hub.ok("monitor", "--device", "mon-1", "--from", "0", "--count", "1");
      assertThat(replay).contains("  mon-1  {\"temp\":\"21\"}  {\"t\":21}");
    }
  }

  @Test
  void scheduleTwinWaitsForTheJobWithPlainLinesOrABar() throws Exception {
    Path csv = tmp.resolve("job.csv");
    Files.writeString(csv, "deviceId,tags.group\njob-1,job\njob-2,job\njob-3,job\n");
    hub.ok("devices", "import", csv.toString());
    Cli.Result r =
        hub.herd(
            "jobs",
            "schedule-twin",
            "--job-id",
            "twin-job-1",
            "--query",
            "tags.group = 'job'",
            "--desired",
            "{\"fw\":\"2.0\"}",
            "--tags",
            "{\"updated\":true}",
            "--max-per-minute",
            "6000",
            "--max-concurrency",
            "2",
            "--abort-percent",
            "50",
            "--abort-min",
            "2",
            "--wait",
            "-o",
            "json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonObject job = json(r.out());
    assertThat(job.getString("status")).isEqualTo("completed");
    assertThat(job.getJsonObject("deviceJobStatistics").getInteger("succeededCount")).isEqualTo(3);
    assertThat(job.getInteger("maxDevicesPerMinute")).isEqualTo(6000);
    assertThat(job.getInteger("maxConcurrency")).isEqualTo(2);
    assertThat(r.err())
        .contains("job twin-job-1: completed, 3 of 3 devices done (3 succeeded, 0 failed");
    assertThat(
            json(hub.ok("twin", "show", "job-2", "-o", "json"))
                .getJsonObject("properties")
                .getJsonObject("desired")
                .getString("fw"))
        .isEqualTo("2.0");

    Cli.Result bar =
        hub.herd(
            Map.of("HERD_STDERR_TTY", "1", "COLUMNS", "150"),
            "jobs",
            "schedule-twin",
            "--query",
            "tags.group = 'job'",
            "--tags",
            "{\"n\":2}",
            "--wait");
    assertThat(bar.code()).as(bar.err()).isZero();
    assertThat(bar.err())
        .contains("\r")
        .contains(" completed [########################] 100%  ok 3  failed 0");
    assertThat(bar.out()).contains("status", "completed");
  }

  @Test
  void aFailedJobMakesWaitExitOne() {
    hub.createDevice("fail-1");
    Cli.Result r =
        hub.herd(
            "jobs",
            "schedule-method",
            "--query",
            "deviceId = 'fail-1'",
            "--method",
            "reboot",
            "--response-timeout",
            "5",
            "--abort-percent",
            "0",
            "--abort-min",
            "1",
            "--wait");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).containsPattern("error: job herd-[0-9-]+-[0-9a-f]{4} failed");
  }

  @Test
  void jobsListShowAndCancel() {
    String later = Instant.now().plusSeconds(3600).toString();
    JsonObject job =
        json(
            hub.ok(
                "jobs",
                "schedule-method",
                "--job-id",
                "later-1",
                "--query",
                "*",
                "--method",
                "ping",
                "--payload",
                "{\"n\":1}",
                "--start",
                later,
                "--device-timeout",
                "60",
                "--window",
                "22:00/120",
                "--window",
                "3:30/30",
                "-o",
                "json"));
    assertThat(job.getString("status")).isIn("queued", "scheduled");
    assertThat(job.getInteger("deviceTimeoutInSeconds")).isEqualTo(60);
    assertThat(job.getJsonArray("maintenanceWindows"))
        .isEqualTo(
            new JsonArray()
                .add(new JsonObject().put("startTime", "22:00").put("durationInMinutes", 120))
                .add(new JsonObject().put("startTime", "03:30").put("durationInMinutes", 30)));

    JsonArray listed =
        new JsonArray(
            hub.ok(
                "jobs",
                "list",
                "--type",
                "scheduleDeviceMethod",
                "--page-size",
                "1",
                "-o",
                "json"));
    assertThat(listed.stream().map(j -> ((JsonObject) j).getString("jobId"))).contains("later-1");
    assertThat(hub.ok("jobs", "list")).startsWith("jobId").contains("later-1");
    assertThat(json(hub.ok("jobs", "show", "later-1", "-o", "json")).getString("queryCondition"))
        .isEqualTo("*");

    assertThat(json(hub.ok("jobs", "cancel", "later-1", "-o", "json")).getString("status"))
        .isEqualTo("cancelled");
    Cli.Result waited = hub.herd("jobs", "show", "later-1", "--wait");
    assertThat(waited.code()).isEqualTo(1);
    assertThat(waited.err()).contains("error: job later-1 cancelled");

    Cli.Result none = hub.herd("jobs", "show", "no-such-job");
    assertThat(none.code()).isEqualTo(1);
    assertThat(none.err()).startsWith("error: JobNotFound (404002): ");
  }

  @Test
  void statsCountDevicesAndConnections() throws Exception {
    String key = hub.createDevice("stats-1");
    try (TestDevice d = TestDevice.connect(hub, "stats-1", key)) {
      JsonObject stats = json(hub.ok("stats", "-o", "json"));
      assertThat(stats.getInteger("totalDeviceCount")).isPositive();
      assertThat(stats.getInteger("enabledDeviceCount") + stats.getInteger("disabledDeviceCount"))
          .isEqualTo(stats.getInteger("totalDeviceCount"));
      assertThat(stats.getInteger("connectedDeviceCount")).isPositive();
      assertThat(hub.ok("stats")).contains("totalDeviceCount", "connectedDeviceCount");
    }
  }

  @Test
  void aConnectionStringWithAPortReachesTheHub() throws Exception {
    String cs =
        hub.ownerConnectionString()
            .replace("HostName=localhost", "HostName=localhost:" + hub.hub.httpsPort());
    Cli.Result r =
        new Cli(Map.of("HERD_CONNECTION_STRING", cs, "HERD_CA", hub.hub.caFile().toString()))
            .run("stats", "-o", "json");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(json(r.out()).containsKey("totalDeviceCount")).isTrue();

    // Without the hub's CA the JDK's trust store does not know its certificate.
    Cli.Result untrusted = new Cli(Map.of("HERD_CONNECTION_STRING", cs)).run("stats");
    assertThat(untrusted.code()).isEqualTo(1);
    assertThat(untrusted.err()).startsWith("error: TLS with https://localhost:");

    // A policy without the right permission gets the hub's 401.
    String readOnly = cs.replace("iothubowner", "registryRead");
    Cli.Result denied =
        new Cli(Map.of("HERD_CA", hub.hub.caFile().toString()))
            .run("--connection-string", readOnly, "devices", "delete", "x");
    assertThat(denied.code()).isEqualTo(1);
    assertThat(denied.err()).startsWith("error: IotHubUnauthorizedAccess (401002): ");
  }
}
