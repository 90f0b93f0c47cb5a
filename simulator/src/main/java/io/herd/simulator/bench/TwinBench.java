package io.herd.simulator.bench;

import static io.herd.simulator.bench.BenchSupport.API_VERSION;
import static io.herd.simulator.bench.BenchSupport.JSON_UTF8;
import static io.herd.simulator.bench.BenchSupport.P50_P99;
import static io.herd.simulator.bench.BenchSupport.fmt;
import static java.nio.charset.StandardCharsets.UTF_8;

import io.herd.simulator.bench.BenchSupport.BenchOptions;
import io.herd.simulator.bench.BenchSupport.Call;
import io.herd.simulator.bench.BenchSupport.Clients;
import io.herd.simulator.bench.BenchSupport.Driver;
import io.herd.simulator.bench.BenchSupport.HubInfo;
import io.herd.simulator.bench.BenchSupport.PhaseResult;
import io.herd.simulator.bench.BenchSupport.PhaseStats;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.PrintStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Twin benchmark over the service REST API, in one of three modes:
 *
 * <ul>
 *   <li>{@code create}: bulk-creates the devices ({@code POST /devices}) and stops, so that a
 *       caller can measure the hub before the twins get content;
 *   <li>{@code patch}: {@code PATCH /twins/{id}} with {@code If-Match: "*"} on random devices for a
 *       timed window, each changing {@code properties.desired.bench} to a new value; then reads a
 *       sample back to check that every acknowledged value is the one the twin holds;
 *   <li>{@code fill}: one PATCH per device giving its twin about 1 KB of tags and desired
 *       properties of a realistic shape ({@link #fillPatch}), then checks a sample.
 * </ul>
 *
 * <p>The load is closed-loop (see {@link BenchSupport}). In patch mode each client event loop
 * patches its own share of the devices and never two requests at once on one device, so the last
 * acknowledged value of each device is known and checked.
 *
 * <p>Exit status: 0 when every request returned 200 and every check passed, 1 on any failed or
 * non-200 request, a failed check, a missed deadline or bad arguments. Only loopback hosts are
 * accepted.
 */
public final class TwinBench {

  // Patching stops early after this many errors per event loop, rather than hammer a broken hub.
  private static final int MAX_PATCH_ERRORS = 100;
  private static final int VERIFY_CLIENTS = 8;

  private TwinBench() {}

  public static void main(String[] args) {
    BenchSupport.main(
        "twin-bench",
        args,
        Options.USAGE,
        Options::parse,
        (options, hub, out) -> new Runner(options, out).run(hub));
  }

  enum Mode {
    CREATE,
    PATCH,
    FILL
  }

  /** Command-line options, validated. */
  record Options(
      Path hubJson,
      Mode mode,
      int devices,
      boolean create,
      int batch,
      int createClients,
      int clients,
      int seconds,
      int warmupSeconds,
      int verify,
      String prefix,
      String host,
      int eventLoops,
      int timeoutSeconds,
      Path resultFile)
      implements BenchOptions {

    static final String USAGE =
        """
        usage: TwinBench --hub-json PATH --mode create|patch|fill [options]
          --mode M              create: bulk-create the devices, nothing else;
                                patch: timed desired-property PATCHes on random devices;
                                fill: one PATCH per device giving its twin ~1 KB of content
          --devices N           devices, ids P-0..P-(N-1) (default 10000)
          --create              patch, fill: bulk-create the devices first
          --batch N             devices per POST /devices, 1..100 (default 100)
          --create-clients N    concurrent bulk-create requests (default 8)
          --clients N           concurrent PATCH requests (default 64)
          --seconds N           patch: measured window (default 20)
          --warmup-seconds N    patch: warm-up excluded from figures (default 10)
          --verify N            twins read back with GET /twins/{id} afterwards (default 50)
          --prefix P            device id prefix (default bench-<random>; required without
                                --create in modes patch and fill, to name existing devices)
          --host H              loopback address to connect to (default 127.0.0.1)
          --event-loops N       client event loops (default max(1, cores / 4))
          --timeout-seconds N   hard limit for the whole run (default 1800)
          --result-file PATH    also write the figures as key=value lines""";

    /** Returns null when help was requested. */
    static Options parse(String[] args) {
      Map<String, String> values = BenchSupport.parseArgs(args, Set.of("create"));
      if (values == null) {
        return null;
      }
      String hubJson = values.remove("hub-json");
      String mode = values.remove("mode");
      if (hubJson == null || mode == null) {
        throw new IllegalArgumentException("--hub-json and --mode are required\n" + USAGE);
      }
      Mode m;
      try {
        m = Mode.valueOf(mode.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--mode must be create, patch or fill: " + mode, e);
      }
      boolean create = m == Mode.CREATE || values.remove("create") != null;
      String prefix = values.remove("prefix");
      if (prefix == null && !create) {
        throw new IllegalArgumentException(
            "--prefix is required without --create: it names the existing devices");
      }
      int cores = Runtime.getRuntime().availableProcessors();
      Options o =
          new Options(
              Path.of(hubJson),
              m,
              BenchSupport.intArg(values, "devices", 10_000, 1, 10_000_000),
              create,
              BenchSupport.intArg(values, "batch", 100, 1, 100),
              BenchSupport.intArg(values, "create-clients", 8, 1, 1_000),
              BenchSupport.intArg(values, "clients", 64, 1, 5_000),
              BenchSupport.intArg(values, "seconds", 20, 1, 3_600),
              BenchSupport.intArg(values, "warmup-seconds", 10, 0, 600),
              BenchSupport.intArg(values, "verify", 50, 0, 100_000),
              prefix != null ? prefix : BenchSupport.randomPrefix(),
              BenchSupport.stringArg(values, "host", "127.0.0.1"),
              // The hub runs on the same machine: leave it most of the cores.
              BenchSupport.intArg(values, "event-loops", Math.max(1, cores / 4), 1, 64),
              BenchSupport.intArg(values, "timeout-seconds", 1800, 1, 86_400),
              BenchSupport.pathArg(values, "result-file"));
      BenchSupport.requireValid(values, o.prefix);
      if (m == Mode.PATCH) {
        // Each client needs a device of its own share that no other request is patching.
        if (o.devices < 2 * o.clients) {
          throw new IllegalArgumentException("patch mode needs --devices >= 2 * --clients");
        }
        if (o.warmupSeconds + o.seconds >= o.timeoutSeconds) {
          throw new IllegalArgumentException("--timeout-seconds must exceed warm-up + seconds");
        }
      }
      return o;
    }
  }

  private static String twinUri(String id) {
    return "/twins/" + id + "?api-version=" + API_VERSION;
  }

  private static final String[][] SITES = {
    {"eu-west", "DE", "Hamburg", "Europe/Berlin", "Am Sandtorkai", "20457"},
    {"eu-west", "NL", "Rotterdam", "Europe/Amsterdam", "Wilhelminakade", "3072 AP"},
    {"eu-north", "SE", "Gothenburg", "Europe/Stockholm", "Lindholmspiren", "417 56"},
    {"us-east", "US", "Boston", "America/New_York", "Seaport Boulevard", "MA 02210"},
    {"us-west", "US", "Seattle", "America/Los_Angeles", "Westlake Avenue North", "WA 98109"},
    {"ap-south", "IN", "Pune", "Asia/Kolkata", "Senapati Bapat Road", "411016"},
    {"ap-east", "JP", "Osaka", "Asia/Tokyo", "Nakanoshima", "530-0005"},
    {"ap-east", "SG", "Singapore", "Asia/Singapore", "Marina Boulevard", "018980"}
  };
  private static final String[] MODELS = {"TX-4000", "TX-4100", "HX-220", "AQ-9"};
  private static final String[] DESCRIPTIONS = {
    "Indoor climate sensor, wall mount, mains powered",
    "Indoor climate sensor with NDIR CO2 cell, wall mount",
    "Humidity and temperature probe for cold storage rooms",
    "Air quality monitor with particulate sensor, ceiling mount"
  };
  private static final String[] FIRMWARE = {"2.4.17", "2.4.18", "2.5.0", "3.0.1"};
  private static final String[] SHA256 = new String[FIRMWARE.length];

  static {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (int i = 0; i < FIRMWARE.length; i++) {
        SHA256[i] = HexFormat.of().formatHex(sha.digest(FIRMWARE[i].getBytes(UTF_8)));
      }
    } catch (NoSuchAlgorithmException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /**
   * The fill-mode patch of device {@code n}: tags and desired properties of a fleet's usual shape,
   * 28 leaves (an array counts as one) in 8 nested objects, 950 to 1,000 bytes as compact JSON.
   * Values that a fleet shares (site, model, firmware) come from small sets; serial, place and
   * thresholds differ per device. The same {@code n} always gives the same content, so that a
   * read-back can be checked.
   */
  static JsonObject fillPatch(int n) {
    SplittableRandom r = new SplittableRandom(n * 0x9E3779B97F4A7C15L);
    String[] site = SITES[r.nextInt(SITES.length)];
    int model = r.nextInt(MODELS.length);
    int fw = r.nextInt(FIRMWARE.length);
    int floor = 1 + r.nextInt(12);
    JsonObject tags =
        new JsonObject()
            .put(
                "site",
                new JsonObject()
                    .put("region", site[0])
                    .put("country", site[1])
                    .put("city", site[2])
                    .put("building", String.format(Locale.ROOT, "B-%02d", 1 + r.nextInt(40)))
                    .put("floor", floor)
                    .put("room", String.format(Locale.ROOT, "%d.%03d", floor, r.nextInt(200)))
                    .put("address", site[4] + " " + (1 + r.nextInt(250)) + ", " + site[5]))
            .put(
                "asset",
                new JsonObject()
                    .put(
                        "serial",
                        String.format(
                            Locale.ROOT,
                            "SN-%s-%012X",
                            MODELS[model].replace("-", ""),
                            r.nextLong(1L << 48)))
                    .put("model", MODELS[model])
                    .put("manufacturer", "Contoso Sensors GmbH")
                    .put(
                        "installDate",
                        String.format(
                            Locale.ROOT,
                            "20%02d-%02d-%02d",
                            19 + r.nextInt(7),
                            1 + r.nextInt(12),
                            1 + r.nextInt(28)))
                    .put("description", DESCRIPTIONS[model])
                    .put("owner", "facilities-operations-" + site[0])
                    .put(
                        "contact",
                        "facilities-" + site[2].toLowerCase(Locale.ROOT) + "@contoso.example"))
            .put("fleet", "rollout-wave-" + (1 + n % 5));
    JsonObject desired =
        new JsonObject()
            .put(
                "telemetry",
                new JsonObject()
                    .put("intervalSeconds", 15 * (1 + r.nextInt(8)))
                    .put("batchSize", 10 * (1 + r.nextInt(5)))
                    .put("compression", "gzip")
                    .put(
                        "channels",
                        new JsonArray()
                            .add("temperature")
                            .add("humidity")
                            .add("co2")
                            .add("pm2_5")
                            .add("voc")))
            .put(
                "thresholds",
                new JsonObject()
                    .put(
                        "temperature",
                        new JsonObject()
                            .put("min", -10 + r.nextInt(40) * 0.25)
                            .put("max", 30 + r.nextInt(40) * 0.25))
                    .put("co2", new JsonObject().put("max", 800 + 50 * r.nextInt(15))))
            .put(
                "firmware",
                new JsonObject()
                    .put("version", FIRMWARE[fw])
                    .put("channel", fw == FIRMWARE.length - 1 ? "preview" : "stable")
                    .put(
                        "url",
                        "https://updates.contoso.example/firmware/releases/"
                            + MODELS[model].toLowerCase(Locale.ROOT)
                            + "/"
                            + FIRMWARE[fw]
                            + "/image-signed.bin")
                    .put("sha256", SHA256[fw]))
            .put(
                "maintenance",
                new JsonObject()
                    .put(
                        "window",
                        String.format(Locale.ROOT, "%02d:00-%02d:00", 1 + n % 4, 3 + n % 4))
                    .put("timezone", site[3]));
    return new JsonObject()
        .put("tags", tags)
        .put("properties", new JsonObject().put("desired", desired));
  }

  /**
   * The first member where {@code got} differs from {@code want}, as "path: got X, PATCHed Y"; null
   * when they agree. Members of {@code got} named {@code $...} ($metadata, $version) are the hub's
   * own and ignored.
   */
  static String difference(String path, JsonObject want, JsonObject got) {
    if (got == null) {
      return path + ": missing";
    }
    for (String k : want.fieldNames()) {
      Object w = want.getValue(k);
      Object g = got.getValue(k);
      if (w instanceof JsonObject wo && g instanceof JsonObject go) {
        String d = difference(path + '.' + k, wo, go);
        if (d != null) {
          return d;
        }
      } else if (!(w instanceof Number wn && g instanceof Number gn
          ? wn.doubleValue() == gn.doubleValue()
          : w.equals(g))) {
        return path + '.' + k + ": got " + g + ", PATCHed " + w;
      }
    }
    for (String k : got.fieldNames()) {
      if (!k.startsWith("$") && !want.containsKey(k)) {
        return path + '.' + k + ": got " + got.getValue(k) + ", not PATCHed";
      }
    }
    return null;
  }

  /** Sequences the phases and reports. */
  private static final class Runner {
    private final Options options;
    private final PrintStream out;
    private final Map<String, String> results = new LinkedHashMap<>();

    Runner(Options options, PrintStream out) {
      this.options = options;
      this.out = out;
      results.put("mode", options.mode().name().toLowerCase(Locale.ROOT));
    }

    int run(HubInfo hub) {
      return BenchSupport.runPhases(
          "twin-bench",
          "== Herd twin benchmark (mode "
              + options.mode().name().toLowerCase(Locale.ROOT)
              + (options.create() && options.mode() != Mode.CREATE ? ", devices created first" : "")
              + ") ==",
          options,
          hub,
          out,
          Math.max(options.clients(), VERIFY_CLIENTS),
          results,
          "a request failed, did not answer 200 or a check failed",
          (clients, token) ->
              switch (options.mode()) {
                case CREATE -> true;
                case PATCH -> patchPhase(clients, token);
                case FILL -> fillPhase(clients, token);
              });
    }

    private MultiMap patchHeaders(String token) {
      return MultiMap.caseInsensitiveMultiMap()
          .add(HttpHeaders.AUTHORIZATION, token)
          .add(HttpHeaders.CONTENT_TYPE, JSON_UTF8)
          // Node's service SDK always quotes If-Match (wire §5.1); "*" forces the update.
          .add(HttpHeaders.IF_MATCH, "\"*\"");
    }

    private boolean patchPhase(Clients clients, String token) throws TimeoutException {
      // Last acknowledged value per device; each slot is written by its driver's event loop only.
      int[] acked = new int[options.devices()];
      AtomicInteger seq = new AtomicInteger();
      PhaseResult r =
          clients.timed(
              options.clients(),
              options.warmupSeconds(),
              options.seconds(),
              MAX_PATCH_ERRORS,
              d -> new PatchCall(d, clients.eventLoops(), patchHeaders(token), seq, acked));
      PhaseStats total =
          BenchSupport.reportTimed(
              out,
              results,
              r,
              "patch",
              options.clients() + " clients on " + options.devices() + " devices",
              options.seconds(),
              options.warmupSeconds(),
              "updates",
              "updates/s");
      results.put("patch.maxMs", fmt(total.latencyMicros.getMaxValue() / 1e3));
      BenchSupport.putErrorsAndCpu(results, "patch", r);
      if (total.errors > 0) {
        return false;
      }
      List<Integer> patched = new ArrayList<>();
      for (int i = 0; i < acked.length; i++) {
        if (acked[i] != 0) {
          patched.add(i);
        }
      }
      Collections.shuffle(patched);
      List<Integer> sample = patched.subList(0, Math.min(options.verify(), patched.size()));
      return verify(
          clients,
          token,
          "patch",
          sample,
          (n, twin) -> {
            JsonObject bench =
                twin.getJsonObject("properties").getJsonObject("desired").getJsonObject("bench");
            Integer value = bench == null ? null : bench.getInteger("seq");
            return value != null && value == acked[n]
                ? null
                : "properties.desired.bench is "
                    + bench
                    + ", the last acknowledged PATCH set seq "
                    + acked[n];
          });
    }

    /**
     * Desired-property PATCHes on random devices of one driver's share (device number modulo the
     * event loops equals the driver's index), never two at once on one device.
     */
    private final class PatchCall implements Call {
      private final Driver driver;
      private final int loops;
      private final MultiMap headers;
      private final AtomicInteger seq;
      private final int[] acked;
      private final int slots;
      private final BitSet inFlight = new BitSet();

      PatchCall(Driver driver, int loops, MultiMap headers, AtomicInteger seq, int[] acked) {
        this.driver = driver;
        this.loops = loops;
        this.headers = headers;
        this.seq = seq;
        this.acked = acked;
        this.slots = (options.devices() - driver.index() + loops - 1) / loops;
      }

      @Override
      public Future<String> send(int n) {
        // Fewer requests are in flight here than the share has devices (--devices >= 2 *
        // --clients), so a free slot exists.
        int slot = inFlight.nextClearBit(ThreadLocalRandom.current().nextInt(slots));
        int free = slot < slots ? slot : inFlight.nextClearBit(0);
        int device = free * loops + driver.index();
        int value = seq.incrementAndGet();
        String id = options.deviceId(device);
        Buffer body =
            Buffer.buffer(
                "{\"properties\":{\"desired\":{\"bench\":{\"seq\":"
                    + value
                    + ",\"ts\":"
                    + System.currentTimeMillis()
                    + "}}}}");
        inFlight.set(free);
        return BenchSupport.outcome(
                driver.request(HttpMethod.PATCH, twinUri(id)).putHeaders(headers).sendBuffer(body),
                resp -> BenchSupport.checkOkWithId(resp, id),
                "PATCH /twins/" + id)
            .map(
                f -> {
                  inFlight.clear(free);
                  if (f == null) {
                    acked[device] = value;
                  }
                  return f;
                });
      }
    }

    private boolean fillPhase(Clients clients, String token) throws TimeoutException {
      long bodyBytes = 0;
      int probe = Math.min(options.devices(), 1_000);
      for (int i = 0; i < probe; i++) {
        bodyBytes += fillPatch(i).encode().getBytes(UTF_8).length;
      }
      double meanBody = bodyBytes / (double) probe;
      long start = System.nanoTime();
      PhaseResult r =
          clients.drain(
              options.clients(),
              options.devices(),
              n -> 1,
              d -> {
                MultiMap headers = patchHeaders(token);
                return n -> {
                  String id = options.deviceId(n);
                  return BenchSupport.outcome(
                      d.request(HttpMethod.PATCH, twinUri(id))
                          .putHeaders(headers)
                          .sendBuffer(Buffer.buffer(fillPatch(n).encode())),
                      resp -> BenchSupport.checkOkWithId(resp, id),
                      "PATCH /twins/" + id);
                };
              });
      PhaseStats total = r.stats();
      double seconds = total.secondsSince(start);
      double perSecond = BenchSupport.perSecond(total.items, seconds);
      out.printf(
          Locale.ROOT,
          "fill      : %d of %d twins (patch body %.0f bytes on average, %d clients) in %.2f s%n",
          total.items,
          options.devices(),
          meanBody,
          options.clients(),
          seconds);
      BenchSupport.printFigures(out, r, perSecond, "twins/s", "", P50_P99);
      results.put("fill.twins", Long.toString(total.items));
      results.put("fill.seconds", fmt(seconds));
      results.put("fill.perSecond", fmt(perSecond));
      results.put("fill.bodyBytes", fmt(meanBody));
      BenchSupport.putPercentiles(results, "fill.p", total.latencyMicros, P50_P99);
      BenchSupport.putErrorsAndCpu(results, "fill", r);
      if (total.errors > 0) {
        return false;
      }
      // The first and last device, and a random sample of the rest.
      List<Integer> sample = new ArrayList<>();
      int k = Math.min(options.verify(), options.devices());
      for (int i = 0; i < k; i++) {
        sample.add(
            i == 0
                ? 0
                : i == 1
                    ? options.devices() - 1
                    : ThreadLocalRandom.current().nextInt(options.devices()));
      }
      return verify(
          clients,
          token,
          "fill",
          sample,
          (n, twin) -> {
            JsonObject want = fillPatch(n);
            String d = difference("tags", want.getJsonObject("tags"), twin.getJsonObject("tags"));
            return d != null
                ? d
                : difference(
                    "properties.desired",
                    want.getJsonObject("properties").getJsonObject("desired"),
                    twin.getJsonObject("properties").getJsonObject("desired"));
          });
    }

    /** Checks one twin read back; returns null when it is as expected. */
    @FunctionalInterface
    private interface TwinCheck {
      String check(int device, JsonObject twin);
    }

    /**
     * GETs the twins of the {@code devices} and applies {@code check}; records {@code
     * <phase>.verified} and the mean twin JSON size. True when every twin passed.
     */
    private boolean verify(
        Clients clients, String token, String phase, List<Integer> devices, TwinCheck check)
        throws TimeoutException {
      if (devices.isEmpty()) {
        results.put(phase + ".verified", "0");
        return true;
      }
      AtomicLong twinBytes = new AtomicLong();
      PhaseResult r =
          clients.drain(
              Math.min(VERIFY_CLIENTS, devices.size()),
              devices.size(),
              i -> 1,
              d -> {
                MultiMap headers =
                    MultiMap.caseInsensitiveMultiMap().add(HttpHeaders.AUTHORIZATION, token);
                return i -> {
                  int device = devices.get(i);
                  String id = options.deviceId(device);
                  return BenchSupport.outcome(
                      d.request(HttpMethod.GET, twinUri(id)).putHeaders(headers).send(),
                      resp -> {
                        if (resp.statusCode() == 200 && resp.body() != null) {
                          twinBytes.addAndGet(resp.body().length());
                        }
                        return checkTwin(resp, device, check);
                      },
                      "GET /twins/" + id);
                };
              });
      PhaseStats total = r.stats();
      double meanBytes = twinBytes.get() / (double) Math.max(1, total.items);
      out.printf(
          Locale.ROOT,
          "verify    : %d of %d twins read back as expected (GET /twins/{id}, %.0f bytes of"
              + " JSON on average)%n",
          total.items,
          devices.size(),
          meanBytes);
      BenchSupport.printErrors(out, total);
      results.put(phase + ".verified", Long.toString(total.items));
      results.put(phase + ".twinJsonBytes", fmt(meanBytes));
      return total.errors == 0 && total.items == devices.size();
    }

    private static String checkTwin(HttpResponse<Buffer> resp, int device, TwinCheck check) {
      if (resp.statusCode() != 200) {
        return BenchSupport.statusLine(resp);
      }
      try {
        return check.check(device, resp.bodyAsJsonObject());
      } catch (RuntimeException e) {
        return "unexpected twin (" + BenchSupport.describe(e) + "): " + BenchSupport.snippet(resp);
      }
    }
  }
}
