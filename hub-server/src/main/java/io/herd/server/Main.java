package io.herd.server;

import io.herd.server.internal.SteadyHeap;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code herd serve}: runs a hub in the foreground until SIGTERM or Ctrl-C. */
@Command(
    name = "herd",
    mixinStandardHelpOptions = true,
    version = "herd 0.1.0",
    description = "Self-hosted, Azure IoT Hub-compatible device management hub.",
    subcommands = {Main.Serve.class})
public final class Main implements Callable<Integer> {

  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }

  @Override
  public Integer call() {
    new CommandLine(this).usage(System.out);
    return 0;
  }

  @Command(
      name = "serve",
      mixinStandardHelpOptions = true,
      description = {
        "Runs the hub. Every option can also be set with the HERD_* environment variable named in"
            + " its description, or in the JSON file given with --config (default conf/herd.json"
            + " when it exists). Flags win over the environment, which wins over the file."
      })
  static final class Serve implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    @Option(names = "--config", description = "JSON settings file (HERD_CONFIG)")
    Path configFile;

    @Option(names = "--data-dir", description = "Data directory, default ./data (HERD_DATA_DIR)")
    String dataDir;

    @Option(
        names = "--host-name",
        description = "Host name devices and SDKs use, default localhost (HERD_HOST_NAME)")
    String hostName;

    @Option(
        names = "--https-port",
        description =
            "REST and WebSocket port, default 443; 8443 when 443 needs privileges the process lacks (HERD_HTTPS_PORT)")
    Integer httpsPort;

    @Option(
        names = "--mqtt-port",
        description = "MQTT over TLS port, default 8883 (HERD_MQTT_PORT)")
    Integer mqttPort;

    @Option(
        names = "--amqp-port",
        description = "AMQP over TLS port, default 5671 (HERD_AMQP_PORT)")
    Integer amqpPort;

    @Option(
        names = "--pg-url",
        description =
            "External PostgreSQL, postgresql://user:password@host:port/db; without it an embedded PostgreSQL runs under DATA_DIR/pg (HERD_PG_URL)")
    String pgUrl;

    @Option(
        names = "--tls-cert",
        description = "PEM certificate chain to serve instead of the generated one (HERD_TLS_CERT)")
    String tlsCert;

    @Option(names = "--tls-key", description = "PEM private key of --tls-cert (HERD_TLS_KEY)")
    String tlsKey;

    @Option(
        names = "--bind",
        description = "Address to listen on, default 0.0.0.0 (HERD_BIND_HOST)")
    String bindHost;

    @Option(
        names = "--mqtt-plain-port",
        description = "Plain-TCP MQTT port (no TLS), off unless given (HERD_MQTT_PLAIN_PORT)")
    Integer mqttPlainPort;

    @Option(
        names = "--mqtt-max-message-bytes",
        description = "Largest device message, default 262144 (HERD_MQTT_MAX_MESSAGE_BYTES)")
    Integer mqttMaxMessageBytes;

    @Option(
        names = "--mqtt-max-inflight",
        description =
            "QoS 1 messages and twin requests in process per connection, default 64"
                + " (HERD_MQTT_MAX_INFLIGHT)")
    Integer mqttMaxInflight;

    @Option(
        names = "--max-connections",
        description = "Device connections of this process, default 100000 (HERD_MAX_CONNECTIONS)")
    Integer maxConnections;

    @Option(
        names = "--device-message-rate",
        description =
            "Telemetry messages per second and device, default 0 = no limit"
                + " (HERD_DEVICE_MESSAGE_RATE)")
    Integer deviceMessageRate;

    @Option(
        names = "--c2d-max-queue-depth",
        description =
            "Cloud-to-device messages pending per device, default 50 (HERD_C2D_MAX_QUEUE_DEPTH)")
    Integer c2dMaxQueueDepth;

    @Option(
        names = "--query-indexes",
        description =
            "Twin paths to index for queries, comma-separated, e.g. tags.site,properties.reported.fw"
                + " (HERD_QUERY_INDEXES)")
    String queryIndexes;

    @Option(
        names = "--jobs-dir",
        description =
            "The only directory import and export jobs may use through file:// container URIs,"
                + " default DATA_DIR/jobs (HERD_JOBS_DIR)")
    String jobsDir;

    @Option(
        names = "--query-columns",
        description =
            "Twin paths held column-wise for query scans from start-up, comma-separated"
                + " (HERD_QUERY_COLUMNS)")
    String queryColumns;

    @Option(
        names = "--query-auto-columns",
        description =
            "Most further columns built when a scan first reads their path, default 16; 0 for none"
                + " (HERD_QUERY_AUTO_COLUMNS)")
    Integer queryAutoColumns;

    @Option(
        names = "--query-column-max-values",
        description =
            "Most distinct values a query column may hold, default 65536"
                + " (HERD_QUERY_COLUMN_MAX_VALUES)")
    Integer queryColumnMaxValues;

    @Option(
        names = "--query-render-cache-mb",
        description =
            "Megabytes of twins kept rendered as JSON for query pages, default 64; 0 for none"
                + " (HERD_QUERY_RENDER_CACHE_MB)")
    Integer queryRenderCacheMb;

    @Override
    public Integer call() throws Exception {
      HubConfig config;
      try {
        config = HubConfig.fromJson(settings(System.getenv()));
        // A JVM option (conf/jvm.options) the hub applies once started: checked before it starts.
        SteadyHeap.fromSystemProperty();
      } catch (IllegalArgumentException e) {
        System.err.println("herd serve: " + e.getMessage());
        return 2;
      }
      Hub hub;
      try {
        hub = Hub.start(config);
      } catch (IllegalStateException e) {
        LOG.error("cannot start: {}", e.getMessage());
        return 1;
      }
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    hub.close();
                    stopped.countDown();
                  },
                  "herd-shutdown"));
      stopped.await();
      return 0;
    }

    /** Merges file, environment and flags, later ones winning. */
    JsonObject settings(Map<String, String> env) throws Exception {
      JsonObject s = new JsonObject();
      Path file = configFile;
      if (file == null && env.get("HERD_CONFIG") != null) {
        file = Path.of(env.get("HERD_CONFIG"));
      }
      if (file == null && Files.exists(Path.of("conf/herd.json"))) {
        file = Path.of("conf/herd.json");
      }
      if (file != null) {
        s.mergeIn(new JsonObject(Files.readString(file)));
      }
      HubConfig.ENV.forEach(
          (key, var) -> {
            String v = env.get(var);
            if (v != null && !v.isBlank()) {
              s.put(key, v);
            }
          });
      putIf(s, "dataDir", dataDir);
      putIf(s, "hostName", hostName);
      putIf(s, "httpsPort", httpsPort);
      putIf(s, "mqttPort", mqttPort);
      putIf(s, "amqpPort", amqpPort);
      putIf(s, "pgUrl", pgUrl);
      putIf(s, "tlsCert", tlsCert);
      putIf(s, "tlsKey", tlsKey);
      putIf(s, "bindHost", bindHost);
      putIf(s, "mqttPlainPort", mqttPlainPort);
      putIf(s, "mqttMaxMessageBytes", mqttMaxMessageBytes);
      putIf(s, "mqttMaxInflight", mqttMaxInflight);
      putIf(s, "maxConnections", maxConnections);
      putIf(s, "deviceMessageRate", deviceMessageRate);
      putIf(s, "c2dMaxQueueDepth", c2dMaxQueueDepth);
      putIf(s, "queryIndexes", queryIndexes);
      putIf(s, "jobsDir", jobsDir);
      putIf(s, "queryColumns", queryColumns);
      putIf(s, "queryAutoColumns", queryAutoColumns);
      putIf(s, "queryColumnMaxValues", queryColumnMaxValues);
      putIf(s, "queryRenderCacheMb", queryRenderCacheMb);
      return s;
    }

    private static void putIf(JsonObject s, String key, Object value) {
      if (value != null) {
        s.put(key, value);
      }
    }
  }
}
