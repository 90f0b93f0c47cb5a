package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.server.internal.SteadyHeap;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code herd serve} as a real process on the embedded PostgreSQL: data survives restarts, a second
 * process on the same data directory is refused, SIGTERM stops cleanly, and a kill -9 leaves
 * nothing that blocks the next start; a bad JVM option of the hub's stops it before anything
 * starts.
 */
class ServeProcessIT {

  @Test
  void dataSurvivesRestartsAndKillNine() throws Exception {
    try (HubProcess hub = new HubProcess()) {
      Process first = hub.start();
      hub.awaitHealthy(first);
      assertThat(hub.dataDir.resolve("pg/PG_VERSION")).exists();
      String hubJson = Files.readString(hub.dataDir.resolve("hub.json"));

      // A second hub on the same directory is refused and says why.
      Path log2 = hub.dataDir.resolveSibling(hub.dataDir.getFileName() + ".second.log");
      Process second = hub.start(HubProcess.freePort(), log2);
      assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(second.exitValue()).isNotZero();
      assertThat(Files.readString(log2)).contains("is in use by another herd process");

      HttpResponse<Buffer> created =
          Future.await(
              hub.client()
                  .put("/devices/survivor?api-version=2021-04-12")
                  .putHeader("Authorization", hub.ownerToken())
                  .sendJsonObject(new JsonObject()));
      assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(200);

      // SIGTERM: clean stop, PostgreSQL down too.
      first.destroy();
      assertThat(first.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(Files.readString(hub.log)).contains("herd stopped");
      assertThat(hub.dataDir.resolve("pg/postmaster.pid")).doesNotExist();

      Process third = hub.start();
      hub.awaitHealthy(third);
      assertThat(Files.readString(hub.dataDir.resolve("hub.json"))).isEqualTo(hubJson);
      assertThat(getSurvivor(hub).statusCode()).isEqualTo(200);

      // kill -9 leaves PostgreSQL orphaned; the next start must cope.
      third.destroyForcibly();
      assertThat(third.waitFor(30, TimeUnit.SECONDS)).isTrue();
      Process fourth = hub.start();
      hub.awaitHealthy(fourth);
      HttpResponse<Buffer> again = getSurvivor(hub);
      assertThat(again.statusCode()).isEqualTo(200);
      assertThat(again.bodyAsJsonObject().getJsonObject("authentication"))
          .isEqualTo(created.bodyAsJsonObject().getJsonObject("authentication"));
      fourth.destroy();
      assertThat(fourth.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void aBadHeapFreeRatioOptionStopsTheStartAndSaysWhy() throws Exception {
    try (HubProcess hub = new HubProcess()) {
      Process p =
          hub.start(
              HubProcess.freePort(), hub.log, List.of("-D" + SteadyHeap.PROPERTY + "=10,thirty"));
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).isEqualTo(2);
      assertThat(Files.readString(hub.log))
          .contains("herd serve: herd.steadyHeapFreeRatio takes two whole numbers MIN,MAX")
          .doesNotContain("herd stopping");
    }
  }

  private static HttpResponse<Buffer> getSurvivor(HubProcess hub) throws IOException {
    return Future.await(
        hub.client()
            .get("/devices/survivor?api-version=2021-04-12")
            .putHeader("Authorization", hub.ownerToken())
            .send());
  }
}
