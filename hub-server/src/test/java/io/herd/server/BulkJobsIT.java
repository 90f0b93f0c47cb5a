package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinIdentity;
import io.herd.core.twin.TwinKey;
import io.herd.registry.Device;
import io.herd.registry.DeviceStatus;
import io.herd.registry.IdentityChange;
import io.herd.server.bulk.BulkJob;
import io.herd.server.bulk.BulkJobRequest;
import io.herd.server.bulk.BulkJobStatus;
import io.herd.server.bulk.BulkJobStore;
import io.herd.server.bulk.BulkJobType;
import io.herd.server.bulk.BulkJobs;
import io.herd.server.bulk.ImportChunk;
import io.herd.server.bulk.ImportError;
import io.herd.server.bulk.pg.PgBulkJobStore;
import io.herd.twin.TwinChange;
import io.herd.twin.TwinStore;
import io.herd.twin.TwinUpdate;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Import and export jobs ({@code POST /jobs/create}, wire §5.7) end to end: device lists in files
 * under the jobs directory and behind a local HTTP blob server, per-line errors, one job at a time,
 * cancellation, and an import resumed after a restart or after a crash anywhere in a chunk.
 */
class BulkJobsIT {
  private static final String API = "?api-version=2021-04-12";
  private static final Duration JOB_TIME = Duration.ofSeconds(120);
  private static final SecureRandom RANDOM = new SecureRandom();

  private static TestHub hub;
  private static Vertx serverVertx;
  private static BlobServer blobs;

  @BeforeAll
  static void start() throws Exception {
    hub = TestHub.start();
    serverVertx = Vertx.vertx();
    blobs = new BlobServer(serverVertx);
  }

  @AfterAll
  static void stop() {
    if (hub != null) {
      hub.close();
    }
    if (serverVertx != null) {
      Future.await(serverVertx.close());
    }
  }

  // ---- helpers

  private static HttpResponse<Buffer> create(TestHub h, JsonObject body) {
    return Future.await(
        h.client.post("/jobs/create" + API).putHeader("Authorization", h.owner()).sendJson(body));
  }

  /** Creates a job and returns its id. */
  private static String created(TestHub h, JsonObject body) {
    HttpResponse<Buffer> r = create(h, body);
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    assertThat(r.getHeader("Content-Type")).startsWith("application/json");
    return r.bodyAsJsonObject().getString("jobId");
  }

  private static JsonObject job(TestHub h, String id) {
    HttpResponse<Buffer> r =
        Future.await(
            h.client.get("/jobs/" + id + API).putHeader("Authorization", h.owner()).send());
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  private static JsonObject awaitStatus(TestHub h, String id, String status) {
    await()
        .atMost(JOB_TIME)
        .pollInterval(Duration.ofMillis(50))
        .until(() -> job(h, id).getString("status"), s -> s.equals(status) || isEnd(s));
    JsonObject j = job(h, id);
    assertThat(j.getString("status")).as(j.encodePrettily()).isEqualTo(status);
    return j;
  }

  private static boolean isEnd(String status) {
    return status.equals("completed") || status.equals("failed") || status.equals("cancelled");
  }

  private static JsonObject importJob(Path in, Path out) {
    return new JsonObject()
        .put("type", "import")
        .put("inputBlobContainerUri", in.toUri().toString())
        .put("outputBlobContainerUri", out.toUri().toString());
  }

  private static JsonObject httpImport(String in, String out) {
    return new JsonObject()
        .put("type", "import")
        .put("inputBlobContainerUri", blobs.url(in))
        .put("outputBlobContainerUri", blobs.url(out));
  }

  private static HttpResponse<Buffer> cancel(TestHub h, String id) {
    return Future.await(
        h.client.delete("/jobs/" + id + API).putHeader("Authorization", h.owner()).send());
  }

  private static JsonObject exportJob(Path out, boolean excludeKeys) {
    return new JsonObject()
        .put("type", "export")
        .put("outputBlobContainerUri", out.toUri().toString())
        .put("excludeKeysInExport", excludeKeys);
  }

  private static Path jobsDir(TestHub h) {
    return h.hub.config().jobsDir();
  }

  private static Path writeDevices(Path dir, List<String> lines) throws Exception {
    Files.createDirectories(dir);
    return Files.write(dir.resolve("devices.txt"), lines, StandardCharsets.UTF_8);
  }

  private static List<JsonObject> readLines(Path file) throws Exception {
    List<JsonObject> out = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      out.add(new JsonObject(line));
    }
    return out;
  }

  private static String key() {
    byte[] k = new byte[32];
    RANDOM.nextBytes(k);
    return Base64.getEncoder().encodeToString(k);
  }

  private static JsonObject twin(TestHub h, String id) {
    HttpResponse<Buffer> r =
        Future.await(
            h.client.get("/twins/" + id + API).putHeader("Authorization", h.owner()).send());
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  private static void assertRejected(HttpResponse<Buffer> r, String code, String message) {
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(400);
    assertThat(r.getHeader("iothub-errorcode")).isEqualTo(code);
    assertThat(r.bodyAsJsonObject().getString("Message")).contains(message);
  }

  /** What an export says of a device, keys included, for comparing whole fleets. */
  private static JsonObject essence(JsonObject line) {
    JsonObject keys = line.getJsonObject("authentication").getJsonObject("symmetricKey");
    JsonObject properties = line.getJsonObject("properties", new JsonObject());
    return new JsonObject()
        .put("id", line.getString("id"))
        .put("status", line.getString("status", "enabled"))
        .put("statusReason", line.getString("statusReason"))
        .put("primaryKey", keys.getString("primaryKey"))
        .put("secondaryKey", keys.getString("secondaryKey"))
        .put("tags", line.getJsonObject("tags", new JsonObject()))
        .put("desired", properties.getJsonObject("desired", new JsonObject()));
  }

  // ---- tests

  @Test
  void importThenExportRoundTripsTenThousandIdentities() throws Exception {
    try (TestHub h = TestHub.start()) {
      Path dir = jobsDir(h).resolve("roundtrip");
      List<String> lines = new ArrayList<>();
      Map<String, JsonObject> expected = new HashMap<>();
      for (int i = 0; i < 10_000; i++) {
        boolean disabled = i % 7 == 0;
        JsonObject line =
            new JsonObject()
                .put("id", String.format("rt-%05d", i))
                .put("importMode", i % 2 == 0 ? "create" : "createOrUpdate")
                .put("status", disabled ? "disabled" : "enabled")
                .put("statusReason", disabled ? "retired " + i : null)
                .put(
                    "authentication",
                    new JsonObject()
                        .put("type", "sas")
                        .put(
                            "symmetricKey",
                            new JsonObject().put("primaryKey", key()).put("secondaryKey", key())))
                .put("tags", new JsonObject().put("site", "s" + i % 10).put("n", i))
                .put(
                    "properties",
                    new JsonObject()
                        .put(
                            "desired",
                            new JsonObject()
                                .put("fw", "1." + i % 3)
                                .put("cfg", new JsonObject().put("rate", i % 5))));
        lines.add(line.encode());
        expected.put(line.getString("id"), essence(line));
      }
      writeDevices(dir.resolve("in"), lines);

      String importId = created(h, importJob(dir.resolve("in"), dir.resolve("out")));
      JsonObject imported = awaitStatus(h, importId, "completed");
      assertThat(imported.getInteger("progress")).isEqualTo(100);
      assertThat(imported.getString("failureReason")).isNull();
      assertThat(imported.getString("startTimeUtc")).endsWith("Z");
      assertThat(imported.getString("endTimeUtc")).endsWith("Z");
      assertThat(Files.readString(dir.resolve("out/importErrors.log"))).isEmpty();
      assertThat(h.hub.registry().statistics().totalDeviceCount()).isEqualTo(10_000);

      String exportId = created(h, exportJob(dir.resolve("export"), false));
      JsonObject exported = awaitStatus(h, exportId, "completed");
      assertThat(exported.getInteger("progress")).isEqualTo(100);
      assertThat(exported.getString("outputBlobName")).isEqualTo("devices.txt");

      Map<String, JsonObject> actual = new HashMap<>();
      for (JsonObject line : readLines(dir.resolve("export/devices.txt"))) {
        assertThat(line.getString("eTag")).isNotBlank();
        assertThat(line.getString("twinETag")).isNotBlank();
        actual.put(line.getString("id"), essence(line));
      }
      assertThat(actual).hasSize(10_000);
      assertThat(actual).isEqualTo(expected);
    }
  }

  @Test
  void anExportWithoutKeysLeavesThemOutAndKeepsTheRest() throws Exception {
    Path dir = jobsDir(hub).resolve("nokeys");
    writeDevices(
        dir.resolve("in"),
        List.of(
            "{\"id\":\"nokeys-1\",\"tags\":{\"t\":1}}",
            "{\"id\":\"nokeys-2\",\"status\":\"disabled\"}"));
    awaitStatus(hub, created(hub, importJob(dir.resolve("in"), dir.resolve("in"))), "completed");

    String id = created(hub, exportJob(dir.resolve("out"), true));
    assertThat(job(hub, id).getBoolean("excludeKeysInExport")).isTrue();
    awaitStatus(hub, id, "completed");
    Map<String, JsonObject> lines = new HashMap<>();
    for (JsonObject line : readLines(dir.resolve("out/devices.txt"))) {
      JsonObject keys = line.getJsonObject("authentication").getJsonObject("symmetricKey");
      assertThat(keys.getValue("primaryKey")).as(line.encode()).isNull();
      assertThat(keys.getValue("secondaryKey")).as(line.encode()).isNull();
      lines.put(line.getString("id"), line);
    }
    assertThat(lines.get("nokeys-1").getJsonObject("tags")).isEqualTo(new JsonObject().put("t", 1));
    assertThat(lines.get("nokeys-2").getString("status")).isEqualTo("disabled");
    assertThat(hub.hub.registry().find("nokeys-1").orElseThrow().authentication().primaryKey())
        .isNotBlank();
  }

  @Test
  void badLinesAreReportedWithTheirLineNumbersAndTheOthersAreImported() throws Exception {
    hub.deviceKey("err-existing");
    Path dir = jobsDir(hub).resolve("errors");
    writeDevices(
        dir,
        List.of(
            "{\"id\":\"err-ok1\",\"importMode\":\"create\"}",
            "{\"id\":",
            "{\"id\":\"err bad\"}",
            "{\"id\":\"err-existing\",\"importMode\":\"create\"}",
            "{\"id\":\"err-existing\",\"importMode\":\"updateIfMatchETag\",\"eTag\":\"bm9wZQ==\"}",
            "",
            "{\"id\":\"err-missing\",\"importMode\":\"delete\"}",
            "{\"id\":\"err-ok2\",\"tags\":{\"a\":1},\"properties\":{\"desired\":{\"d\":2}}}"));
    String id = created(hub, importJob(dir, dir).put("outputBlobName", "report/errors.log"));
    JsonObject j = awaitStatus(hub, id, "completed");
    assertThat(j.getString("failureReason"))
        .isEqualTo("5 of 7 devices failed to import; see report/errors.log");

    List<JsonObject> errors = readLines(dir.resolve("report/errors.log"));
    assertThat(errors)
        .extracting(e -> e.getLong("line") + " " + e.getString("errorCode"))
        .containsExactly(
            "2 DeserializationError",
            "3 ArgumentInvalid",
            "4 DeviceAlreadyExists",
            "5 PreconditionFailed",
            "7 DeviceNotFound");
    assertThat(errors)
        .extracting(e -> e.getString("deviceId"))
        .containsExactly(null, "err bad", "err-existing", "err-existing", "err-missing");
    assertThat(errors).allSatisfy(e -> assertThat(e.getString("errorStatus")).startsWith("Line "));
    assertThat(hub.hub.registry().find("err-ok1")).isPresent();
    JsonObject twin = twin(hub, "err-ok2");
    assertThat(twin.getJsonObject("tags")).isEqualTo(new JsonObject().put("a", 1));
    assertThat(twin.getJsonObject("properties").getJsonObject("desired").getInteger("d"))
        .isEqualTo(2);
  }

  @Test
  void containersOutsideTheJobsDirectoryAreRefused() throws Exception {
    Path jobs = jobsDir(hub);
    Path outside = Files.createTempDirectory("herd-outside-");
    writeDevices(outside, List.of("{\"id\":\"never\"}"));
    Files.createDirectories(jobs.resolve("links"));
    Files.createSymbolicLink(jobs.resolve("links/out"), outside);

    assertRejected(
        create(hub, exportJob(jobs, false).put("outputBlobContainerUri", "file://" + jobs + "/..")),
        "ArgumentInvalid",
        "is not inside the hub's jobs directory");
    assertRejected(
        create(hub, importJob(outside, jobs)), "ArgumentInvalid", "inputBlobContainerUri");
    assertRejected(
        create(hub, importJob(jobs.resolve("links/out"), jobs)),
        "ArgumentInvalid",
        "is not inside the hub's jobs directory");
    assertRejected(
        create(hub, exportJob(jobs, false).put("outputBlobName", "../escape.txt")),
        "ArgumentInvalid",
        "Blob name '../escape.txt'");
    assertRejected(
        create(hub, exportJob(jobs, false).put("outputBlobContainerUri", "ftp://host/c")),
        "ArgumentInvalid",
        "scheme 'ftp'");
    assertRejected(
        create(hub, new JsonObject().put("type", "backup")), "ArgumentInvalid", "'type'");
    assertRejected(
        create(hub, new JsonObject().put("type", "export")),
        "ArgumentNull",
        "'outputBlobContainerUri' is required");
    assertThat(hub.hub.registry().find("never")).isEmpty();
  }

  @Test
  void blobsAreReadAndWrittenOverHttpKeepingTheContainerQuery() throws Exception {
    blobs.put(
        "/in/devices.txt",
        "{\"id\":\"http-1\",\"tags\":{\"via\":\"http\"}}\n{\"id\":\"http-1\",\"importMode\":\"create\"}\n");
    String importId = created(hub, httpImport("/in?sv=1&sig=s3cret", "/out/?sig=s3cret"));
    JsonObject imported = awaitStatus(hub, importId, "completed");
    assertThat(imported.getString("failureReason")).startsWith("1 of 2 devices failed");
    assertThat(hub.hub.registry().find("http-1")).isPresent();

    BlobServer.Request get = blobs.last(HttpMethod.GET, "/in/devices.txt");
    assertThat(get.query()).isEqualTo("sv=1&sig=s3cret");
    BlobServer.Request put = blobs.last(HttpMethod.PUT, "/out/importErrors.log");
    assertThat(put.query()).isEqualTo("sig=s3cret");
    assertThat(put.blobType()).isEqualTo("BlockBlob");
    assertThat(put.contentLength()).isEqualTo(Integer.toString(put.body().length()));
    JsonObject error = new JsonObject(put.body().toString().strip());
    assertThat(error.getLong("line")).isEqualTo(2);
    assertThat(error.getString("errorCode")).isEqualTo("DeviceAlreadyExists");

    String exportId =
        created(
            hub,
            new JsonObject()
                .put("type", "export")
                .put("outputBlobContainerUri", blobs.url("/exports?sig=s3cret"))
                .put("outputBlobName", "http.txt"));
    awaitStatus(hub, exportId, "completed");
    BlobServer.Request exported = blobs.last(HttpMethod.PUT, "/exports/http.txt");
    assertThat(exported.body().toString()).contains("\"id\":\"http-1\"");

    String missing = created(hub, httpImport("/nothing-here?sig=s3cret", "/out?sig=s3cret"));
    JsonObject failed = awaitStatus(hub, missing, "failed");
    assertThat(failed.getString("failureReason"))
        .contains("/nothing-here/devices.txt")
        .contains("GET answered 404")
        .doesNotContain("s3cret");
  }

  @Test
  void unknownJobsAreJobNotFoundAndScheduledJobRoutesAreLeftAlone() throws Exception {
    for (HttpMethod method : List.of(HttpMethod.GET, HttpMethod.DELETE)) {
      HttpResponse<Buffer> r =
          Future.await(
              hub.client
                  .request(method, "/jobs/no-such-job" + API)
                  .putHeader("Authorization", hub.owner())
                  .send());
      assertThat(r.statusCode()).isEqualTo(404);
      assertThat(r.getHeader("iothub-errorcode")).isEqualTo("JobNotFound");
      assertThat(r.bodyAsJsonObject().getInteger("errorCode")).isEqualTo(404002);
    }
    HttpResponse<Buffer> v2 =
        Future.await(
            hub.client.get("/jobs/v2" + API).putHeader("Authorization", hub.owner()).send());
    assertThat(v2.getHeader("iothub-errorcode")).isNotEqualTo("JobNotFound");

    // Reading needs RegistryRead, creating RegistryWrite.
    Path dir = jobsDir(hub).resolve("rights");
    HttpResponse<Buffer> denied =
        Future.await(
            hub.client
                .post("/jobs/create" + API)
                .putHeader("Authorization", hub.token("registryRead"))
                .sendJson(exportJob(dir, false)));
    assertThat(denied.statusCode()).isEqualTo(401);
    String id = created(hub, exportJob(dir, false));
    HttpResponse<Buffer> list =
        Future.await(
            hub.client
                .get("/jobs" + API)
                .putHeader("Authorization", hub.token("registryRead"))
                .send());
    assertThat(list.statusCode()).isEqualTo(200);
    JsonArray jobs = list.bodyAsJsonArray();
    assertThat(jobs.stream().map(j -> ((JsonObject) j).getString("jobId"))).contains(id);
    awaitStatus(hub, id, "completed");
  }

  @Test
  void jobsRunOneAtATimeInTheOrderTheyWereCreated() throws Exception {
    BlobServer.Hold held = blobs.hold("/slow/devices.txt", "{\"id\":\"order-1\"}\n", "");
    String first = created(hub, httpImport("/slow", "/slow-out"));
    await().atMost(JOB_TIME).until(held::requested);
    Path dir = jobsDir(hub).resolve("order");
    String second = created(hub, exportJob(dir.resolve("second"), false));
    String third = created(hub, exportJob(dir.resolve("third"), false));

    assertThat(job(hub, first).getString("status")).isEqualTo("running");
    JsonObject waiting = job(hub, second);
    assertThat(waiting.getString("status")).isEqualTo("enqueued");
    assertThat(waiting.getValue("startTimeUtc")).isNull();
    assertThat(waiting.getInteger("progress")).isZero();

    HttpResponse<Buffer> cancelled = cancel(hub, third);
    assertThat(cancelled.statusCode()).isEqualTo(200);
    assertThat(cancelled.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");

    held.release();
    JsonObject a = awaitStatus(hub, first, "completed");
    JsonObject b = awaitStatus(hub, second, "completed");
    assertThat(Instant.parse(b.getString("startTimeUtc")))
        .isAfterOrEqualTo(Instant.parse(a.getString("endTimeUtc")));
    assertThat(Files.readString(dir.resolve("second/devices.txt"))).contains("order-1");
    assertThat(job(hub, third).getString("status")).isEqualTo("cancelled");
    assertThat(dir.resolve("third")).doesNotExist();
  }

  @Test
  void cancellingARunningImportStopsItAndTheNextJobRuns() throws Exception {
    BlobServer.Hold held =
        blobs.hold("/cancel/devices.txt", "{\"id\":\"cancel-1\"}\n", "{\"id\":\"cancel-2\"}\n");
    String running = created(hub, httpImport("/cancel", "/cancel-out"));
    await().atMost(JOB_TIME).until(held::requested);
    Path dir = jobsDir(hub).resolve("after-cancel");
    String next = created(hub, exportJob(dir, false));

    HttpResponse<Buffer> r = cancel(hub, running);
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    assertThat(r.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
    assertThat(r.bodyAsJsonObject().getString("endTimeUtc")).endsWith("Z");

    awaitStatus(hub, next, "completed");
    await().atMost(JOB_TIME).until(held::aborted);
    held.release();
    assertThat(job(hub, running).getString("status")).isEqualTo("cancelled");
    assertThat(hub.hub.registry().find("cancel-2")).isEmpty();
    assertThat(blobs.requests(HttpMethod.PUT, "/cancel-out/importErrors.log")).isZero();
  }

  @Test
  void anImportInterruptedByARestartResumesWithoutApplyingADeviceTwice() throws Exception {
    StringBuilder head = new StringBuilder();
    StringBuilder tail = new StringBuilder();
    for (int i = 0; i < 1_000; i++) {
      // create: a line applied a second time would fail with DeviceAlreadyExists.
      String line =
          "{\"id\":\"rs-" + i + "\",\"importMode\":\"create\",\"tags\":{\"i\":" + i + "}}\n";
      (i < 550 ? head : tail).append(line);
    }
    BlobServer.Hold held = blobs.hold("/restart/devices.txt", head.toString(), tail.toString());
    TestHub h = TestHub.start();
    try {
      String id = created(h, httpImport("/restart", "/restart-out"));
      // 550 lines arrived: five chunks of 100 are applied, the sixth waits for more lines.
      TestHub before = h;
      await()
          .atMost(JOB_TIME)
          .until(() -> before.hub.registry().statistics().totalDeviceCount() >= 500);
      assertThat(job(h, id).getString("status")).isEqualTo("running");

      h = h.restart();
      // The second request gets the whole list at once.
      held.release();
      JsonObject j = awaitStatus(h, id, "completed");
      assertThat(j.getString("failureReason")).isNull();
      assertThat(held.requestCount()).isEqualTo(2);
      assertThat(h.hub.registry().statistics().totalDeviceCount()).isEqualTo(1_000);
      assertThat(blobs.last(HttpMethod.PUT, "/restart-out/importErrors.log").body().length())
          .isZero();
      assertThat(twin(h, "rs-999").getJsonObject("tags").getInteger("i")).isEqualTo(999);
    } finally {
      h.close();
    }
  }

  /** Where the first process dies while it imports the second chunk of the list. */
  enum Crash {
    /** Nowhere: the run the others must end up as. */
    NONE,
    /** After the chunk was recorded, before the registry applied any of it. */
    AFTER_THE_CHUNK_WAS_RECORDED,
    /** After the registry committed the chunk's identities and all twin parts but one. */
    AMID_THE_TWIN_PARTS,
    /** After the chunk was applied whole, before its progress committed. */
    BEFORE_THE_PROGRESS_COMMIT
  }

  @ParameterizedTest
  @EnumSource(Crash.class)
  void anImportKilledInTheMiddleOfAChunkAppliesEachDeviceOnceWhenItResumes(Crash crash)
      throws Exception {
    TestHub h = TestHub.start();
    try {
      for (String id : List.of("cr-upd", "cr-cou", "cr-twin", "cr-exists", "cr-del")) {
        h.deviceKey(id);
      }
      patchTwin(h, "cr-cou", new JsonObject().put("tags", new JsonObject().put("v", 0)));
      patchTwin(h, "cr-twin", new JsonObject().put("tags", new JsonObject().put("t", 0)));
      Map<String, String> before = identities(h);
      long couTwin = serviceVersion(h, "cr-cou");
      long twinTwin = serviceVersion(h, "cr-twin");

      List<String> lines = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        lines.add("{\"id\":\"cr-fill-" + i + "\",\"importMode\":\"create\"}");
      }
      // Lines 101 to 107, the second chunk: each one fails if it is applied a second time.
      lines.add("{\"id\":\"cr-new\",\"importMode\":\"create\",\"tags\":{\"n\":1}}");
      lines.add(
          new JsonObject()
              .put("id", "cr-upd")
              .put("importMode", "updateIfMatchETag")
              .put("eTag", before.get("cr-upd"))
              .put("status", "disabled")
              .encode());
      lines.add(
          "{\"id\":\"cr-cou\",\"importMode\":\"createOrUpdate\",\"tags\":{\"v\":1},"
              + "\"properties\":{\"desired\":{\"d\":1}}}");
      // Fails the first time already, and must still be reported once.
      lines.add("{\"id\":\"cr-exists\",\"importMode\":\"create\"}");
      lines.add(
          new JsonObject()
              .put("id", "cr-twin")
              .put("importMode", "updateTwinIfMatchETag")
              .put("twinETag", h.hub.twins().find(TwinKey.device("cr-twin")).orElseThrow().etag())
              .put("tags", new JsonObject().put("t", 1))
              .encode());
      lines.add("{\"id\":\"cr-del\",\"importMode\":\"delete\"}");
      lines.add("{\"id\":");
      // Line 108 names cr-new again, so it starts the third chunk.
      lines.add("{\"id\":\"cr-new\",\"importMode\":\"updateTwin\",\"tags\":{\"phase\":2}}");
      Path dir = jobsDir(h).resolve("crash-" + crash.name().toLowerCase(Locale.ROOT));
      writeDevices(dir, lines);

      Map<String, Integer> firstChanges = new ConcurrentHashMap<>();
      h.hub
          .registry()
          .onChange(
              c -> {
                if (c instanceof IdentityChange.PutDevice p) {
                  firstChanges.merge(p.device().deviceId(), 1, Integer::sum);
                } else if (c instanceof IdentityChange.DeleteDevice d) {
                  firstChanges.merge(d.deviceId(), 1, Integer::sum);
                }
              });
      // The first process runs the job with stores that stop dead at the crash point.
      Vertx vertx = h.hub.vertx();
      Pool pool =
          PgBuilder.pool()
              .with(new PoolOptions().setMaxSize(2))
              .connectingTo(PgConnectOptions.fromUri(h.hub.config().pgUrl()))
              .using(vertx)
              .build();
      PgBulkJobStore jobStore = new PgBulkJobStore(pool);
      Promise<Void> died = Promise.promise();
      BulkJobs first =
          Future.await(
              BulkJobs.open(
                  vertx,
                  new DyingJobStore(jobStore, crash, died),
                  h.hub.registry(),
                  new DyingTwins(h.hub.twins(), crash, died),
                  jobsDir(h),
                  Files.createTempDirectory("herd-work-"),
                  Clock.systemUTC()));
      String uri = dir.toUri().toString();
      String id =
          Future.await(
                  first.create(
                      new BulkJobRequest(
                          BulkJobType.IMPORT, uri, "devices.txt", uri, "importErrors.log", false)))
              .jobId();
      if (crash == Crash.NONE) {
        await()
            .atMost(JOB_TIME)
            .until(
                () -> Future.await(jobStore.find(id)).orElseThrow().status(),
                s -> s == BulkJobStatus.COMPLETED);
      } else {
        Future.await(died.future().timeout(JOB_TIME.toSeconds(), TimeUnit.SECONDS));
        if (crash == Crash.AMID_THE_TWIN_PARTS) {
          TestHub dying = h;
          await().atMost(JOB_TIME).until(() -> serviceVersion(dying, "cr-twin") == twinTwin + 1);
          await().atMost(JOB_TIME).until(() -> serviceVersion(dying, "cr-new") == 1);
        }
        BulkJob dead = Future.await(jobStore.find(id)).orElseThrow();
        assertThat(dead.status()).isEqualTo(BulkJobStatus.RUNNING);
        assertThat(dead.linesDone()).isEqualTo(100);
        assertThat(h.hub.registry().find("cr-new").isPresent())
            .isEqualTo(crash != Crash.AFTER_THE_CHUNK_WAS_RECORDED);
      }
      Map<String, String> atCrash = identities(h);
      Future.await(pool.close());

      h = h.restart();
      JsonObject j = awaitStatus(h, id, "completed");
      assertThat(j.getString("failureReason"))
          .isEqualTo("2 of 108 devices failed to import; see importErrors.log");
      assertThat(readLines(dir.resolve("importErrors.log")))
          .extracting(e -> e.getLong("line") + " " + e.getString("errorCode"))
          .containsExactly("104 DeviceAlreadyExists", "107 DeserializationError");

      // Identity changes, by the first process and then by the second.
      Map<String, String> after = identities(h);
      Map<String, Integer> changes = new HashMap<>();
      for (String device : after.keySet()) {
        int second = Objects.equals(atCrash.get(device), after.get(device)) ? 0 : 1;
        changes.put(device, firstChanges.getOrDefault(device, 0) + second);
      }
      assertThat(changes)
          .isEqualTo(
              Map.of(
                  "cr-new",
                  1,
                  "cr-upd",
                  1,
                  "cr-cou",
                  1,
                  "cr-del",
                  1,
                  "cr-exists",
                  0,
                  "cr-twin",
                  0));
      assertThat(after.get("cr-del")).isNull();
      assertThat(after.get("cr-exists")).isEqualTo(before.get("cr-exists"));
      assertThat(h.hub.registry().find("cr-upd").orElseThrow().status())
          .isEqualTo(DeviceStatus.DISABLED);
      assertThat(h.hub.registry().statistics().totalDeviceCount()).isEqualTo(105);

      // Twin parts, each applied once.
      assertThat(serviceVersion(h, "cr-cou")).isEqualTo(couTwin + 1);
      JsonObject cou = twin(h, "cr-cou");
      assertThat(cou.getJsonObject("tags")).isEqualTo(new JsonObject().put("v", 1));
      assertThat(cou.getJsonObject("properties").getJsonObject("desired").getInteger("d"))
          .isEqualTo(1);
      assertThat(serviceVersion(h, "cr-twin")).isEqualTo(twinTwin + 1);
      assertThat(twin(h, "cr-twin").getJsonObject("tags")).isEqualTo(new JsonObject().put("t", 1));
      assertThat(serviceVersion(h, "cr-new")).isEqualTo(2);
      assertThat(twin(h, "cr-new").getJsonObject("tags"))
          .isEqualTo(new JsonObject().put("phase", 2));
    } finally {
      h.close();
    }
  }

  private static void patchTwin(TestHub h, String id, JsonObject patch) {
    HttpResponse<Buffer> r =
        Future.await(
            h.client
                .patch("/twins/" + id + API)
                .putHeader("Authorization", h.owner())
                .sendJson(patch));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
  }

  private static long serviceVersion(TestHub h, String id) {
    return h.hub.twins().find(TwinKey.device(id)).orElseThrow().serviceVersion();
  }

  /** The etags of the devices of the crash test's second chunk; null for one that is absent. */
  private static Map<String, String> identities(TestHub h) {
    Map<String, String> out = new HashMap<>();
    for (String id : List.of("cr-new", "cr-upd", "cr-cou", "cr-exists", "cr-twin", "cr-del")) {
      out.put(id, h.hub.registry().find(id).map(Device::etag).orElse(null));
    }
    return out;
  }

  /**
   * Jobs in PostgreSQL until the crash point of {@link Crash}: then the process is as good as dead,
   * the write that would come next never happens, and nothing completes.
   */
  static final class DyingJobStore implements BulkJobStore {
    private final BulkJobStore store;
    private final Crash crash;
    private final Promise<Void> died;
    private int chunks;
    private int commits;

    DyingJobStore(BulkJobStore store, Crash crash, Promise<Void> died) {
      this.store = store;
      this.crash = crash;
      this.died = died;
    }

    @Override
    public Future<Boolean> startChunk(String jobId, ImportChunk chunk) {
      Future<Boolean> written = store.startChunk(jobId, chunk);
      if (crash != Crash.AFTER_THE_CHUNK_WAS_RECORDED || ++chunks < 2) {
        return written;
      }
      written.onComplete(ar -> died.tryComplete());
      return Promise.<Boolean>promise().future();
    }

    @Override
    public Future<Boolean> progress(
        String jobId,
        long linesDone,
        int progress,
        long succeeded,
        long failed,
        List<ImportError> e) {
      if (crash != Crash.BEFORE_THE_PROGRESS_COMMIT || ++commits < 2) {
        return store.progress(jobId, linesDone, progress, succeeded, failed, e);
      }
      died.tryComplete();
      return Promise.<Boolean>promise().future();
    }

    @Override
    public Future<Void> insert(BulkJob job) {
      return store.insert(job);
    }

    @Override
    public Future<Optional<BulkJob>> find(String jobId) {
      return store.find(jobId);
    }

    @Override
    public Future<List<BulkJob>> list() {
      return store.list();
    }

    @Override
    public Future<Optional<BulkJob>> next() {
      return store.next();
    }

    @Override
    public Future<Optional<BulkJob>> start(String jobId, Instant at) {
      return store.start(jobId, at);
    }

    @Override
    public Future<Optional<ImportChunk>> startedChunk(String jobId) {
      return store.startedChunk(jobId);
    }

    @Override
    public Future<Boolean> finish(
        String jobId, BulkJobStatus status, int progress, Instant at, String failureReason) {
      return store.finish(jobId, status, progress, at, failureReason);
    }

    @Override
    public Future<Optional<BulkJob>> cancel(String jobId, Instant at) {
      return store.cancel(jobId, at);
    }

    @Override
    public Future<List<ImportError>> errors(String jobId, long afterLine, int max) {
      return store.errors(jobId, afterLine, max);
    }
  }

  /**
   * The hub's twins, except that for {@link Crash#AMID_THE_TWIN_PARTS} the update of cr-cou's twin
   * never happens: the process dies with it in flight.
   */
  static final class DyingTwins implements TwinStore {
    private final TwinStore twins;
    private final Crash crash;
    private final Promise<Void> died;

    DyingTwins(TwinStore twins, Crash crash, Promise<Void> died) {
      this.twins = twins;
      this.crash = crash;
      this.died = died;
    }

    @Override
    public Future<Twin> update(TwinKey key, TwinUpdate update) {
      if (crash != Crash.AMID_THE_TWIN_PARTS || !key.deviceId().equals("cr-cou")) {
        return twins.update(key, update);
      }
      died.tryComplete();
      return Promise.<Twin>promise().future();
    }

    @Override
    public Optional<Twin> find(TwinKey key) {
      return twins.find(key);
    }

    @Override
    public Future<Twin> ensure(TwinKey key, TwinIdentity identity) {
      return twins.ensure(key, identity);
    }

    @Override
    public Future<Twin> patchReported(TwinKey key, JsonObject patch) {
      return twins.patchReported(key, patch);
    }

    @Override
    public Future<Void> updateIdentity(TwinKey key, TwinIdentity identity) {
      return twins.updateIdentity(key, identity);
    }

    @Override
    public Future<Void> remove(TwinKey key) {
      return twins.remove(key);
    }

    @Override
    public Future<Void> removeDevice(String deviceId) {
      return twins.removeDevice(deviceId);
    }

    @Override
    public void forEach(Consumer<Twin> action) {
      twins.forEach(action);
    }

    @Override
    public long size() {
      return twins.size();
    }

    @Override
    public Subscription subscribe(TwinKey key, Consumer<TwinChange> listener) {
      return twins.subscribe(key, listener);
    }

    @Override
    public Subscription subscribeAll(Consumer<TwinChange> listener) {
      return twins.subscribeAll(listener);
    }
  }

  /** A blob container over plain HTTP: GET and PUT, and GETs held open until released. */
  static final class BlobServer {
    record Request(
        HttpMethod method,
        String path,
        String query,
        String blobType,
        String contentLength,
        Buffer body) {}

    /** A blob served as {@code head}, then held open until released; later GETs get it whole. */
    static final class Hold {
      private final String head;
      private final String tail;
      private final Promise<Void> released = Promise.promise();
      private final AtomicInteger requests = new AtomicInteger();
      private volatile boolean aborted;

      Hold(String head, String tail) {
        this.head = head;
        this.tail = tail;
      }

      boolean requested() {
        return requests.get() > 0;
      }

      boolean aborted() {
        return aborted;
      }

      int requestCount() {
        return requests.get();
      }

      void release() {
        released.tryComplete();
      }

      void serve(HttpServerRequest req) {
        int n = requests.incrementAndGet();
        Buffer whole = Buffer.buffer(head + tail);
        var response = req.response().putHeader("Content-Length", Integer.toString(whole.length()));
        if (n > 1) {
          response.end(whole);
          return;
        }
        req.connection().closeHandler(v -> aborted = true);
        response.write(Buffer.buffer(head));
        released
            .future()
            .onComplete(
                v -> {
                  if (!aborted) {
                    response.end(Buffer.buffer(tail));
                  }
                });
      }
    }

    private final HttpServer server;
    private final Map<String, Buffer> stored = new ConcurrentHashMap<>();
    private final Map<String, Hold> holds = new ConcurrentHashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();

    BlobServer(Vertx vertx) {
      server =
          Future.await(
              vertx.createHttpServer().requestHandler(this::handle).listen(0, "127.0.0.1"));
    }

    String url(String pathAndQuery) {
      return "http://127.0.0.1:" + server.actualPort() + pathAndQuery;
    }

    void put(String path, String content) {
      stored.put(path, Buffer.buffer(content));
    }

    Hold hold(String path, String head, String tail) {
      Hold h = new Hold(head, tail);
      holds.put(path, h);
      return h;
    }

    Request last(HttpMethod method, String path) {
      Request found = null;
      for (Request r : requests) {
        if (r.method().equals(method) && r.path().equals(path)) {
          found = r;
        }
      }
      assertThat(found).as(method + " " + path + " in " + requests).isNotNull();
      return found;
    }

    long requests(HttpMethod method, String path) {
      return requests.stream()
          .filter(r -> r.method().equals(method) && r.path().equals(path))
          .count();
    }

    private void handle(HttpServerRequest req) {
      String path = req.path();
      if (req.method().equals(HttpMethod.GET)) {
        requests.add(new Request(req.method(), path, req.query(), null, null, Buffer.buffer()));
        Hold hold = holds.get(path);
        if (hold != null) {
          hold.serve(req);
          return;
        }
        Buffer blob = stored.get(path);
        if (blob == null) {
          req.response().setStatusCode(404).end();
        } else {
          req.response().end(blob);
        }
        return;
      }
      if (req.method().equals(HttpMethod.PUT)) {
        req.body()
            .onSuccess(
                body -> {
                  requests.add(
                      new Request(
                          req.method(),
                          path,
                          req.query(),
                          req.getHeader("x-ms-blob-type"),
                          req.getHeader("Content-Length"),
                          body));
                  stored.put(path, body);
                  req.response().setStatusCode(201).end();
                });
        return;
      }
      req.response().setStatusCode(405).end();
    }
  }
}
