package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A hub restart in the middle of a job resumes it, and no device runs twice. */
class JobsRestartIT {
  private static final String API = "?api-version=2021-04-12";
  private TestHub hub;

  @AfterEach
  void stop() {
    if (hub != null) {
      hub.close();
    }
  }

  private JsonObject job(String jobId) {
    HttpResponse<Buffer> r =
        Future.await(
            hub.client
                .get("/jobs/v2/" + jobId + API)
                .putHeader("Authorization", hub.owner())
                .send());
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  @Test
  void aRestartMidJobResumesWithoutRunningAnyDeviceTwice() throws Exception {
    hub = TestHub.start();
    int n = 40;
    for (int i = 0; i < n; i++) {
      String id = String.format("rs-%03d", i);
      hub.deviceKey(id);
      HttpResponse<Buffer> r =
          Future.await(
              hub.client
                  .request(HttpMethod.PATCH, "/twins/" + id + API)
                  .putHeader("Authorization", hub.owner())
                  .putHeader("If-Match", "*")
                  .sendJsonObject(new JsonObject().put("tags", new JsonObject().put("g", "rs"))));
      assertThat(r.statusCode()).isEqualTo(200);
    }
    JsonObject body =
        new JsonObject()
            .put("type", "scheduleUpdateTwin")
            .put("queryCondition", "tags.g = 'rs'")
            .put("maxDevicesPerMinute", 1200)
            .put(
                "updateTwin",
                new JsonObject()
                    .put("etag", "*")
                    .put(
                        "properties",
                        new JsonObject().put("desired", new JsonObject().put("fw", "3.1"))));
    HttpResponse<Buffer> created =
        Future.await(
            hub.client
                .put("/jobs/v2/rs1" + API)
                .putHeader("Authorization", hub.owner())
                .sendJsonObject(body));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () ->
                job("rs1").getJsonObject("deviceJobStatistics").getInteger("succeededCount") >= 8);
    hub = hub.restart();
    JsonObject resumed = job("rs1");
    assertThat(resumed.getString("status")).isEqualTo("running");
    int pendingAfterRestart =
        resumed.getJsonObject("deviceJobStatistics").getInteger("pendingCount");
    assertThat(pendingAfterRestart).isBetween(1, n - 8);
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> job("rs1").getString("status").equals("completed"));
    JsonObject stats = job("rs1").getJsonObject("deviceJobStatistics");
    assertThat(stats.getInteger("deviceCount")).isEqualTo(n);
    assertThat(stats.getInteger("succeededCount") + stats.getInteger("failedCount")).isEqualTo(n);
    HttpResponse<Buffer> rows =
        Future.await(
            hub.client
                .post("/devices/query" + API)
                .putHeader("Authorization", hub.owner())
                .putHeader("x-ms-max-item-count", "1000")
                .sendJsonObject(
                    new JsonObject()
                        .put("query", "SELECT * FROM devices.jobs WHERE jobId = 'rs1'")));
    JsonArray all = rows.bodyAsJsonArray();
    assertThat(all).hasSize(n);
    for (int i = 0; i < all.size(); i++) {
      JsonObject row = all.getJsonObject(i);
      JsonObject desired =
          Future.await(
                  hub.client
                      .get("/twins/" + row.getString("deviceId") + API)
                      .putHeader("Authorization", hub.owner())
                      .send())
              .bodyAsJsonObject()
              .getJsonObject("properties")
              .getJsonObject("desired");
      // One patch moves the desired version from 1 to 2; a second run would make it 3.
      if (row.getString("status").equals("completed")) {
        assertThat(desired.getLong("$version")).as(row.encode()).isEqualTo(2);
        assertThat(desired.getString("fw")).isEqualTo("3.1");
      } else {
        assertThat(row.getString("status")).isEqualTo("failed");
        assertThat(row.getJsonObject("error").getString("code")).isEqualTo("JobInterrupted");
        assertThat(desired.getLong("$version")).isLessThanOrEqualTo(2);
      }
    }
  }
}
