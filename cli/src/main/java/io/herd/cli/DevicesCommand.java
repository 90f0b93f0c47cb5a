package io.herd.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "devices",
    description = "Device identities: create, show, list, update, delete, import, export.",
    subcommands = {
      DevicesCommand.Create.class,
      DevicesCommand.Show.class,
      DevicesCommand.ListDevices.class,
      DevicesCommand.Update.class,
      DevicesCommand.Delete.class,
      DevicesCommand.Import.class,
      DevicesCommand.Export.class
    })
final class DevicesCommand {
  /** The hub takes at most this many entries per bulk request. */
  static final int BULK_LIMIT = 100;

  /** Bulk requests (import) and identity reads (export) in flight at once. */
  static final int IMPORT_PARALLELISM = 4;

  static final int EXPORT_PARALLELISM = 16;

  private DevicesCommand() {}

  @Command(
      name = "create",
      description = {
        "Creates a device; SAS keys are generated unless given.",
        "Example: herd devices create dev1 --status disabled"
      })
  static final class Create extends HubCommand {
    @Parameters(paramLabel = "DEVICE")
    String deviceId;

    @Mixin Identity identity;

    @Option(
        names = "--auth",
        paramLabel = "TYPE",
        description = "sas (default), selfSigned or certificateAuthority.")
    String auth;

    @Option(names = "--edge", description = "An IoT Edge device.")
    boolean edge;

    @Override
    public Integer call() {
      identity.check(this);
      String type = auth;
      if (type == null) {
        type = identity.thumbprints() ? "selfSigned" : "sas";
      }
      JsonObject a = new JsonObject().put("type", type);
      switch (type) {
        case "sas":
          if (identity.thumbprints()) {
            throw usage("thumbprints go with --auth selfSigned, not sas");
          }
          // Empty keys: the hub generates them.
          a.put("symmetricKey", new JsonObject().put("primaryKey", "").put("secondaryKey", ""));
          break;
        case "selfSigned":
          if (identity.keys()) {
            throw usage("keys go with --auth sas, not selfSigned");
          }
          if (identity.primaryThumbprint == null) {
            throw usage("--auth selfSigned needs --primary-thumbprint");
          }
          break;
        case "certificateAuthority":
          if (identity.keys() || identity.thumbprints()) {
            throw usage("--auth certificateAuthority takes no keys or thumbprints");
          }
          break;
        default:
          throw usage("--auth must be sas, selfSigned or certificateAuthority, got '" + type + "'");
      }
      JsonObject body =
          new JsonObject()
              .put("deviceId", deviceId)
              .put("status", "enabled")
              .put("authentication", a);
      identity.applyTo(body);
      body.put("capabilities", new JsonObject().put("iotEdge", edge));
      output().object(hub().call("PUT", "/devices/" + id(deviceId)).body(body).send().object());
      return HerdCli.OK;
    }
  }

  /** What create and update may set: status, SAS keys, X.509 thumbprints. */
  static final class Identity {
    @Option(names = "--status", paramLabel = "S", description = "enabled (default) or disabled.")
    String status;

    @Option(names = "--status-reason", paramLabel = "TEXT")
    String statusReason;

    @Option(names = "--primary-key", paramLabel = "B64", description = "SAS key (base64).")
    String primaryKey;

    @Option(names = "--secondary-key", paramLabel = "B64")
    String secondaryKey;

    @Option(
        names = "--primary-thumbprint",
        paramLabel = "HEX",
        description = "selfSigned: SHA-1 or SHA-256 of the device certificate.")
    String primaryThumbprint;

    @Option(names = "--secondary-thumbprint", paramLabel = "HEX")
    String secondaryThumbprint;

    boolean keys() {
      return primaryKey != null || secondaryKey != null;
    }

    boolean thumbprints() {
      return primaryThumbprint != null || secondaryThumbprint != null;
    }

    boolean any() {
      return status != null || statusReason != null || keys() || thumbprints();
    }

    /** Checks the values before anything is sent; usage errors through {@code c}. */
    void check(HubCommand c) {
      if (status != null && !status.equals("enabled") && !status.equals("disabled")) {
        throw c.usage("--status must be enabled or disabled, got '" + status + "'");
      }
    }

    /** Sets what was given on {@code device}, keeping the rest of its authentication. */
    void applyTo(JsonObject device) {
      if (status != null) {
        device.put("status", status);
      }
      if (statusReason != null) {
        device.put("statusReason", statusReason);
      }
      JsonObject auth = device.getJsonObject("authentication", new JsonObject());
      merge(auth, "symmetricKey", "primaryKey", primaryKey, "secondaryKey", secondaryKey);
      merge(
          auth,
          "x509Thumbprint",
          "primaryThumbprint",
          primaryThumbprint,
          "secondaryThumbprint",
          secondaryThumbprint);
      device.put("authentication", auth);
    }

    private static void merge(
        JsonObject auth, String field, String k1, String v1, String k2, String v2) {
      if (v1 == null && v2 == null) {
        return;
      }
      JsonObject o = auth.getJsonObject(field, new JsonObject());
      if (v1 != null) {
        o.put(k1, v1);
      }
      if (v2 != null) {
        o.put(k2, v2);
      }
      auth.put(field, o);
    }
  }

  @Command(name = "show", description = "Shows a device identity.")
  static final class Show extends HubCommand {
    @Parameters(paramLabel = "DEVICE")
    String deviceId;

    @Option(names = "--module", paramLabel = "MODULE", description = "A module of the device.")
    String moduleId;

    @Override
    public Integer call() {
      String path = "/devices/" + id(deviceId);
      if (moduleId != null) {
        path += "/modules/" + id(moduleId);
      }
      output().object(hub().get(path));
      return HerdCli.OK;
    }
  }

  @Command(
      name = "list",
      description = {
        "Lists devices (their twins, in device-id order, every page).",
        "Example: herd devices list --where \"status = 'disabled'\""
      })
  static final class ListDevices extends HubCommand {
    @Option(
        names = "--where",
        paramLabel = "CONDITION",
        description = "A query condition, e.g. \"tags.site = 'b1'\".")
    String where;

    @Mixin Options.Paged paged;

    @Override
    public Integer call() {
      paged.check(this);
      String sql = "SELECT * FROM devices" + (where == null ? "" : " WHERE " + where);
      HubClient hub = hub();
      Paging.all((size, token) -> hub.query(sql, size, token), paged, output().rows());
      return HerdCli.OK;
    }
  }

  @Command(
      name = "update",
      description = {
        "Changes a device: reads it, applies the options, writes it back if its etag is unchanged.",
        "Example: herd devices update dev1 --status disabled --status-reason 'stolen'"
      })
  static final class Update extends HubCommand {
    @Parameters(paramLabel = "DEVICE")
    String deviceId;

    @Mixin Identity identity;

    @Option(names = "--edge", negatable = true, description = "Whether it is an IoT Edge device.")
    Boolean edge;

    @Option(
        names = "--etag",
        paramLabel = "ETAG",
        description = "Update only if the device still has this etag (default: the one read).")
    String etag;

    @Override
    public Integer call() {
      if (!identity.any() && edge == null) {
        throw usage(
            "nothing to update: give --status, --status-reason, keys, thumbprints or --edge");
      }
      identity.check(this);
      String path = "/devices/" + id(deviceId);
      JsonObject device = hub().get(path);
      identity.applyTo(device);
      if (edge != null) {
        device.put("capabilities", new JsonObject().put("iotEdge", edge));
      }
      String match = etag != null ? etag : device.getString("etag", "*");
      output().object(hub().call("PUT", path).ifMatch(match).body(device).send().object());
      return HerdCli.OK;
    }
  }

  @Command(
      name = "delete",
      description = "Deletes devices (with their modules, twins and queued messages).")
  static final class Delete extends HubCommand {
    @Parameters(paramLabel = "DEVICE", arity = "1..*")
    List<String> deviceIds;

    @Option(
        names = "--etag",
        paramLabel = "ETAG",
        description = "Delete only if the device still has this etag (one device only).")
    String etag;

    @Override
    public Integer call() {
      if (etag != null && deviceIds.size() > 1) {
        throw usage("--etag names one device's etag; give one device with it");
      }
      for (String d : deviceIds) {
        hub().call("DELETE", "/devices/" + id(d)).ifMatch(etag == null ? "*" : etag).send();
        cli().err().println("deleted device '" + d + "'");
      }
      return HerdCli.OK;
    }
  }

  @Command(
      name = "import",
      description = {
        "Creates or changes devices from a file, 100 per bulk request.",
        "JSON lines: one IoT Hub import entry per line ({\"id\",\"status\",\"authentication\","
            + "\"tags\",\"properties\":{\"desired\"},\"importMode\"}), as export writes them.",
        "CSV: a header with deviceId and any of importMode, eTag, status, statusReason, authType,"
            + " primaryKey, secondaryKey, primaryThumbprint, secondaryThumbprint, iotEdge,"
            + " tags.<path>, desired.<path>; tags and desired cells that are JSON (numbers, true,"
            + " objects, \"quoted\") are taken as such, others as text.",
        "Example: herd devices import fleet.csv"
      })
  static final class Import extends HubCommand {
    @Parameters(paramLabel = "FILE", description = "The file, or - for standard input.")
    String file;

    @Option(
        names = "--format",
        paramLabel = "F",
        description = "csv or jsonl (default: csv for *.csv, else jsonl).")
    DeviceFiles.Format format;

    @Option(
        names = "--mode",
        paramLabel = "MODE",
        defaultValue = "createOrUpdate",
        description =
            "importMode of entries that name none: create, createOrUpdate (default), update,"
                + " updateTwin, delete, ...")
    String mode;

    @Override
    public Integer call() throws IOException {
      List<JsonObject> entries;
      DeviceFiles.Format f =
          format != null ? format : DeviceFiles.Format.of(file.equals("-") ? "" : file);
      try (Reader in = reader()) {
        entries = DeviceFiles.read(in, f, mode);
      } catch (IllegalArgumentException e) {
        throw usage(file + ": " + e.getMessage());
      }
      HubClient hub = hub();
      PrintStream err = cli().err();
      Semaphore inFlight = new Semaphore(IMPORT_PARALLELISM);
      List<CompletableFuture<JsonObject>> batches = new ArrayList<>();
      for (int i = 0; i < entries.size(); i += BULK_LIMIT) {
        JsonArray batch =
            new JsonArray(entries.subList(i, Math.min(i + BULK_LIMIT, entries.size())));
        inFlight.acquireUninterruptibly();
        batches.add(
            hub.call("POST", "/devices")
                .body(batch)
                .exchangeAsync()
                .thenApply(DevicesCommand::bulkResult)
                .whenComplete((r, e) -> inFlight.release()));
      }
      int failed = 0;
      for (CompletableFuture<JsonObject> b : batches) {
        JsonObject result;
        try {
          result = b.join();
        } catch (CompletionException e) {
          throw e.getCause() instanceof RuntimeException re ? re : e;
        }
        JsonArray errors = result.getJsonArray("errors", new JsonArray());
        for (Object o : errors) {
          JsonObject e = (JsonObject) o;
          failed++;
          String name = e.getString("errorCode");
          String message =
              "device '" + e.getString("deviceId") + "': " + e.getString("errorStatus");
          err.println(new HubError(400, name, HubError.code(name, 400), message).describe());
        }
      }
      JsonObject summary =
          new JsonObject()
              .put("entries", entries.size())
              .put("succeeded", entries.size() - failed)
              .put("failed", failed);
      output().object(summary);
      return failed == 0 ? HerdCli.OK : HerdCli.HUB_ERROR;
    }

    private Reader reader() throws IOException {
      if (file.equals("-")) {
        return new InputStreamReader(System.in, StandardCharsets.UTF_8);
      }
      Path p = Path.of(file);
      if (!Files.isRegularFile(p)) {
        throw usage("no such file: " + file);
      }
      return Files.newBufferedReader(p, StandardCharsets.UTF_8);
    }
  }

  /** A bulk answer: 200 or 400 with {@code isSuccessful} and {@code errors}; else a hub error. */
  static JsonObject bulkResult(HubClient.Response r) {
    if (r.status() == 200 || r.status() == 400) {
      JsonObject o;
      try {
        o = r.object();
      } catch (RuntimeException e) {
        o = null;
      }
      if (o != null && o.containsKey("isSuccessful")) {
        return o;
      }
    }
    throw HubError.of(r.status(), r.header("iothub-errorcode"), r.body());
  }

  @Command(
      name = "export",
      description = {
        "Writes every device as one JSON line (identity with keys, tags, desired and reported"
            + " properties) in the shape import reads.",
        "Example: herd devices export --file fleet.jsonl"
      })
  static final class Export extends HubCommand {
    @Option(
        names = "--file",
        paramLabel = "FILE",
        description = "Write here instead of standard output.")
    Path file;

    @Option(names = "--exclude-keys", description = "Leave the SAS keys out.")
    boolean excludeKeys;

    @Option(names = "--page-size", paramLabel = "N", description = "Twins per query page (1-1000).")
    Integer pageSize;

    @Override
    public Integer call() throws IOException {
      if (pageSize != null && (pageSize < 1 || pageSize > Paging.MAX_PAGE)) {
        throw usage("--page-size must be 1.." + Paging.MAX_PAGE + ", got " + pageSize);
      }
      HubClient hub = hub();
      long written = 0;
      try (Writer w = writer()) {
        String token = null;
        do {
          HubClient.Page page =
              hub.query(
                  "SELECT * FROM devices", pageSize == null ? Paging.MAX_PAGE : pageSize, token);
          for (JsonObject line : lines(hub, page.rows())) {
            w.write(line.encode());
            w.write('\n');
            written++;
          }
          w.flush();
          token = page.continuation();
        } while (token != null);
      }
      cli().err().println("exported " + written + " devices");
      return HerdCli.OK;
    }

    /** The page's devices as export lines: each twin with its identity, read with its keys. */
    private List<JsonObject> lines(HubClient hub, JsonArray twins) {
      Semaphore inFlight = new Semaphore(EXPORT_PARALLELISM);
      List<CompletableFuture<JsonObject>> reads = new ArrayList<>();
      for (Object o : twins) {
        JsonObject twin = (JsonObject) o;
        String deviceId = twin.getString("deviceId");
        inFlight.acquireUninterruptibly();
        reads.add(
            hub.call("GET", "/devices/" + id(deviceId))
                .exchangeAsync()
                .thenApply(
                    r -> {
                      if (r.status() == 404) {
                        return null; // deleted since the query saw it
                      }
                      if (r.status() >= 300) {
                        throw HubError.of(r.status(), r.header("iothub-errorcode"), r.body());
                      }
                      return r.object();
                    })
                .whenComplete((r, e) -> inFlight.release()));
      }
      List<JsonObject> out = new ArrayList<>();
      for (int i = 0; i < reads.size(); i++) {
        JsonObject identity;
        try {
          identity = reads.get(i).join();
        } catch (CompletionException e) {
          throw e.getCause() instanceof RuntimeException re ? re : e;
        }
        if (identity != null) {
          out.add(DeviceFiles.exportLine(identity, twins.getJsonObject(i), excludeKeys));
        }
      }
      return out;
    }

    private Writer writer() throws IOException {
      if (file == null) {
        return new BufferedWriter(
            new OutputStreamWriter(output().stream(), StandardCharsets.UTF_8) {
              @Override
              public void close() throws IOException {
                flush(); // leave standard output open
              }
            });
      }
      return Files.newBufferedWriter(file, StandardCharsets.UTF_8);
    }
  }
}
