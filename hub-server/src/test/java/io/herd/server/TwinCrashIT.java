package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Durable before acknowledged: under a sustained twin update load the hub is killed with -9; after
 * a restart every change it acknowledged is there.
 */
class TwinCrashIT {
  private static final int DEVICES = 40;
  private static final String API = "?api-version=2021-04-12";

  @Test
  void everyAcknowledgedTwinChangeSurvivesKillNine() throws Exception {
    try (HubProcess hub = new HubProcess()) {
      Process first = hub.start();
      hub.awaitHealthy(first);
      WebClient client = hub.client();
      String token = hub.ownerToken();
      JsonArray create = new JsonArray();
      for (int i = 0; i < DEVICES; i++) {
        create.add(new JsonObject().put("id", "crash-" + i).put("importMode", "create"));
      }
      HttpResponse<Buffer> created =
          Future.await(
              client.post("/devices" + API).putHeader("Authorization", token).sendJson(create));
      assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(200);

      Map<String, Long> acked = new ConcurrentHashMap<>();
      AtomicBoolean stop = new AtomicBoolean();
      for (int i = 0; i < DEVICES; i++) {
        patchLoop(client, token, "crash-" + i, 1, acked, stop);
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> acked.values().stream().mapToLong(Long::longValue).sum() >= 2_000);
      // Kill while requests are in flight.
      first.destroyForcibly();
      assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
      stop.set(true);
      Map<String, Long> snapshot = Map.copyOf(acked);
      assertThat(snapshot.values().stream().mapToLong(Long::longValue).sum())
          .as("the load really ran")
          .isGreaterThan(200);

      Process second = hub.start();
      hub.awaitHealthy(second);
      String token2 = hub.ownerToken();
      for (int i = 0; i < DEVICES; i++) {
        String id = "crash-" + i;
        HttpResponse<Buffer> r =
            Future.await(
                client.get("/twins/" + id + API).putHeader("Authorization", token2).send());
        assertThat(r.statusCode()).isEqualTo(200);
        JsonObject desired =
            r.bodyAsJsonObject().getJsonObject("properties").getJsonObject("desired");
        long last = snapshot.getOrDefault(id, 0L);
        long stored = desired.getLong("seq", 0L);
        // One request per device at a time: the stored value is the last acknowledged one, or the
        // one in flight at the kill if it was committed but not yet acknowledged.
        assertThat(stored).as("device %s", id).isBetween(last, last + 1);
        assertThat(desired.getLong("$version")).isGreaterThanOrEqualTo(last + 1);
      }
      second.destroy();
      assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
  }

  private static void patchLoop(
      WebClient client,
      String token,
      String id,
      long seq,
      Map<String, Long> acked,
      AtomicBoolean stop) {
    if (stop.get()) {
      return;
    }
    client
        .patch("/twins/" + id + API)
        .putHeader("Authorization", token)
        .putHeader("If-Match", "\"*\"")
        .sendJsonObject(
            new JsonObject()
                .put(
                    "properties",
                    new JsonObject().put("desired", new JsonObject().put("seq", seq))))
        .onComplete(
            ar -> {
              if (ar.succeeded() && ar.result().statusCode() == 200 && !stop.get()) {
                acked.put(id, seq);
                patchLoop(client, token, id, seq + 1, acked, stop);
              }
            });
  }
}
