package io.herd.simulator.internal;

import io.herd.core.SasSigner;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;

/**
 * Where the simulator finds the hub and how it signs in: the host name that goes into SAS tokens
 * and MQTT user names (as the connection string spells it, port included), the host and ports to
 * connect to (HTTPS, MQTT, AMQP), the CA to trust (null: the JVM's default trust), and the service
 * policy that registers the devices.
 */
public record HubTarget(
    String hostName,
    String host,
    int httpsPort,
    int mqttPort,
    int amqpPort,
    Path caFile,
    String policy,
    byte[] policyKey) {

  public static final int DEFAULT_HTTPS_PORT = 443;
  public static final int DEFAULT_MQTT_PORT = 8883;
  public static final int DEFAULT_AMQP_PORT = 5671;

  /**
   * From a service connection string ({@code HostName=h[:port];SharedAccessKeyName=p;
   * SharedAccessKey=k}, or else the {@code iothubowner} one of {@code hubConfig}) and the hub's
   * {@code hub.json} (ports and CA), each optional but not both; {@code caFile}, {@code mqttPort}
   * and {@code amqpPort} (0: not given) override. The HTTPS port is the connection string's, else
   * hub.json's, else 443; the MQTT and AMQP ports hub.json's, else 8883 and 5671. Throws
   * IllegalArgumentException naming what is missing.
   */
  public static HubTarget of(
      Path hubConfig, String connectionString, Path caFile, int mqttPort, int amqpPort)
      throws IOException {
    JsonObject hub = null;
    if (hubConfig != null) {
      try {
        hub = new JsonObject(Files.readString(hubConfig));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(hubConfig + " is not valid JSON: " + e.getMessage(), e);
      }
    }
    String cs = connectionString;
    if (cs == null && hub != null) {
      JsonObject strings = hub.getJsonObject("connectionStrings");
      cs = strings == null ? null : strings.getString("iothubowner");
    }
    if (cs == null) {
      throw new IllegalArgumentException(
          "give --connection-string (a service policy with RegistryWrite, such as iothubowner)"
              + " or --hub-config DIR/hub.json");
    }
    Map<String, String> parts = ConnectionStrings.parse(cs);
    String hostName = parts.get("HostName");
    String policy = parts.get("SharedAccessKeyName");
    String key = parts.get("SharedAccessKey");
    if (hostName == null || policy == null || key == null) {
      throw new IllegalArgumentException(
          "the connection string must be a service one:"
              + " HostName=...;SharedAccessKeyName=...;SharedAccessKey=...");
    }
    byte[] policyKey;
    try {
      policyKey = Base64.getDecoder().decode(key);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the connection string's SharedAccessKey is not base64");
    }
    String host = hostName;
    int httpsPort = 0;
    int colon = hostName.lastIndexOf(':');
    if (colon > 0 && hostName.indexOf(']') < colon) {
      host = hostName.substring(0, colon);
      httpsPort = port(hostName.substring(colon + 1), "HostName");
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    JsonObject ports = hub == null ? null : hub.getJsonObject("ports");
    if (httpsPort == 0) {
      httpsPort =
          ports == null ? DEFAULT_HTTPS_PORT : ports.getInteger("https", DEFAULT_HTTPS_PORT);
    }
    int mqtt =
        mqttPort > 0
            ? mqttPort
            : ports == null ? DEFAULT_MQTT_PORT : ports.getInteger("mqtt", DEFAULT_MQTT_PORT);
    int amqp =
        amqpPort > 0
            ? amqpPort
            : ports == null ? DEFAULT_AMQP_PORT : ports.getInteger("amqp", DEFAULT_AMQP_PORT);
    Path ca = caFile;
    if (ca == null && hub != null && hub.getString("caFile") != null) {
      ca = Path.of(hub.getString("caFile"));
    }
    if (ca != null && !Files.isReadable(ca)) {
      throw new IllegalArgumentException("cannot read the CA file " + ca);
    }
    return new HubTarget(hostName, host, httpsPort, mqtt, amqp, ca, policy, policyKey);
  }

  private static int port(String text, String what) {
    try {
      int p = Integer.parseInt(text);
      if (p > 0 && p < 65_536) {
        return p;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw new IllegalArgumentException("the port in " + what + " is not a port: " + text);
  }

  /** A service token for the REST API, valid for an hour (wire §1.1: sr is the bare host). */
  public String serviceToken() {
    return SasSigner.serviceToken(
        hostName, policy, policyKey, System.currentTimeMillis() / 1000 + 3_600);
  }
}
