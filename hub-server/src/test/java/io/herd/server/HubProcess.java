package io.herd.server;

import static org.awaitility.Awaitility.await;

import io.herd.registry.SasAuthenticator;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
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

/**
 * {@code herd serve} as a child JVM on the embedded PostgreSQL, for tests that stop, kill and
 * restart a hub. Cleans up after itself, including a PostgreSQL orphaned by kill -9.
 */
final class HubProcess implements AutoCloseable {
  final Path dataDir;
  final Path log;
  final int port;
  private final Vertx vertx = Vertx.vertx();
  private final List<Process> processes = new ArrayList<>();

  HubProcess() throws IOException {
    this.dataDir = Files.createTempDirectory("herd-proc-");
    this.log = dataDir.resolveSibling(dataDir.getFileName() + ".log");
    this.port = freePort();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  Process start() throws IOException {
    return start(port, log);
  }

  Process start(int httpsPort, Path logFile) throws IOException {
    return start(httpsPort, logFile, List.of());
  }

  Process start(int httpsPort, Path logFile, List<String> jvmOptions) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            "io.herd.server.Main",
            "serve",
            "--data-dir",
            dataDir.toString(),
            "--https-port",
            Integer.toString(httpsPort),
            "--bind",
            "127.0.0.1"));
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
            .start();
    processes.add(p);
    return p;
  }

  WebClient client() {
    return WebClient.create(
        vertx,
        new WebClientOptions()
            .setSsl(true)
            .setTrustOptions(
                new PemTrustOptions().addCertPath(dataDir.resolve("tls/ca.pem").toString()))
            .setDefaultHost("localhost")
            .setDefaultPort(port));
  }

  void awaitHealthy(Process p) {
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
                return Future.await(client().get("/health").send()).statusCode() == 200;
              } catch (Exception e) {
                // Future.await rethrows connect failures as they are, checked ones included.
                return false;
              }
            });
  }

  String ownerToken() throws IOException {
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

  @Override
  public void close() throws Exception {
    processes.forEach(Process::destroyForcibly);
    for (Process p : processes) {
      p.waitFor(30, TimeUnit.SECONDS);
    }
    // A failed run may leave the embedded PostgreSQL of a killed hub behind; stop it.
    Path pid = dataDir.resolve("pg/postmaster.pid");
    if (Files.exists(pid)) {
      long postgres = Long.parseLong(Files.readAllLines(pid).get(0).trim());
      ProcessHandle.of(postgres).ifPresent(ProcessHandle::destroy);
    }
    vertx.close();
  }
}
