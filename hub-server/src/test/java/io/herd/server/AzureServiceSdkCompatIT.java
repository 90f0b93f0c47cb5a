package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.herd.server.internal.PortPermissions;
import io.herd.testkit.NodeSdk;
import io.herd.testkit.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
                // The service SDK's AMQP client (Client.send, feedback) dials amqps://HostName, so
                // port 5671.
                5671,
                TestPostgres.freshDatabaseUrl(),
                null,
                null,
                "0.0.0.0",
                443,
                null,
                null,
                null,
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
    assertAllPassed(r);
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
    assertAllPassed(r);
  }

  @Test
  void deviceSdkWorksOverMqttAndMqttOverWebSocket() throws Exception {
    String suffix = Long.toHexString(System.nanoTime());
    String mqttId = "mqtt-compat-" + suffix;
    String wsId = "mqttws-compat-" + suffix;
    runDeviceChecks(
        "device-mqtt-compat.js",
        Map.of(
            "HERD_DEVICE_CS_MQTT",
            deviceConnectionString(mqttId) + ";GatewayHostName=localhost:" + hub.mqttPort(),
            "HERD_DEVICE_CS_MQTTWS",
            deviceConnectionString(wsId)),
        List.of(mqttId, wsId));
  }

  @Test
  void deviceSdkWorksOverAmqpAndAmqpOverWebSocket() throws Exception {
    String suffix = Long.toHexString(System.nanoTime());
    String amqpId = "amqp-compat-" + suffix;
    String wsId = "amqpws-compat-" + suffix;
    runDeviceChecks(
        "device-amqp-compat.js",
        Map.of(
            "HERD_DEVICE_CS_AMQP",
            deviceConnectionString(amqpId) + ";GatewayHostName=localhost:" + hub.amqpPort(),
            // AMQP over WebSocket always dials port 443 (wire §8.1).
            "HERD_DEVICE_CS_AMQPWS",
            deviceConnectionString(wsId)),
        List.of(amqpId, wsId));
  }

  /**
   * Runs a device check script (device-compat.js) for {@code ids}: their cloud-to-device messages
   * wait in the durable queue while they are offline and reach them when they connect and
   * subscribe; the script also waits for a direct method call on each device, made through the
   * internal API as soon as the device has subscribed. Completed (PUBACK or accepted) durably, so
   * the queues empty.
   */
  private static void runDeviceChecks(String script, Map<String, String> devices, List<String> ids)
      throws Exception {
    NodeSdk.assumeAvailable();
    NodeSdk sdk = NodeSdk.installed();
    Map<String, String> env = new java.util.HashMap<>(devices);
    env.put(
        "HERD_SERVICE_CS",
        hub.policies().find("iothubowner").orElseThrow().connectionString("localhost"));
    env.put("HERD_SERVICE_TOKEN", serviceToken());
    env.put("HERD_CA_FILE", hub.caFile().toString());
    env.put("NODE_EXTRA_CA_CERTS", hub.caFile().toString());
    enqueueHello(ids);
    var run =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> sdk.run(sdk.script(script), env, Duration.ofMinutes(3)));
    for (String id : ids) {
      invokeWhenSubscribed(id, run);
    }
    NodeSdk.Result r = run.get(4, java.util.concurrent.TimeUnit.MINUTES);
    assertAllPassed(r);
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> ids.stream().mapToInt(d -> hub.cloudToDevice().pending(d)).sum() == 0);
  }

  @Test
  void serviceClientSendsCloudToDeviceMessagesAndReceivesFeedbackOverAmqp() throws Exception {
    NodeSdk.assumeAvailable();
    NodeSdk sdk = NodeSdk.installed();
    String suffix = Long.toHexString(System.nanoTime());
    String receiver = "svc-amqp-" + suffix;
    String offline = "svc-amqp-offline-" + suffix;
    String cs = deviceConnectionString(receiver) + ";GatewayHostName=localhost:" + hub.amqpPort();
    deviceConnectionString(offline);
    String owner = hub.policies().find("iothubowner").orElseThrow().connectionString("localhost");
    NodeSdk.Result r =
        sdk.run(
            sdk.script("service-amqp-compat.js"),
            Map.of(
                "HERD_SERVICE_CS", owner,
                "HERD_DEVICE_CS", cs,
                "HERD_OFFLINE_DEVICE", offline,
                "HERD_CA_FILE", hub.caFile().toString(),
                "NODE_EXTRA_CA_CERTS", hub.caFile().toString()),
            Duration.ofMinutes(3));
    assertAllPassed(r);
    assertThat(hub.cloudToDevice().pending(receiver)).isZero();
    assertThat(hub.cloudToDevice().pending(offline)).isEqualTo(50);
  }

  /** Queues "hello {id}" (message id c2d-1, ack full, property color=blue) for each device. */
  private static void enqueueHello(List<String> ids) throws Exception {
    for (String id : ids) {
      hub.cloudToDevice()
          .enqueue(
              id,
              new io.herd.server.c2d.OutgoingMessage(
                  "c2d-1",
                  null,
                  io.herd.server.c2d.AckMode.FULL,
                  null,
                  null,
                  null,
                  Map.of("color", "blue"),
                  ("hello " + id).getBytes(java.nio.charset.StandardCharsets.UTF_8)))
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  @Test
  void directMethodsWorkBetweenTheServiceAndDeviceSdks() throws Exception {
    NodeSdk.assumeAvailable();
    NodeSdk sdk = NodeSdk.installed();
    String suffix = Long.toHexString(System.nanoTime());
    String gateway = ";GatewayHostName=localhost:" + hub.mqttPort();
    String owner = hub.policies().find("iothubowner").orElseThrow().connectionString("localhost");
    NodeSdk.Result r =
        sdk.run(
            sdk.script("methods-compat.js"),
            Map.of(
                "HERD_SERVICE_CS", owner,
                "HERD_DEVICE_CS_ANSWERS", deviceConnectionString("dm-answers-" + suffix) + gateway,
                "HERD_DEVICE_CS_OFFLINE", deviceConnectionString("dm-offline-" + suffix) + gateway,
                "HERD_DEVICE_CS_SILENT", deviceConnectionString("dm-silent-" + suffix) + gateway,
                "HERD_DEVICE_CS_LATE", deviceConnectionString("dm-late-" + suffix) + gateway,
                "HERD_CA_FILE", hub.caFile().toString(),
                "NODE_EXTRA_CA_CERTS", hub.caFile().toString()),
            Duration.ofMinutes(3));
    assertAllPassed(r);
  }

  @Test
  void queriesPageAsTheServiceSdkExpects() {
    NodeSdk.assumeAvailable();
    NodeSdk sdk = NodeSdk.installed();
    String owner = hub.policies().find("iothubowner").orElseThrow().connectionString("localhost");
    NodeSdk.Result r =
        sdk.run(
            sdk.script("query-compat.js"),
            Map.of("HERD_SERVICE_CS", owner, "NODE_EXTRA_CA_CERTS", hub.caFile().toString()),
            Duration.ofMinutes(3));
    assertAllPassed(r);
  }

  @Test
  void deviceSdkWorksOverHttps() throws Exception {
    NodeSdk.assumeAvailable();
    NodeSdk sdk = NodeSdk.installed();
    String id = "http-compat-" + Long.toHexString(System.nanoTime());
    String cs = deviceConnectionString(id);
    for (String text : java.util.List.of("keep", "drop")) {
      hub.cloudToDevice()
          .enqueue(
              id,
              new io.herd.server.c2d.OutgoingMessage(
                  text,
                  null,
                  io.herd.server.c2d.AckMode.FULL,
                  null,
                  null,
                  null,
                  Map.of(),
                  text.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, java.util.concurrent.TimeUnit.SECONDS);
    }
    NodeSdk.Result r =
        sdk.run(
            sdk.script("device-http-compat.js"),
            Map.of(
                "HERD_DEVICE_CS_HTTP", cs,
                "HERD_SERVICE_TOKEN", serviceToken(),
                "HERD_CA_FILE", hub.caFile().toString(),
                "NODE_EXTRA_CA_CERTS", hub.caFile().toString()),
            Duration.ofMinutes(3));
    assertAllPassed(r);
    // Completed and rejected: nothing pending, and the feedback says which.
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> hub.cloudToDevice().pending(id) == 0);
  }

  private static String serviceToken() {
    var policy = hub.policies().find("iothubowner").orElseThrow();
    long expiry = java.time.Instant.now().getEpochSecond() + 3600;
    return "SharedAccessSignature sr=localhost&sig="
        + java.net.URLEncoder.encode(
            io.herd.registry.SasAuthenticator.sign(policy.primaryKey(), "localhost\n" + expiry),
            java.nio.charset.StandardCharsets.UTF_8)
        + "&se="
        + expiry
        + "&skn=iothubowner";
  }

  @Test
  void jobsRunAsTheServiceSdkExpects() throws Exception {
    NodeSdk.assumeAvailable();
    NodeSdk sdk = NodeSdk.installed();
    String suffix = Long.toHexString(System.nanoTime());
    String gateway = ";GatewayHostName=localhost:" + hub.mqttPort();
    String owner = hub.policies().find("iothubowner").orElseThrow().connectionString("localhost");
    NodeSdk.Result r =
        sdk.run(
            sdk.script("jobs-compat.js"),
            Map.of(
                "HERD_SERVICE_CS",
                owner,
                "HERD_DEVICE_CS_ANSWERS",
                deviceConnectionString("dj-answers-" + suffix) + gateway,
                "HERD_DEVICE_CS_OFFLINE",
                deviceConnectionString("dj-offline-" + suffix) + gateway,
                "HERD_CA_FILE",
                hub.caFile().toString(),
                "NODE_EXTRA_CA_CERTS",
                hub.caFile().toString()),
            Duration.ofMinutes(3));
    assertAllPassed(r);
  }

  @Test
  void importAndExportJobsWorkWithTheServiceSdk() {
    NodeSdk.assumeAvailable();
    NodeSdk sdk = NodeSdk.installed();
    String owner = hub.policies().find("iothubowner").orElseThrow().connectionString("localhost");
    NodeSdk.Result r =
        sdk.run(
            sdk.script("bulk-jobs-compat.js"),
            Map.of(
                "HERD_SERVICE_CS", owner,
                "HERD_JOBS_DIR", hub.config().jobsDir().toString(),
                "NODE_EXTRA_CA_CERTS", hub.caFile().toString()),
            Duration.ofMinutes(3));
    assertAllPassed(r);
  }

  private static String deviceConnectionString(String id) throws Exception {
    var device =
        hub.registry()
            .create(
                new io.herd.registry.DeviceSpec(
                    id, io.herd.registry.DeviceStatus.ENABLED, null, null, false, null, null))
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, java.util.concurrent.TimeUnit.SECONDS);
    return "HostName=localhost;DeviceId="
        + id
        + ";SharedAccessKey="
        + device.authentication().primaryKey();
  }

  private static void invokeWhenSubscribed(String id, java.util.concurrent.Future<?> script)
      throws Exception {
    var key = io.herd.core.twin.TwinKey.device(id);
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (System.nanoTime() < deadline && !script.isDone()) {
      if (succeeds(
          hub.sessions()
              .invokeMethod(
                  key,
                  "reboot",
                  io.vertx.core.buffer.Buffer.buffer("{\"delay\":3}"),
                  Duration.ofSeconds(5)))) {
        return;
      }
      Thread.sleep(100);
    }
  }

  private static boolean succeeds(io.vertx.core.Future<?> f) {
    try {
      f.toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  /** Every check of a compatibility script passed, and it said so on its last line. */
  private static void assertAllPassed(NodeSdk.Result r) {
    assertThat(r.stdout()).doesNotContain("not ok");
    assertThat(r.stdout()).containsPattern("(?m)^\\d+ passed, 0 failed$");
    assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isZero();
  }
}
