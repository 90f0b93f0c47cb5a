package io.herd.cli;

import io.herd.server.Hub;
import io.herd.server.HubConfig;
import io.herd.testkit.TestPostgres;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A whole hub in this JVM on free ports over a fresh test database (as hub-server's tests start
 * one), and the CLI pointed at it through its data directory's {@code hub.json}.
 */
final class CliHub implements AutoCloseable {
  final Hub hub;
  final Path dataDir;

  private CliHub(Hub hub, Path dataDir) {
    this.hub = hub;
    this.dataDir = dataDir;
  }

  static CliHub start() throws Exception {
    Path dir = Files.createTempDirectory("herd-cli-test-");
    HubConfig config =
        new HubConfig(
            dir,
            "localhost",
            0,
            0,
            0,
            TestPostgres.freshDatabaseUrl(),
            null,
            null,
            "127.0.0.1",
            0,
            null,
            List.of(),
            null,
            null);
    return new CliHub(Hub.start(config), dir);
  }

  /** Runs {@code herd --hub-config DIR args...}. */
  Cli.Result herd(String... args) {
    return herd(Map.of(), args);
  }

  /** Runs {@code herd --hub-config DIR args...} with these environment variables. */
  Cli.Result herd(Map<String, String> env, String... args) {
    String[] all = new String[args.length + 2];
    all[0] = "--hub-config";
    all[1] = dataDir.toString();
    System.arraycopy(args, 0, all, 2, args.length);
    return new Cli(new HashMap<>(env)).run(all);
  }

  /** Runs a command that must succeed and returns its standard output. */
  String ok(String... args) {
    Cli.Result r = herd(args);
    if (r.code() != 0) {
      throw new AssertionError(
          "herd " + String.join(" ", args) + " exited " + r.code() + ": " + r.err());
    }
    return r.out();
  }

  /** Creates a device with the CLI and returns its primary key. */
  String createDevice(String id, String... options) {
    String[] args = new String[options.length + 5];
    args[0] = "devices";
    args[1] = "create";
    args[2] = id;
    args[3] = "-o";
    args[4] = "json";
    System.arraycopy(options, 0, args, 5, options.length);
    return new JsonObject(ok(args))
        .getJsonObject("authentication")
        .getJsonObject("symmetricKey")
        .getString("primaryKey");
  }

  /** The {@code iothubowner} connection string of hub.json. */
  String ownerConnectionString() throws Exception {
    return new JsonObject(Files.readString(dataDir.resolve("hub.json")))
        .getJsonObject("connectionStrings")
        .getString("iothubowner");
  }

  @Override
  public void close() {
    hub.close();
  }
}
