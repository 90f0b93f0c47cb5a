package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Import and export jobs ({@code POST /jobs/create}, wire §5.7) end to end: device lists in files
 * under the jobs directory and behind a local HTTP blob server, per-line errors, one job at a time,
 * cancellation, and an import resumed after a restart.
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
