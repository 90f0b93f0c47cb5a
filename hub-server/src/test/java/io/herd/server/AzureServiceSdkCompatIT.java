package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.herd.server.internal.PortPermissions;
import io.herd.testkit.NodeSdk;
import io.herd.testkit.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The official {@code azure-iothub} Node SDK, unmodified, against a hub on port 443 (the only port
 * the SDK's REST client can reach), trusting the hub's CA through NODE_EXTRA_CA_CERTS.
 */
class AzureServiceSdkCompatIT {
  private static Hub hub;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(PortPermissions.mayBind(443), "needs permission to bind port 443 (CI runs as root)");
    Path dir = Files.createTempDirectory("herd-compat-");
    hub =
        Hub.start(
            new HubConfig(
                dir,
                "localhost",
                443,
                0,
                0,
                TestPostgres.freshDatabaseUrl(),
                null,
                null,
                "0.0.0.0",
                443,
                null));
  }

  @AfterAll
  static void stop() {
    if (hub != null) {
      hub.close();
    }
  }

  @Test
  void registryOperationsAndErrorClassesMatchTheSdk() {
    NodeSdk.assumeAvailable();
    NodeSdk sdk = NodeSdk.installed();
    String owner = hub.policies().find("iothubowner").orElseThrow().connectionString("localhost");
    String reader = hub.policies().find("registryRead").orElseThrow().connectionString("localhost");
    String bad =
        owner.replaceFirst(
            "SharedAccessKey=.*$", "SharedAccessKey=d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktMTI=");
    NodeSdk.Result r =
        sdk.run(
            sdk.script("registry-compat.js"),
            Map.of(
                "HERD_SERVICE_CS", owner,
                "HERD_BAD_CS", bad,
                "HERD_READONLY_CS", reader,
                "NODE_EXTRA_CA_CERTS", hub.caFile().toString()),
            Duration.ofMinutes(3));
    assertThat(r.stdout()).doesNotContain("not ok");
    assertThat(r.stdout()).containsPattern("(?m)^\\d+ passed, 0 failed$");
    assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isZero();
  }

  @Test
  void twinOperationsMatchTheSdk() {
    NodeSdk.assumeAvailable();
    NodeSdk sdk = NodeSdk.installed();
    String owner = hub.policies().find("iothubowner").orElseThrow().connectionString("localhost");
    NodeSdk.Result r =
        sdk.run(
            sdk.script("twin-compat.js"),
            Map.of("HERD_SERVICE_CS", owner, "NODE_EXTRA_CA_CERTS", hub.caFile().toString()),
            Duration.ofMinutes(3));
    assertThat(r.stdout()).doesNotContain("not ok");
    assertThat(r.stdout()).containsPattern("(?m)^\\d+ passed, 0 failed$");
    assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isZero();
  }
}
