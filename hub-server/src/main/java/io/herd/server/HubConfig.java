package io.herd.server;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Settings of one hub process. Built from {@code conf/herd.json} defaults, then {@code HERD_*}
 * environment variables, then command-line flags, each overriding the one before.
 *
 * @param pgUrl external PostgreSQL ({@code postgresql://user:pw@host:port/db}); null runs an
 *     embedded PostgreSQL under {@code dataDir/pg}
 * @param tlsCert PEM certificate chain to serve instead of the generated one (with tlsKey)
 * @param bindHost address the listeners bind to
 * @param fallbackHttpsPort used when the HTTPS port needs privileges the process lacks
 * @param devices limits of the device endpoints
 * @param queryIndexes twin paths to index for queries at start-up ({@code tags.site}, ...)
 * @param jobsDir the only directory import and export jobs may read and write through {@code
 *     file://} container URIs; null for {@code dataDir/jobs}
 * @param query how queries run: columns and the render cache
 */
public record HubConfig(
    Path dataDir,
    String hostName,
    int httpsPort,
    int mqttPort,
    int amqpPort,
    String pgUrl,
    Path tlsCert,
    Path tlsKey,
    String bindHost,
    int fallbackHttpsPort,
    DeviceLimits devices,
    List<String> queryIndexes,
    Path jobsDir,
    QueryConfig query) {

  /**
   * Query execution settings (see {@code QueryApi}).
   *
   * @param columns twin paths held column-wise for scans from start-up ({@link
   *     io.herd.query.column.TwinColumns}: dictionary-coded arrays over all twins, kept current
   *     from the change feed)
   * @param autoColumns most further columns built when a scan first reads their path (the least
   *     recently used goes when more are needed); 0 builds none
   * @param columnMaxValues most distinct values a column may hold; a path with more is left to the
   *     twins
   * @param renderCacheMb megabytes of twins kept rendered as JSON for query pages; 0 for none
   */
  public record QueryConfig(
      List<String> columns, int autoColumns, int columnMaxValues, int renderCacheMb) {
    public QueryConfig {
      columns = columns == null ? List.of() : List.copyOf(columns);
      for (String path : columns) {
        io.herd.query.column.TwinColumns.canonicalPath(path); // throws IllegalArgumentException
      }
      if (autoColumns < 0) {
        throw new IllegalArgumentException(
            "query-auto-columns must be 0 or more, got " + autoColumns);
      }
      if (columnMaxValues < 1) {
        throw new IllegalArgumentException(
            "query-column-max-values must be positive, got " + columnMaxValues);
      }
      if (renderCacheMb < 0) {
        throw new IllegalArgumentException(
            "query-render-cache-mb must be 0 or more, got " + renderCacheMb);
      }
    }

    public static QueryConfig defaults() {
      return new QueryConfig(List.of(), 16, 65_536, 64);
    }
  }

  /**
   * Device endpoint settings.
   *
   * @param mqttPlainPort plain-TCP MQTT listener, -1 (the default) for none
   * @param mqttMaxMessageBytes largest device message (IoT Hub: 256 KB)
   * @param mqttMaxInflight QoS 1 messages and twin requests in process per connection
   * @param maxConnections device connections of this hub process
   * @param deviceMessageRate telemetry messages per second and device, 0 for no limit
   * @param c2dMaxQueueDepth cloud-to-device messages pending per device (IoT Hub: 50)
   */
  public record DeviceLimits(
      int mqttPlainPort,
      int mqttMaxMessageBytes,
      int mqttMaxInflight,
      int maxConnections,
      int deviceMessageRate,
      int c2dMaxQueueDepth) {
    public DeviceLimits {
      if (mqttPlainPort < -1 || mqttPlainPort > 65535) {
        throw new IllegalArgumentException(
            "mqtt-plain-port must be 0..65535 (or -1 for none), got " + mqttPlainPort);
      }
      positive("mqtt-max-message-bytes", mqttMaxMessageBytes);
      positive("mqtt-max-inflight", mqttMaxInflight);
      positive("max-connections", maxConnections);
      positive("c2d-max-queue-depth", c2dMaxQueueDepth);
      if (deviceMessageRate < 0) {
        throw new IllegalArgumentException(
            "device-message-rate must be 0 (no limit) or more, got " + deviceMessageRate);
      }
    }

    public static DeviceLimits defaults() {
      return new DeviceLimits(-1, 256 * 1024, 64, 100_000, 0, 50);
    }

    private static void positive(String name, int v) {
      if (v < 1) {
        throw new IllegalArgumentException(name + " must be positive, got " + v);
      }
    }
  }

  /** Setting names as used in the config file; env var is HERD_ + upper snake case. */
  public static final Map<String, String> ENV =
      Map.ofEntries(
          Map.entry("dataDir", "HERD_DATA_DIR"),
          Map.entry("hostName", "HERD_HOST_NAME"),
          Map.entry("httpsPort", "HERD_HTTPS_PORT"),
          Map.entry("mqttPort", "HERD_MQTT_PORT"),
          Map.entry("amqpPort", "HERD_AMQP_PORT"),
          Map.entry("pgUrl", "HERD_PG_URL"),
          Map.entry("tlsCert", "HERD_TLS_CERT"),
          Map.entry("tlsKey", "HERD_TLS_KEY"),
          Map.entry("bindHost", "HERD_BIND_HOST"),
          Map.entry("mqttPlainPort", "HERD_MQTT_PLAIN_PORT"),
          Map.entry("mqttMaxMessageBytes", "HERD_MQTT_MAX_MESSAGE_BYTES"),
          Map.entry("mqttMaxInflight", "HERD_MQTT_MAX_INFLIGHT"),
          Map.entry("maxConnections", "HERD_MAX_CONNECTIONS"),
          Map.entry("deviceMessageRate", "HERD_DEVICE_MESSAGE_RATE"),
          Map.entry("c2dMaxQueueDepth", "HERD_C2D_MAX_QUEUE_DEPTH"),
          Map.entry("queryIndexes", "HERD_QUERY_INDEXES"),
          Map.entry("jobsDir", "HERD_JOBS_DIR"),
          Map.entry("queryColumns", "HERD_QUERY_COLUMNS"),
          Map.entry("queryAutoColumns", "HERD_QUERY_AUTO_COLUMNS"),
          Map.entry("queryColumnMaxValues", "HERD_QUERY_COLUMN_MAX_VALUES"),
          Map.entry("queryRenderCacheMb", "HERD_QUERY_RENDER_CACHE_MB"));

  public HubConfig {
    if (hostName == null || hostName.isBlank() || hostName.contains("/")) {
      throw new IllegalArgumentException("host name must be a DNS name or IP, got: " + hostName);
    }
    checkPort("https-port", httpsPort);
    checkPort("mqtt-port", mqttPort);
    checkPort("amqp-port", amqpPort);
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new IllegalArgumentException("--tls-cert and --tls-key go together; give both or none");
    }
    if (pgUrl != null && pgUrl.isBlank()) {
      pgUrl = null;
    }
    if (devices == null) {
      devices = DeviceLimits.defaults();
    }
    if (jobsDir == null && dataDir != null) {
      jobsDir = dataDir.resolve("jobs");
    }
    queryIndexes = queryIndexes == null ? List.of() : List.copyOf(queryIndexes);
    for (String path : queryIndexes) {
      io.herd.query.index.TwinIndex.canonicalPath(path); // throws IllegalArgumentException
    }
    if (query == null) {
      query = QueryConfig.defaults();
    }
  }

  private static void checkPort(String name, int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(name + " must be 0..65535, got " + port);
    }
  }

  /** Applies defaults to a JSON object of settings (names as in {@link #ENV}) and validates. */
  public static HubConfig fromJson(JsonObject j) {
    String tlsCert = j.getString("tlsCert");
    String tlsKey = j.getString("tlsKey");
    String jobsDir = j.getString("jobsDir");
    return new HubConfig(
        Path.of(j.getString("dataDir", "./data")).toAbsolutePath().normalize(),
        j.getString("hostName", "localhost").toLowerCase(Locale.ROOT),
        intOf(j, "httpsPort", 443),
        intOf(j, "mqttPort", 8883),
        intOf(j, "amqpPort", 5671),
        j.getString("pgUrl"),
        tlsCert == null ? null : Path.of(tlsCert).toAbsolutePath(),
        tlsKey == null ? null : Path.of(tlsKey).toAbsolutePath(),
        j.getString("bindHost", "0.0.0.0"),
        intOf(j, "fallbackHttpsPort", 8443),
        new DeviceLimits(
            intOf(j, "mqttPlainPort", -1),
            intOf(j, "mqttMaxMessageBytes", 256 * 1024),
            intOf(j, "mqttMaxInflight", 64),
            intOf(j, "maxConnections", 100_000),
            intOf(j, "deviceMessageRate", 0),
            intOf(j, "c2dMaxQueueDepth", 50)),
        listOf(j, "queryIndexes"),
        jobsDir == null ? null : Path.of(jobsDir).toAbsolutePath().normalize(),
        new QueryConfig(
            listOf(j, "queryColumns"),
            intOf(j, "queryAutoColumns", QueryConfig.defaults().autoColumns()),
            intOf(j, "queryColumnMaxValues", QueryConfig.defaults().columnMaxValues()),
            intOf(j, "queryRenderCacheMb", QueryConfig.defaults().renderCacheMb())));
  }

  /** A list setting: a JSON array or a comma-separated string (as flags and env vars give it). */
  private static List<String> listOf(JsonObject j, String key) {
    Object v = j.getValue(key);
    if (v == null) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    Iterable<?> items = v instanceof JsonArray a ? a : List.of(v.toString().split(","));
    for (Object item : items) {
      String s = String.valueOf(item).strip();
      if (!s.isEmpty()) {
        out.add(s);
      }
    }
    return out;
  }

  private static int intOf(JsonObject j, String key, int dflt) {
    Object v = j.getValue(key);
    if (v == null) {
      return dflt;
    }
    if (v instanceof Number n) {
      return n.intValue();
    }
    try {
      return Integer.parseInt(v.toString().trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be a number, got '" + v + "'");
    }
  }

  public Path pgDir() {
    return dataDir.resolve("pg");
  }

  public Path tlsDir() {
    return dataDir.resolve("tls");
  }
}
