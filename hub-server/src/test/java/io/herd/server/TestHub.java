package io.herd.server;

import io.herd.registry.AccessPolicy;
import io.herd.registry.SasAuthenticator;
import io.herd.testkit.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/** A whole hub on free ports over a fresh test database, with a client that trusts its CA. */
final class TestHub implements AutoCloseable {
  final Hub hub;
  final Path dataDir;
  final Vertx clientVertx;
  final WebClient client;

  private TestHub(Hub hub, Path dataDir) {
    this.hub = hub;
    this.dataDir = dataDir;
    this.clientVertx = Vertx.vertx();
    this.client =
        WebClient.create(
            clientVertx,
            new WebClientOptions()
                .setSsl(true)
                .setTrustOptions(new PemTrustOptions().addCertPath(hub.caFile().toString()))
                .setDefaultHost("localhost")
                .setDefaultPort(hub.httpsPort()));
  }

  static TestHub start() throws Exception {
    return start(null);
  }

  /** A hub with the given device limits (null for the defaults). */
  static TestHub start(HubConfig.DeviceLimits limits) throws Exception {
    return start(
        limits,
        java.util.List.of(),
        Files.createTempDirectory("herd-test-"),
        TestPostgres.freshDatabaseUrl());
  }

  /** A hub that indexes {@code queryIndexes} from start-up. */
  static TestHub withQueryIndexes(String... queryIndexes) throws Exception {
    return start(
        null,
        java.util.List.of(queryIndexes),
        Files.createTempDirectory("herd-test-"),
        TestPostgres.freshDatabaseUrl());
  }

  /**
   * Closes this hub and starts a new one on the same data directory and database, as a restart of
   * the process would.
   */
  TestHub restart() throws Exception {
    close();
    return start(
        hub.config().devices(), hub.config().queryIndexes(), dataDir, hub.config().pgUrl());
  }

  private static TestHub start(
      HubConfig.DeviceLimits limits, java.util.List<String> queryIndexes, Path dir, String pgUrl)
      throws Exception {
    HubConfig config =
        new HubConfig(
            dir,
            "localhost",
            0,
            0,
            0,
            pgUrl,
            null,
            null,
            "127.0.0.1",
            0,
            limits,
            queryIndexes,
            null,
            null);
    return new TestHub(Hub.start(config), dir);
  }

  /** A token for {@code policy} as the Node service SDK makes it: sr = host name, not encoded. */
  String token(String policy) {
    return token(policy, Instant.now().getEpochSecond() + 3600);
  }

  String token(String policy, long expiry) {
    AccessPolicy p = hub.policies().find(policy).orElseThrow();
    String sr = "localhost";
    String sig = SasAuthenticator.sign(p.primaryKey(), sr + "\n" + expiry);
    return "SharedAccessSignature sr="
        + sr
        + "&sig="
        + URLEncoder.encode(sig, StandardCharsets.UTF_8)
        + "&se="
        + expiry
        + "&skn="
        + p.name();
  }

  /** Creates an enabled device with generated SAS keys; returns its primary key. */
  String deviceKey(String id) throws Exception {
    return hub.registry()
        .create(
            new io.herd.registry.DeviceSpec(
                id, io.herd.registry.DeviceStatus.ENABLED, null, null, false, null, null))
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, java.util.concurrent.TimeUnit.SECONDS)
        .authentication()
        .primaryKey();
  }

  String owner() {
    return token("iothubowner");
  }

  @Override
  public void close() {
    client.close();
    clientVertx.close();
    hub.close();
  }
}
