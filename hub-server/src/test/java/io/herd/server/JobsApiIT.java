package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Jobs v2 over REST (wire §5.7, §7) with Herd's rollout control, against a whole hub. */
class JobsApiIT {
  private static final String API = "?api-version=2021-04-12";
  private static TestHub hub;

  @BeforeAll
  static void start() throws Exception {
    hub = TestHub.start();
  }

  @AfterAll
  static void stop() {
    if (hub != null) {
      hub.close();
    }
  }

  /** Creates {@code n} devices tagged {@code group}; returns their ids. */
  private static List<String> fleet(String group, int n) throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String id = String.format("%s-%03d", group, i);
      hub.deviceKey(id);
      HttpResponse<Buffer> r =
          Future.await(
              hub.client
                  .request(HttpMethod.PATCH, "/twins/" + id + API)
                  .putHeader("Authorization", hub.owner())
                  .putHeader("If-Match", "*")
                  .sendJsonObject(
                      new JsonObject().put("tags", new JsonObject().put("group", group))));
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
      ids.add(id);
    }
    return ids;
  }

  private static HttpResponse<Buffer> put(String jobId, JsonObject body) {
    return Future.await(
        hub.client
            .put("/jobs/v2/" + jobId + API)
            .putHeader("Authorization", hub.owner())
            .sendJsonObject(body));
  }

  private static JsonObject job(String jobId) {
    HttpResponse<Buffer> r =
        Future.await(
            hub.client
                .get("/jobs/v2/" + jobId + API)
                .putHeader("Authorization", hub.owner())
                .send());
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  private static JsonObject awaitStatus(String jobId, String status) {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> job(jobId).getString("status").equals(status));
    return job(jobId);
  }

  private static JsonObject twinJob(String jobId, String condition, JsonObject desired) {
    return new JsonObject()
        .put("jobId", jobId)
        .put("type", "scheduleUpdateTwin")
        .put("queryCondition", condition)
        .putNull("startTime")
        .put("maxExecutionTimeInSeconds", 3600)
        .put(
            "updateTwin",
            new JsonObject()
                .put("etag", "*")
                .put("properties", new JsonObject().put("desired", desired)));
  }

  private static JsonObject methodJob(String jobId, String condition, String method) {
    return new JsonObject()
        .put("type", "scheduleDeviceMethod")
        .put("queryCondition", condition)
        .put(
            "cloudToDeviceMethod",
            new JsonObject()
                .put("methodName", method)
                .put("payload", new JsonObject().put("a", 1))
                .put("responseTimeoutInSeconds", 10));
  }

  private static HttpResponse<Buffer> query(String text, Integer pageSize) {
    HttpRequest<Buffer> r =
        hub.client.post("/devices/query" + API).putHeader("Authorization", hub.owner());
    if (pageSize != null) {
      r.putHeader("x-ms-max-item-count", pageSize.toString());
    }
    return Future.await(r.sendJsonObject(new JsonObject().put("query", text)));
  }

  private static JsonObject twin(String id) {
    return Future.await(
            hub.client.get("/twins/" + id + API).putHeader("Authorization", hub.owner()).send())
        .bodyAsJsonObject();
  }

  @Test
  void aTwinJobUpdatesExactlyTheDevicesItsQuerySelects() throws Exception {
    List<String> a = fleet("tw-a", 10);
    List<String> b = fleet("tw-b", 3);
    HttpResponse<Buffer> created =
        put("tw1", twinJob("tw1", "tags.group = 'tw-a'", new JsonObject().put("fw", "2.0")));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(200);
    assertThat(created.bodyAsJsonObject().getString("status")).isIn("queued", "running");
    JsonObject done = awaitStatus("tw1", "completed");
    JsonObject stats = done.getJsonObject("deviceJobStatistics");
    assertThat(stats.getInteger("deviceCount")).isEqualTo(10);
    assertThat(stats.getInteger("succeededCount")).isEqualTo(10);
    assertThat(stats.getInteger("failedCount")).isZero();
    assertThat(stats.getInteger("pendingCount")).isZero();
    assertThat(done.getString("endTime")).isNotNull();
    for (String id : a) {
      JsonObject desired = twin(id).getJsonObject("properties").getJsonObject("desired");
      assertThat(desired.getString("fw")).isEqualTo("2.0");
    }
    for (String id : b) {
      assertThat(twin(id).getJsonObject("properties").getJsonObject("desired").containsKey("fw"))
          .isFalse();
    }
    HttpResponse<Buffer> rows =
        query("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'tw1'", 4);
    assertThat(rows.statusCode()).as(rows.bodyAsString()).isEqualTo(200);
    assertThat(rows.getHeader("x-ms-item-type")).isEqualTo("deviceJob");
    assertThat(rows.getHeader("x-ms-continuation")).isNotNull();
    JsonObject row = rows.bodyAsJsonArray().getJsonObject(0);
    assertThat(row.getString("deviceId")).isEqualTo("tw-a-000");
    assertThat(row.getString("jobId")).isEqualTo("tw1");
    assertThat(row.getString("jobType")).isEqualTo("scheduleUpdateTwin");
    assertThat(row.getString("status")).isEqualTo("completed");
    HttpResponse<Buffer> count =
        query(
            "SELECT COUNT() AS n FROM devices.jobs WHERE jobId = 'tw1' AND status = 'completed'",
            null);
    assertThat(count.bodyAsJsonArray().getJsonObject(0).getInteger("n")).isEqualTo(10);
  }

  @Test
  void aMethodJobRecordsEachResponseAndFailsOfflineDevices() throws Exception {
    List<String> ids = fleet("mj", 3);
    List<MqttTestDevice> online = new ArrayList<>();
    try {
      for (String id : ids.subList(0, 2)) {
        MqttTestDevice d =
            MqttTestDevice.connect(
                hub, id, hub.hub.registry().find(id).orElseThrow().authentication().primaryKey());
        d.subscribe("$iothub/methods/POST/#", 0);
        online.add(d);
        Thread t =
            new Thread(
                () -> {
                  try {
                    MqttTestDevice.Received r = d.received.poll(30, TimeUnit.SECONDS);
                    String rid = r.topic().substring(r.topic().indexOf("$rid=") + 5);
                    d.publish("$iothub/methods/res/201/?$rid=" + rid, "{\"rebooting\":true}", 0);
                  } catch (Exception e) {
                    // the test fails on the missing outcome
                  }
                });
        t.setDaemon(true);
        t.start();
      }
      HttpResponse<Buffer> created = put("mj1", methodJob("mj1", "tags.group = 'mj'", "reboot"));
      assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(200);
      JsonObject done = awaitStatus("mj1", "completed");
      JsonObject stats = done.getJsonObject("deviceJobStatistics");
      assertThat(stats.getInteger("succeededCount")).isEqualTo(2);
      assertThat(stats.getInteger("failedCount")).isEqualTo(1);
      JsonArray rows =
          query("SELECT * FROM devices.jobs WHERE jobId = 'mj1'", null).bodyAsJsonArray();
      assertThat(rows).hasSize(3);
      JsonObject ok = rows.getJsonObject(0);
      assertThat(ok.getString("status")).isEqualTo("completed");
      JsonObject response = ok.getJsonObject("outcome").getJsonObject("deviceMethodResponse");
      assertThat(response.getInteger("status")).isEqualTo(201);
      assertThat(response.getJsonObject("payload").getBoolean("rebooting")).isTrue();
      JsonObject offline = rows.getJsonObject(2);
      assertThat(offline.getString("deviceId")).isEqualTo("mj-002");
      assertThat(offline.getString("status")).isEqualTo("failed");
      assertThat(offline.getJsonObject("error").getString("code")).isEqualTo("DeviceNotOnline");
    } finally {
      for (MqttTestDevice d : online) {
        d.close();
      }
    }
  }

  @Test
  void aScheduledJobWaitsAndCanBeCancelled() throws Exception {
    fleet("sch", 2);
    JsonObject body =
        twinJob("sch1", "tags.group = 'sch'", new JsonObject().put("x", 1))
            .put("startTime", Instant.now().plus(1, ChronoUnit.HOURS).toString());
    HttpResponse<Buffer> created = put("sch1", body);
    assertThat(created.bodyAsJsonObject().getString("status")).isEqualTo("scheduled");
    HttpResponse<Buffer> listed =
        Future.await(
            hub.client
                .get("/jobs/v2/query" + API + "&jobType=scheduleUpdateTwin&jobStatus=scheduled")
                .putHeader("Authorization", hub.owner())
                .send());
    assertThat(listed.getHeader("x-ms-item-type")).isEqualTo("jobResponse");
    assertThat(listed.bodyAsJsonArray().stream().map(o -> ((JsonObject) o).getString("jobId")))
        .contains("sch1");
    HttpResponse<Buffer> cancelled =
        Future.await(
            hub.client
                .post("/jobs/v2/sch1/cancel" + API)
                .putHeader("Authorization", hub.owner())
                .send());
    assertThat(cancelled.statusCode()).as(cancelled.bodyAsString()).isEqualTo(200);
    assertThat(cancelled.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
    assertThat(job("sch1").getString("status")).isEqualTo("cancelled");
    assertThat(
            twin("sch-000").getJsonObject("properties").getJsonObject("desired").containsKey("x"))
        .isFalse();
  }

  @Test
  void jobListsPageWithAContinuation() throws Exception {
    fleet("pg", 1);
    for (int i = 0; i < 3; i++) {
      put("pg" + i, twinJob("pg" + i, "tags.group = 'pg'", new JsonObject().put("p", i)));
    }
    List<String> seen = new ArrayList<>();
    String token = null;
    do {
      HttpRequest<Buffer> r =
          hub.client
              .get("/jobs/v2/query" + API)
              .putHeader("Authorization", hub.owner())
              .putHeader("x-ms-max-item-count", "1");
      if (token != null) {
        r.putHeader("x-ms-continuation", token);
      }
      HttpResponse<Buffer> page = Future.await(r.send());
      assertThat(page.bodyAsJsonArray()).hasSize(1);
      seen.add(page.bodyAsJsonArray().getJsonObject(0).getString("jobId"));
      token = page.getHeader("x-ms-continuation");
    } while (token != null);
    assertThat(seen).contains("pg0", "pg1", "pg2").doesNotHaveDuplicates();
  }

  @Test
  void anAbortThresholdStopsAFailingJob() throws Exception {
    fleet("ab", 20);
    JsonObject body =
        methodJob("ab1", "tags.group = 'ab'", "update")
            .put("maxConcurrency", 1)
            .put(
                "abortCriteria",
                new JsonObject()
                    .put("failureThresholdPercentage", 50)
                    .put("minNumberOfDevices", 5));
    assertThat(put("ab1", body).statusCode()).isEqualTo(200);
    JsonObject done = awaitStatus("ab1", "failed");
    assertThat(done.getString("failureReason"))
        .startsWith("aborted: 5 of 5 finished devices failed");
    JsonObject stats = done.getJsonObject("deviceJobStatistics");
    assertThat(stats.getInteger("failedCount")).isEqualTo(5);
    assertThat(stats.getInteger("pendingCount")).isZero();
    JsonArray cancelled =
        query("SELECT * FROM devices.jobs WHERE jobId = 'ab1' AND status = 'canceled'", 100)
            .bodyAsJsonArray();
    assertThat(cancelled).hasSize(15);
  }

  @Test
  void maxDevicesPerMinuteSpacesTheDevicesOut() throws Exception {
    fleet("rt", 21);
    long t0 = System.nanoTime();
    JsonObject body =
        twinJob("rt1", "tags.group = 'rt'", new JsonObject().put("r", 1))
            .put("maxDevicesPerMinute", 600);
    assertThat(put("rt1", body).statusCode()).isEqualTo(200);
    awaitStatus("rt1", "completed");
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    // 10 devices a second: the first at once, 20 more take about 2 s.
    assertThat(ms).isBetween(1_700L, 20_000L);
  }

  private static JsonObject windowAt(Instant opens, int minutes) {
    return new JsonObject()
        .put("startTime", LocalTime.ofInstant(opens, ZoneOffset.UTC).toString())
        .put("durationInMinutes", minutes);
  }

  @Test
  void aJobWaitsOutsideItsMaintenanceWindow() throws Exception {
    fleet("mwf", 3);
    Instant later = Instant.now().plus(6, ChronoUnit.HOURS).truncatedTo(ChronoUnit.MINUTES);
    JsonObject body =
        twinJob("mwf1", "tags.group = 'mwf'", new JsonObject().put("w", 1))
            .put("maintenanceWindows", new JsonArray().add(windowAt(later, 30)));
    assertThat(put("mwf1", body).statusCode()).isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> job("mwf1").getString("statusMessage") != null);
    JsonObject waiting = job("mwf1");
    assertThat(waiting.getString("status")).isEqualTo("running");
    assertThat(waiting.getString("statusMessage"))
        .contains("maintenance window")
        .contains(later.toString().substring(0, 16));
    assertThat(waiting.getJsonObject("deviceJobStatistics").getInteger("pendingCount"))
        .isEqualTo(3);
    Future.await(
        hub.client
            .post("/jobs/v2/mwf1/cancel" + API)
            .putHeader("Authorization", hub.owner())
            .send());
    assertThat(job("mwf1").getString("status")).isEqualTo("cancelled");
  }

  @Test
  void aJobStartsItsDevicesOnceItsWindowOpens() throws Exception {
    fleet("mw", 3);
    Instant opens = Instant.now().plusSeconds(3).truncatedTo(ChronoUnit.SECONDS);
    JsonObject body =
        twinJob("mw1", "tags.group = 'mw'", new JsonObject().put("w", 1))
            .put("maintenanceWindows", new JsonArray().add(windowAt(opens, 1)));
    assertThat(put("mw1", body).statusCode()).isEqualTo(200);
    awaitStatus("mw1", "completed");
    JsonArray rows =
        query("SELECT * FROM devices.jobs WHERE jobId = 'mw1'", null).bodyAsJsonArray();
    assertThat(rows).hasSize(3);
    for (int i = 0; i < rows.size(); i++) {
      Instant started = Instant.parse(rows.getJsonObject(i).getString("startTimeUtc"));
      assertThat(started).isAfterOrEqualTo(opens);
    }
  }

  @Test
  void badJobsAreRefusedWithTheReason() throws Exception {
    HttpResponse<Buffer> badType =
        put("bad1", new JsonObject().put("type", "reboot").put("queryCondition", "*"));
    assertThat(badType.statusCode()).isEqualTo(400);
    assertThat(badType.bodyAsString()).contains("scheduleUpdateTwin or scheduleDeviceMethod");
    HttpResponse<Buffer> badQuery =
        put("bad2", twinJob("bad2", "tags.x = = 1", new JsonObject().put("a", 1)));
    assertThat(badQuery.statusCode()).isEqualTo(400);
    assertThat(badQuery.bodyAsString()).contains("Invalid queryCondition");
    HttpResponse<Buffer> badId = put("no_underscores", twinJob(null, "*", new JsonObject()));
    assertThat(badId.statusCode()).isEqualTo(400);
    assertThat(badId.bodyAsString()).contains("jobId must be");
    JsonObject etag = twinJob("bad3", "*", new JsonObject().put("a", 1));
    etag.getJsonObject("updateTwin").put("etag", "AAAAAAAAAAE=");
    assertThat(put("bad3", etag).bodyAsString()).contains("must be \\\"*\\\"");
    HttpResponse<Buffer> timeout =
        put(
            "bad4",
            methodJob("bad4", "*", "m")
                .put(
                    "cloudToDeviceMethod",
                    new JsonObject().put("methodName", "m").put("responseTimeoutInSeconds", 1)));
    assertThat(timeout.statusCode()).isEqualTo(400);
    assertThat(timeout.bodyAsString()).contains("between 5 and 300");
    fleet("dup", 1);
    assertThat(
            put("dup1", twinJob("dup1", "tags.group = 'dup'", new JsonObject().put("a", 1)))
                .statusCode())
        .isEqualTo(200);
    HttpResponse<Buffer> again =
        put("dup1", twinJob("dup1", "tags.group = 'dup'", new JsonObject().put("a", 1)));
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(again.getHeader("iothub-errorcode")).isEqualTo("JobAlreadyExists");
    HttpResponse<Buffer> missing =
        Future.await(
            hub.client.get("/jobs/v2/nope" + API).putHeader("Authorization", hub.owner()).send());
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.getHeader("iothub-errorcode")).isEqualTo("JobNotFound");
  }

  @Test
  void twoJobsAtOnceBothMakeProgress() throws Exception {
    fleet("fa", 20);
    fleet("fb", 20);
    // The same start time for both, so that neither has a head start.
    String start = Instant.now().plusSeconds(3).toString();
    put(
        "fa1",
        twinJob("fa1", "tags.group = 'fa'", new JsonObject().put("f", 1))
            .put("startTime", start)
            .put("maxDevicesPerMinute", 600));
    put(
        "fb1",
        twinJob("fb1", "tags.group = 'fb'", new JsonObject().put("f", 2))
            .put("startTime", start)
            .put("maxDevicesPerMinute", 600));
    awaitStatus("fa1", "completed");
    awaitStatus("fb1", "completed");
    JsonArray a = query("SELECT * FROM devices.jobs WHERE jobId = 'fa1'", 100).bodyAsJsonArray();
    JsonArray b = query("SELECT * FROM devices.jobs WHERE jobId = 'fb1'", 100).bodyAsJsonArray();
    Instant aLast = Instant.MIN;
    Instant bFirst = Instant.MAX;
    for (int i = 0; i < a.size(); i++) {
      Instant t = Instant.parse(a.getJsonObject(i).getString("startTimeUtc"));
      aLast = t.isAfter(aLast) ? t : aLast;
    }
    for (int i = 0; i < b.size(); i++) {
      Instant t = Instant.parse(b.getJsonObject(i).getString("startTimeUtc"));
      bFirst = t.isBefore(bFirst) ? t : bFirst;
    }
    // Each takes about 2 s at 10 devices/s; run one after the other, b would start after a ends.
    assertThat(bFirst).isBefore(aLast.minusMillis(500));
  }

  @Test
  void aDeviceThatDoesNotAnswerFailsAtTheJobsDeviceTimeout() throws Exception {
    String id = fleet("dt", 1).get(0);
    try (MqttTestDevice d =
        MqttTestDevice.connect(
            hub, id, hub.hub.registry().find(id).orElseThrow().authentication().primaryKey())) {
      d.subscribe("$iothub/methods/POST/#", 0);
      long t0 = System.nanoTime();
      assertThat(
              put(
                      "dt1",
                      methodJob("dt1", "tags.group = 'dt'", "hang")
                          .put("deviceTimeoutInSeconds", 2))
                  .statusCode())
          .isEqualTo(200);
      JsonObject done = awaitStatus("dt1", "completed");
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertThat(ms).isBetween(1_500L, 9_000L);
      assertThat(done.getJsonObject("deviceJobStatistics").getInteger("failedCount")).isEqualTo(1);
      JsonObject row =
          query("SELECT * FROM devices.jobs WHERE jobId = 'dt1'", null)
              .bodyAsJsonArray()
              .getJsonObject(0);
      assertThat(row.getJsonObject("error").getString("code")).isEqualTo("GatewayTimeout");
      assertThat(row.getJsonObject("error").getString("description"))
          .contains("deviceTimeoutInSeconds");
    }
  }
}
