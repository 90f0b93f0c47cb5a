package io.herd.cli;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the hub is and how to sign for it.
 *
 * @param baseUri {@code https://host:port}
 * @param credentials the service connection string whose policy signs every request
 * @param caFile the PEM CA certificate(s) to trust instead of the JDK's trust store, or null
 */
record HubTarget(URI baseUri, ConnectionString credentials, Path caFile) {

  /** The hub named by a connection string: its {@code HostName}, port 443 unless it names one. */
  static HubTarget of(ConnectionString cs, Path caFile) {
    return new HubTarget(uri(cs.host(), cs.port()), cs, caFile);
  }

  /**
   * The hub whose data directory holds {@code hub.json} (see {@code HubInfoFile}): 127.0.0.1 at
   * {@code ports.https} (its certificate names 127.0.0.1), the {@code iothubowner} connection
   * string, and its CA unless {@code caFile} overrides it.
   */
  static HubTarget fromHubConfig(Path dir, Path caFile) {
    Path file = Files.isDirectory(dir) ? dir.resolve("hub.json") : dir;
    JsonObject info;
    try {
      info = new JsonObject(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read "
              + file
              + " ("
              + e.getClass().getSimpleName()
              + ": "
              + e.getMessage()
              + ")");
    } catch (DecodeException e) {
      throw new IllegalArgumentException(file + " is not valid JSON: " + e.getMessage());
    }
    JsonObject strings = info.getJsonObject("connectionStrings");
    JsonObject ports = info.getJsonObject("ports");
    if (strings == null || strings.getString("iothubowner") == null || ports == null) {
      throw new IllegalArgumentException(
          file + " lacks connectionStrings.iothubowner or ports; is it a hub's hub.json?");
    }
    Integer https = ports.getInteger("https");
    if (https == null) {
      throw new IllegalArgumentException(file + " lacks ports.https");
    }
    Path ca = caFile;
    if (ca == null && info.getString("caFile") != null) {
      ca = Path.of(info.getString("caFile"));
    }
    ConnectionString cs = ConnectionString.parse(strings.getString("iothubowner"));
    return new HubTarget(uri("127.0.0.1", https), cs, ca);
  }

  private static URI uri(String host, int port) {
    return URI.create("https://" + host + ":" + port);
  }
}
