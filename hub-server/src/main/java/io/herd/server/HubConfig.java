package io.herd.server;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
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
    int fallbackHttpsPort) {

  /** Setting names as used in the config file; env var is HERD_ + upper snake case. */
  public static final Map<String, String> ENV =
      Map.of(
          "dataDir", "HERD_DATA_DIR",
          "hostName", "HERD_HOST_NAME",
          "httpsPort", "HERD_HTTPS_PORT",
          "mqttPort", "HERD_MQTT_PORT",
          "amqpPort", "HERD_AMQP_PORT",
          "pgUrl", "HERD_PG_URL",
          "tlsCert", "HERD_TLS_CERT",
          "tlsKey", "HERD_TLS_KEY",
          "bindHost", "HERD_BIND_HOST");

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
        intOf(j, "fallbackHttpsPort", 8443));
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
