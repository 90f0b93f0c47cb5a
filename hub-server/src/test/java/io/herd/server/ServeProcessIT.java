package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.herd.registry.SasAuthenticator;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code herd serve} as a real process on the embedded PostgreSQL: data survives restarts, a second
 * process on the same data directory is refused, SIGTERM stops cleanly, and a kill -9 leaves
 * nothing that blocks the next start.
 */
class ServeProcessIT {
  private final List<Process> processes = new ArrayList<>();
  private final Vertx vertx = Vertx.vertx();

  private final List<Path> dataDirs = new ArrayList<>();

  @AfterEach
  void cleanUp() throws Exception {
    processes.forEach(Process::destroyForcibly);
    for (Process p : processes) {
      p.waitFor(30, TimeUnit.SECONDS);
    }
    // A failed run may leave the embedded PostgreSQL of a killed hub behind; stop it.
    for (Path dir : dataDirs) {
      Path pid = dir.resolve("pg/postmaster.pid");
      if (Files.exists(pid)) {
        long postgres = Long.parseLong(Files.readAllLines(pid).get(0).trim());
        ProcessHandle.of(postgres).ifPresent(ProcessHandle::destroy);
      }
    }
    vertx.close();
  }

  private Process serve(Path dataDir, int port, Path log) throws IOException {
    List<String> cmd =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp",
            System.getProperty("java.class.path"),
            "io.herd.server.Main",
            "serve",
            "--data-dir",
            dataDir.toString(),
            "--https-port",
            Integer.toString(port),
            "--bind",
            "127.0.0.1");
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    processes.add(p);
    return p;
  }

  private WebClient client(Path dataDir, int port) {
    return WebClient.create(
        vertx,
        new WebClientOptions()
            .setSsl(true)
            .setTrustOptions(
                new PemTrustOptions().addCertPath(dataDir.resolve("tls/ca.pem").toString()))
            .setDefaultHost("localhost")
            .setDefaultPort(port));
  }

  private void awaitHealthy(Path dataDir, int port, Process p, Path log) {
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              if (!p.isAlive()) {
                throw new AssertionError("hub exited early:\n" + Files.readString(log));
              }
              if (!Files.exists(dataDir.resolve("tls/ca.pem"))) {
                return false;
              }
              try {
                return Future.await(client(dataDir, port).get("/health").send()).statusCode()
                    == 200;
              } catch (Exception e) {
                // Future.await rethrows connect failures as they are, checked ones included.
                return false;
              }
            });
  }

  private static String ownerToken(Path dataDir) throws IOException {
    JsonObject info = new JsonObject(Files.readString(dataDir.resolve("hub.json")));
    String cs = info.getJsonObject("connectionStrings").getString("iothubowner");
    String key = cs.substring(cs.indexOf("SharedAccessKey=") + "SharedAccessKey=".length());
    long se = Instant.now().getEpochSecond() + 3600;
    String sig = SasAuthenticator.sign(key, "localhost\n" + se);
    return "SharedAccessSignature sr=localhost&sig="
        + URLEncoder.encode(sig, StandardCharsets.UTF_8)
        + "&se="
        + se
        + "&skn=iothubowner";
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void dataSurvivesRestartsAndKillNine() throws Exception {
    Path dataDir = Files.createTempDirectory("herd-serve-");
    dataDirs.add(dataDir);
    Path log = dataDir.resolveSibling(dataDir.getFileName() + ".log");
    int port = freePort();

    Process first = serve(dataDir, port, log);
    awaitHealthy(dataDir, port, first, log);
    assertThat(dataDir.resolve("pg/PG_VERSION")).exists();
    String hubJson = Files.readString(dataDir.resolve("hub.json"));

    // A second hub on the same directory is refused and says why.
    Path log2 = dataDir.resolveSibling(dataDir.getFileName() + ".second.log");
    Process second = serve(dataDir, freePort(), log2);
    assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(second.exitValue()).isNotZero();
    assertThat(Files.readString(log2)).contains("is in use by another herd process");

    HttpResponse<Buffer> created =
        Future.await(
            client(dataDir, port)
                .put("/devices/survivor?api-version=2021-04-12")
                .putHeader("Authorization", ownerToken(dataDir))
                .sendJsonObject(new JsonObject()));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(200);

    // SIGTERM: clean stop, PostgreSQL down too.
    first.destroy();
    assertThat(first.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(Files.readString(log)).contains("herd stopped");
    assertThat(dataDir.resolve("pg/postmaster.pid")).doesNotExist();

    Process third = serve(dataDir, port, log);
    awaitHealthy(dataDir, port, third, log);
    assertThat(Files.readString(dataDir.resolve("hub.json"))).isEqualTo(hubJson);
    assertThat(getSurvivor(dataDir, port).statusCode()).isEqualTo(200);

    // kill -9 leaves PostgreSQL orphaned; the next start must cope.
    third.destroyForcibly();
    assertThat(third.waitFor(30, TimeUnit.SECONDS)).isTrue();
    Process fourth = serve(dataDir, port, log);
    awaitHealthy(dataDir, port, fourth, log);
    HttpResponse<Buffer> again = getSurvivor(dataDir, port);
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(again.bodyAsJsonObject().getJsonObject("authentication"))
        .isEqualTo(created.bodyAsJsonObject().getJsonObject("authentication"));
    fourth.destroy();
    assertThat(fourth.waitFor(60, TimeUnit.SECONDS)).isTrue();
  }

  private HttpResponse<Buffer> getSurvivor(Path dataDir, int port) throws IOException {
    return Future.await(
        client(dataDir, port)
            .get("/devices/survivor?api-version=2021-04-12")
            .putHeader("Authorization", ownerToken(dataDir))
            .send());
  }
}
