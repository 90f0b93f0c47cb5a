package io.herd.simulator.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.HdrHistogram.Histogram;

/**
 * Registry benchmark: creates devices through bulk {@code POST /devices}, then reads them back by
 * id through {@code GET /devices/{id}} under concurrency.
 *
 * <p>The load is closed-loop: each client keeps exactly one request outstanding, over keep-alive
 * HTTP/1.1 connections pooled per event loop, so concurrency equals the client count. Latencies are
 * per request, in microseconds, and are not corrected for coordinated omission.
 *
 * <p>Exit status: 0 when every request returned 200, 1 on any failed or non-200 request, a missed
 * deadline or bad arguments. Only loopback hosts are accepted.
 */
public final class RegistryBench {

  static final String API_VERSION = "2021-04-12";
  private static final String DEVICES_URI = "/devices?api-version=" + API_VERSION;
  private static final String JSON_UTF8 = "application/json; charset=utf-8";
  private static final int REQUEST_TIMEOUT_MS = 30_000;
  private static final int MAX_ERROR_SAMPLES = 5;
  // GETs stop early after this many errors per event loop, rather than hammer a broken hub.
  private static final int MAX_GET_ERRORS = 100;
  // Conservative subset of the IoT Hub id alphabet: needs no escaping in a URL path or JSON.
  private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9._-]{1,100}");

  private RegistryBench() {}

  public static void main(String[] args) {
    // The classpath has slf4j-api without a provider; JUL keeps Vert.x and Netty warnings (blocked
    // threads, leaks) visible on stderr.
    InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE);
    if (System.getProperty("vertx.logger-delegate-factory-class-name") == null) {
      System.setProperty(
          "vertx.logger-delegate-factory-class-name",
          "io.vertx.core.logging.JULLogDelegateFactory");
    }
    System.exit(run(args, System.out));
  }

  /** Runs the benchmark and returns the process exit status. */
  static int run(String[] args, PrintStream out) {
    Options options;
    HubInfo hub;
    try {
      options = Options.parse(args);
      if (options == null) {
        out.println(Options.USAGE);
        return 0;
      }
      hub = HubInfo.read(options.hubJson());
      requireLoopback(options.host());
    } catch (IllegalArgumentException e) {
      System.err.println("registry-bench: " + e.getMessage());
      return 1;
    } catch (IOException e) {
      System.err.println("registry-bench: cannot read --hub-json: " + describe(e));
      return 1;
    }
    return new Runner(options, hub, out).run();
  }

  private static void requireLoopback(String host) {
    try {
      if (!InetAddress.getByName(host).isLoopbackAddress()) {
        throw new IllegalArgumentException("--host must be a loopback address: " + host);
      }
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("unknown --host: " + host, e);
    }
  }

  /** Command-line options, validated. */
  record Options(
      Path hubJson,
      int devices,
      int batch,
      int createClients,
      int getClients,
      int getSeconds,
      int warmupSeconds,
      String prefix,
      String host,
      int eventLoops,
      int timeoutSeconds,
      Path resultFile) {

    static final String USAGE =
        """
        usage: RegistryBench --hub-json PATH [options]
          --devices N           devices to create (default 100000)
          --batch N             devices per POST /devices, 1..100 (default 100)
          --create-clients N    concurrent bulk-create requests (default 8)
          --get-clients N       concurrent GET requests (default 64)
          --get-seconds N       measured GET phase (default 20)
          --warmup-seconds N    GET warm-up excluded from figures (default 3)
          --prefix P            device id prefix, ids are P-0..P-(N-1) (default bench-<random>)
          --host H              loopback address to connect to (default 127.0.0.1)
          --event-loops N       client event loops (default max(1, cores / 4))
          --timeout-seconds N   hard limit for the whole run (default 600)
          --result-file PATH    also write the figures as key=value lines""";

    /** Returns null when help was requested. */
    static Options parse(String[] args) {
      Map<String, String> values = new HashMap<>();
      for (int i = 0; i < args.length; i++) {
        String name = args[i];
        if (name.equals("--help") || name.equals("-h")) {
          return null;
        }
        if (!name.startsWith("--") || i + 1 >= args.length) {
          throw new IllegalArgumentException("expected --name value, got: " + name);
        }
        values.put(name.substring(2), args[++i]);
      }
      String hubJson = values.remove("hub-json");
      if (hubJson == null) {
        throw new IllegalArgumentException("--hub-json is required\n" + USAGE);
      }
      String random = UUID.randomUUID().toString().substring(0, 8);
      int cores = Runtime.getRuntime().availableProcessors();
      Options o =
          new Options(
              Path.of(hubJson),
              intArg(values, "devices", 100_000, 1, 10_000_000),
              intArg(values, "batch", 100, 1, 100),
              intArg(values, "create-clients", 8, 1, 1_000),
              intArg(values, "get-clients", 64, 1, 5_000),
              intArg(values, "get-seconds", 20, 1, 3_600),
              intArg(values, "warmup-seconds", 3, 0, 600),
              values.getOrDefault("prefix", "bench-" + random),
              values.getOrDefault("host", "127.0.0.1"),
              // The hub runs on the same machine: leave it most of the cores. On 2 cores one
              // client loop measured faster GETs than two (less contention with the hub).
              intArg(values, "event-loops", Math.max(1, cores / 4), 1, 64),
              intArg(values, "timeout-seconds", 600, 1, 86_400),
              values.containsKey("result-file") ? Path.of(values.get("result-file")) : null);
      values.remove("prefix");
      values.remove("host");
      values.remove("result-file");
      if (!values.isEmpty()) {
        throw new IllegalArgumentException("unknown option(s): " + values.keySet());
      }
      if (!PREFIX.matcher(o.prefix).matches()) {
        throw new IllegalArgumentException("--prefix must match " + PREFIX + ": " + o.prefix);
      }
      if (o.warmupSeconds + o.getSeconds >= o.timeoutSeconds) {
        throw new IllegalArgumentException("--timeout-seconds must exceed warm-up + GET seconds");
      }
      return o;
    }

    private static int intArg(Map<String, String> values, String name, int def, int min, int max) {
      String raw = values.remove(name);
      if (raw == null) {
        return def;
      }
      try {
        int v = Integer.parseInt(raw.replace("_", ""));
        if (v < min || v > max) {
          throw new IllegalArgumentException(
              "--" + name + " must be in [" + min + ", " + max + "]");
        }
        return v;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--" + name + " is not an integer: " + raw, e);
      }
    }

    int batches() {
      return (devices + batch - 1) / batch;
    }

    String deviceId(int n) {
      return prefix + '-' + n;
    }
  }

  /** What the benchmark needs from the hub's {@code hub.json}. */
  record HubInfo(String hostName, int httpsPort, Path caFile, String policy, byte[] key) {

    static HubInfo read(Path hubJson) throws IOException {
      JsonObject json;
      HubInfo hub;
      try {
        json = new JsonObject(Files.readString(hubJson));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(hubJson + " is not valid JSON: " + e.getMessage(), e);
      }
      try {
        String owner = json.getJsonObject("connectionStrings").getString("iothubowner");
        Map<String, String> cs = new HashMap<>();
        for (String part : owner.split(";")) {
          int eq = part.indexOf('=');
          if (eq > 0) {
            cs.put(part.substring(0, eq), part.substring(eq + 1));
          }
        }
        String host = json.getString("hostName", cs.get("HostName"));
        hub =
            new HubInfo(
                host,
                json.getJsonObject("ports").getInteger("https"),
                Path.of(json.getString("caFile")),
                cs.get("SharedAccessKeyName"),
                Base64.getDecoder().decode(cs.get("SharedAccessKey")));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(
            hubJson + " lacks hostName, ports.https, caFile or the iothubowner connection string",
            e);
      }
      if (!Files.isReadable(hub.caFile())) {
        throw new IllegalArgumentException("cannot read the hub CA " + hub.caFile());
      }
      return hub;
    }

    /** A service SAS token; {@code sr} is the bare host name, signed as is (wire §1.1). */
    String sasToken(long expiryEpochSeconds) {
      try {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        String toSign = hostName + "\n" + expiryEpochSeconds;
        String sig = Base64.getEncoder().encodeToString(mac.doFinal(toSign.getBytes(UTF_8)));
        return "SharedAccessSignature sr="
            + hostName
            + "&sig="
            + URLEncoder.encode(sig, UTF_8)
            + "&se="
            + expiryEpochSeconds
            + "&skn="
            + URLEncoder.encode(policy, UTF_8);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("HmacSHA256 unavailable", e);
      }
    }
  }

  /** Figures of one phase from one event loop; merged across event loops by the runner. */
  static final class PhaseStats {
    final Histogram latencyMicros = new Histogram(3);
    long requests;
    long items;
    long errors;
    long lastCompletionNanos;
    final List<String> errorSamples = new ArrayList<>();

    void error(String what) {
      errors++;
      if (errorSamples.size() < MAX_ERROR_SAMPLES) {
        errorSamples.add(what);
      }
    }

    void merge(PhaseStats other) {
      latencyMicros.add(other.latencyMicros);
      requests += other.requests;
      items += other.items;
      errors += other.errors;
      lastCompletionNanos = Math.max(lastCompletionNanos, other.lastCompletionNanos);
      for (String s : other.errorSamples) {
        if (errorSamples.size() < MAX_ERROR_SAMPLES) {
          errorSamples.add(s);
        }
      }
    }
  }

  /**
   * One event loop's share of the clients, with its own pooled WebClient so that its connections
   * and callbacks stay on its event loop. Phase state is touched only from that event loop.
   */
  static final class Driver extends VerticleBase {
    private final Options options;
    private final HubInfo hub;
    private final WebClientOptions clientOptions;
    private final int poolSize;
    private final AtomicBoolean abort;
    private final MultiMap getHeaders;
    private final MultiMap postHeaders;
    private WebClient client;

    Driver(
        Options options,
        HubInfo hub,
        WebClientOptions clientOptions,
        int poolSize,
        String token,
        AtomicBoolean abort) {
      this.options = options;
      this.hub = hub;
      this.clientOptions = clientOptions;
      this.poolSize = poolSize;
      this.abort = abort;
      this.getHeaders = MultiMap.caseInsensitiveMultiMap().add(HttpHeaders.AUTHORIZATION, token);
      this.postHeaders =
          MultiMap.caseInsensitiveMultiMap()
              .add(HttpHeaders.AUTHORIZATION, token)
              .add(HttpHeaders.CONTENT_TYPE, JSON_UTF8);
    }

    @Override
    public Future<?> start() {
      client = WebClient.create(vertx, clientOptions, new PoolOptions().setHttp1MaxSize(poolSize));
      return Future.succeededFuture();
    }

    @Override
    public Future<?> stop() {
      client.close();
      return Future.succeededFuture();
    }

    /** Creates batches taken from {@code nextBatch} with {@code clients} requests in flight. */
    Future<PhaseStats> create(AtomicInteger nextBatch, int clients) {
      Promise<PhaseStats> done = Promise.promise();
      context.runOnContext(v -> new CreateLoop(nextBatch, clients, done).start());
      return done.future();
    }

    /** GETs random ids until {@code endNanos}; records only requests inside the window. */
    Future<PhaseStats> get(int clients, long windowStartNanos, long endNanos) {
      Promise<PhaseStats> done = Promise.promise();
      context.runOnContext(v -> new GetLoop(clients, windowStartNanos, endNanos, done).start());
      return done.future();
    }

    private final class CreateLoop {
      private final AtomicInteger nextBatch;
      private final Promise<PhaseStats> done;
      private final PhaseStats stats = new PhaseStats();
      private int active;

      CreateLoop(AtomicInteger nextBatch, int clients, Promise<PhaseStats> done) {
        this.nextBatch = nextBatch;
        this.done = done;
        this.active = clients;
      }

      void start() {
        for (int i = 0, n = active; i < n; i++) {
          next();
        }
      }

      private void next() {
        int batch = abort.get() ? Integer.MAX_VALUE : nextBatch.getAndIncrement();
        if (batch >= options.batches()) {
          if (--active == 0) {
            done.complete(stats);
          }
          return;
        }
        int first = batch * options.batch();
        int count = Math.min(options.batch(), options.devices() - first);
        Buffer body = bulkCreateBody(first, count);
        long start = System.nanoTime();
        client
            .post(hub.httpsPort(), options.host(), DEVICES_URI)
            .putHeaders(postHeaders)
            .timeout(REQUEST_TIMEOUT_MS)
            .sendBuffer(body)
            .onComplete(
                ar -> {
                  long end = System.nanoTime();
                  String failure =
                      ar.failed() ? describe(ar.cause()) : checkBulkResponse(ar.result());
                  stats.requests++;
                  stats.lastCompletionNanos = end;
                  if (failure == null) {
                    stats.items += count;
                    stats.latencyMicros.recordValue((end - start) / 1_000);
                  } else {
                    // Missing devices would spoil the GET phase: stop everyone.
                    stats.error("POST /devices [" + options.deviceId(first) + "..]: " + failure);
                    abort.set(true);
                  }
                  next();
                });
      }

      private Buffer bulkCreateBody(int first, int count) {
        StringBuilder sb = new StringBuilder(count * 160).append('[');
        for (int i = 0; i < count; i++) {
          sb.append(i == 0 ? "{\"id\":\"" : ",{\"id\":\"")
              .append(options.deviceId(first + i))
              .append("\",\"importMode\":\"create\",\"status\":\"enabled\",")
              .append("\"authentication\":{\"type\":\"sas\",")
              .append("\"symmetricKey\":{\"primaryKey\":\"\",\"secondaryKey\":\"\"}}}");
        }
        return Buffer.buffer(sb.append(']').toString());
      }
    }

    private final class GetLoop {
      private final long windowStartNanos;
      private final long endNanos;
      private final Promise<PhaseStats> done;
      private final PhaseStats stats = new PhaseStats();
      private int active;

      GetLoop(int clients, long windowStartNanos, long endNanos, Promise<PhaseStats> done) {
        this.windowStartNanos = windowStartNanos;
        this.endNanos = endNanos;
        this.done = done;
        this.active = clients;
      }

      void start() {
        for (int i = 0, n = active; i < n; i++) {
          next();
        }
      }

      private void next() {
        long start = System.nanoTime();
        if (start >= endNanos || abort.get()) {
          if (--active == 0) {
            done.complete(stats);
          }
          return;
        }
        String id = options.deviceId(ThreadLocalRandom.current().nextInt(options.devices()));
        client
            .get(hub.httpsPort(), options.host(), "/devices/" + id + "?api-version=" + API_VERSION)
            .putHeaders(getHeaders)
            .timeout(REQUEST_TIMEOUT_MS)
            .send()
            .onComplete(
                ar -> {
                  long end = System.nanoTime();
                  String failure =
                      ar.failed() ? describe(ar.cause()) : checkDevice(ar.result(), id);
                  if (failure != null) {
                    stats.error("GET /devices/" + id + ": " + failure);
                    if (stats.errors >= MAX_GET_ERRORS) {
                      abort.set(true);
                    }
                  } else if (start >= windowStartNanos && end <= endNanos) {
                    stats.requests++;
                    stats.latencyMicros.recordValue((end - start) / 1_000);
                    stats.lastCompletionNanos = end;
                  }
                  next();
                });
      }
    }
  }

  /** Returns null when the bulk response is a 200 with {@code isSuccessful: true}. */
  static String checkBulkResponse(HttpResponse<Buffer> response) {
    if (response.statusCode() != 200) {
      return statusLine(response);
    }
    try {
      JsonObject body = response.bodyAsJsonObject();
      JsonArray errors = body == null ? null : body.getJsonArray("errors");
      if (body == null
          || !Boolean.TRUE.equals(body.getBoolean("isSuccessful"))
          || (errors != null && !errors.isEmpty())) {
        return "200 but not successful: " + snippet(response);
      }
      return null;
    } catch (RuntimeException e) {
      return "200 with unreadable body: " + snippet(response);
    }
  }

  /** Returns null when the response is a 200 carrying the requested device id. */
  static String checkDevice(HttpResponse<Buffer> response, String id) {
    if (response.statusCode() != 200) {
      return statusLine(response);
    }
    Buffer body = response.body();
    if (body == null || !body.toString(UTF_8).contains('"' + id + '"')) {
      return "200 without the device id: " + snippet(response);
    }
    return null;
  }

  private static String statusLine(HttpResponse<Buffer> response) {
    return "HTTP " + response.statusCode() + " " + snippet(response);
  }

  private static String snippet(HttpResponse<Buffer> response) {
    Buffer body = response.body();
    if (body == null) {
      return "(no body)";
    }
    String s = body.toString(UTF_8);
    return s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }

  private static String describe(Throwable t) {
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }

  /** Owns the Vert.x instance, sequences the phases and reports. */
  private static final class Runner {
    private final Options options;
    private final HubInfo hub;
    private final PrintStream out;
    private final AtomicBoolean abort = new AtomicBoolean();
    private final long deadlineNanos;

    Runner(Options options, HubInfo hub, PrintStream out) {
      this.options = options;
      this.hub = hub;
      this.out = out;
      this.deadlineNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.timeoutSeconds());
    }

    int run() {
      boolean openSsl = OpenSSLEngineOptions.isAvailable();
      // Valid for the whole bounded run, so one token serves every request.
      long expiry = System.currentTimeMillis() / 1000 + options.timeoutSeconds() + 3600;
      String token = hub.sasToken(expiry);
      WebClientOptions clientOptions =
          new WebClientOptions()
              .setProtocolVersion(HttpVersion.HTTP_1_1)
              .setKeepAlive(true)
              .setSsl(true)
              .setVerifyHost(true)
              .setTrustOptions(new PemTrustOptions().addCertPath(hub.caFile().toString()))
              .setSslEngineOptions(openSsl ? new OpenSSLEngineOptions() : new JdkSSLEngineOptions())
              .setConnectTimeout(10_000)
              .setUserAgent("herd-registry-bench");

      int loops = options.eventLoops();
      Vertx vertx =
          Vertx.vertx(
              new VertxOptions()
                  .setEventLoopPoolSize(loops)
                  .setWorkerPoolSize(2)
                  .setInternalBlockingPoolSize(2));
      int status = 1;
      try {
        List<Driver> drivers = new ArrayList<>();
        for (int i = 0; i < loops; i++) {
          int pool = Math.max(share(options.createClients(), i), share(options.getClients(), i));
          drivers.add(new Driver(options, hub, clientOptions, Math.max(pool, 1), token, abort));
        }
        List<Future<String>> deployed = new ArrayList<>();
        for (Driver d : drivers) {
          deployed.add(vertx.deployVerticle(d));
        }
        await(Future.all(deployed));

        printHeader(openSsl);
        Map<String, String> results = new LinkedHashMap<>();
        PhaseStats create = createPhase(drivers, results);
        PhaseStats get = create.errors == 0 ? getPhase(drivers, results) : null;
        boolean ok = create.errors == 0 && get != null && get.errors == 0;
        results.put("status", ok ? "ok" : "failed");
        out.println(ok ? "result    : OK" : "result    : FAILED (see errors above)");
        if (!ok) {
          System.err.println("registry-bench: FAILED, a request failed or did not answer 200");
        }
        writeResults(results);
        status = ok ? 0 : 1;
      } catch (TimeoutException e) {
        abort.set(true);
        System.err.println(
            "registry-bench: FAILED, run exceeded --timeout-seconds " + options.timeoutSeconds());
      } catch (RuntimeException | IOException e) {
        abort.set(true);
        System.err.println("registry-bench: FAILED, " + describe(e));
      } finally {
        try {
          vertx.close().await(10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
          System.err.println("registry-bench: Vert.x did not close within 10 s");
        }
      }
      return status;
    }

    /** Clients of event loop {@code i} when {@code total} are spread over all loops. */
    private int share(int total, int i) {
      int loops = options.eventLoops();
      return total / loops + (i < total % loops ? 1 : 0);
    }

    private PhaseStats createPhase(List<Driver> drivers, Map<String, String> results)
        throws TimeoutException {
      AtomicInteger nextBatch = new AtomicInteger();
      CpuSample cpu = CpuSample.now();
      long start = System.nanoTime();
      List<Future<PhaseStats>> parts = new ArrayList<>();
      for (int i = 0; i < drivers.size(); i++) {
        int clients = share(options.createClients(), i);
        if (clients > 0) {
          parts.add(drivers.get(i).create(nextBatch, clients));
        }
      }
      PhaseStats total = merge(parts);
      ClientCpu clientCpu = cpu.until(CpuSample.now(), options.eventLoops());
      double seconds = Math.max(total.lastCompletionNanos - start, 0) / 1e9;
      double perSecond = total.items / Math.max(seconds, 1e-9);
      Histogram h = total.latencyMicros;
      out.printf(
          Locale.ROOT,
          "create    : %d of %d devices in %d requests (batch %d, %d clients) in %.2f s%n",
          total.items,
          options.devices(),
          total.requests,
          options.batch(),
          options.createClients(),
          seconds);
      out.printf(
          Locale.ROOT,
          "            %.0f devices/s; per request p50 %.2f ms, p99 %.2f ms, max %.2f ms;"
              + " errors %d%n",
          perSecond,
          ms(h, 50),
          ms(h, 99),
          h.getMaxValue() / 1e3,
          total.errors);
      printClientCpu(clientCpu);
      printErrors(total);
      results.put("create.devices", Long.toString(total.items));
      results.put("create.seconds", fmt(seconds));
      results.put("create.devicesPerSecond", fmt(perSecond));
      results.put("create.requestP50Ms", fmt(ms(h, 50)));
      results.put("create.requestP99Ms", fmt(ms(h, 99)));
      results.put("create.errors", Long.toString(total.errors));
      results.put("create.clientCores", fmt(clientCpu.cores()));
      results.put("create.clientLoopBusy", fmt(clientCpu.loopBusy()));
      return total;
    }

    private PhaseStats getPhase(List<Driver> drivers, Map<String, String> results)
        throws TimeoutException {
      long start = System.nanoTime();
      long windowStart = start + TimeUnit.SECONDS.toNanos(options.warmupSeconds());
      long end = windowStart + TimeUnit.SECONDS.toNanos(options.getSeconds());
      List<Future<PhaseStats>> parts = new ArrayList<>();
      for (int i = 0; i < drivers.size(); i++) {
        int clients = share(options.getClients(), i);
        if (clients > 0) {
          parts.add(drivers.get(i).get(clients, windowStart, end));
        }
      }
      // The main thread is no event loop: it may sleep until the window opens.
      sleepUntil(windowStart);
      CpuSample cpu = CpuSample.now();
      PhaseStats total = merge(parts);
      ClientCpu clientCpu = cpu.until(CpuSample.now(), options.eventLoops());
      double perSecond = total.requests / (double) options.getSeconds();
      Histogram h = total.latencyMicros;
      out.printf(
          Locale.ROOT,
          "get       : %d clients, %d s measured after %d s warm-up, %d requests%n",
          options.getClients(),
          options.getSeconds(),
          options.warmupSeconds(),
          total.requests);
      out.printf(
          Locale.ROOT,
          "            %.0f GET/s; p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms,"
              + " max %.2f ms; errors %d%n",
          perSecond,
          ms(h, 50),
          ms(h, 90),
          ms(h, 99),
          ms(h, 99.9),
          h.getMaxValue() / 1e3,
          total.errors);
      printClientCpu(clientCpu);
      printErrors(total);
      results.put("get.requests", Long.toString(total.requests));
      results.put("get.perSecond", fmt(perSecond));
      results.put("get.p50Ms", fmt(ms(h, 50)));
      results.put("get.p90Ms", fmt(ms(h, 90)));
      results.put("get.p99Ms", fmt(ms(h, 99)));
      results.put("get.p999Ms", fmt(ms(h, 99.9)));
      results.put("get.errors", Long.toString(total.errors));
      results.put("get.clientCores", fmt(clientCpu.cores()));
      results.put("get.clientLoopBusy", fmt(clientCpu.loopBusy()));
      return total;
    }

    private void printClientCpu(ClientCpu cpu) {
      out.printf(
          Locale.ROOT,
          "            load generator used %.2f of %d cores; its event loops were %.0f%% busy%n",
          cpu.cores(),
          Runtime.getRuntime().availableProcessors(),
          cpu.loopBusy() * 100);
      if (cpu.loopBusy() > 0.9) {
        out.println(
            "            note: the client event loops were nearly saturated; the figure may be"
                + " client-bound (see --event-loops)");
      }
    }

    /** Waits, bounded by the run deadline, for every part and merges their figures. */
    private PhaseStats merge(List<Future<PhaseStats>> parts) throws TimeoutException {
      await(Future.all(parts));
      PhaseStats total = new PhaseStats();
      for (Future<PhaseStats> part : parts) {
        total.merge(part.result());
      }
      return total;
    }

    private <T> T await(Future<T> future) throws TimeoutException {
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0) {
        throw new TimeoutException();
      }
      return future.await(left, TimeUnit.NANOSECONDS);
    }

    private void printHeader(boolean openSsl) {
      out.println("== Herd registry benchmark ==");
      out.println("machine   : " + machine());
      out.printf(
          Locale.ROOT,
          "hub       : https://%s:%d (hostName %s), TLS %s, HTTP/1.1 keep-alive,"
              + " client event loops: %d%n",
          options.host(),
          hub.httpsPort(),
          hub.hostName(),
          openSsl ? "OpenSSL" : "JDK",
          options.eventLoops());
      out.println(
          "ids       : " + options.deviceId(0) + " .. " + options.deviceId(options.devices() - 1));
    }

    private void printErrors(PhaseStats stats) {
      for (String s : stats.errorSamples) {
        out.println("  error   : " + s);
      }
    }

    private void writeResults(Map<String, String> results) throws IOException {
      if (options.resultFile() == null) {
        return;
      }
      StringBuilder sb = new StringBuilder();
      results.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
      Files.writeString(options.resultFile(), sb);
    }
  }

  /** CPU use of the load generator over a phase: whole process, and its event loops. */
  record ClientCpu(double cores, double loopBusy) {}

  /** A reading of the clocks {@link ClientCpu} is computed from. */
  record CpuSample(long wallNanos, long processCpuNanos, long loopCpuNanos) {

    static CpuSample now() {
      long process = 0;
      if (ManagementFactory.getOperatingSystemMXBean()
          instanceof com.sun.management.OperatingSystemMXBean os) {
        process = os.getProcessCpuTime();
      }
      ThreadMXBean threads = ManagementFactory.getThreadMXBean();
      long loops = 0;
      for (Thread t : Thread.getAllStackTraces().keySet()) {
        if (t.getName().startsWith("vert.x-eventloop-thread-")) {
          loops += Math.max(0, threads.getThreadCpuTime(t.getId()));
        }
      }
      return new CpuSample(System.nanoTime(), process, loops);
    }

    ClientCpu until(CpuSample end, int eventLoops) {
      double wall = Math.max(1, end.wallNanos - wallNanos);
      return new ClientCpu(
          (end.processCpuNanos - processCpuNanos) / wall,
          (end.loopCpuNanos - loopCpuNanos) / wall / eventLoops);
    }
  }

  private static void sleepUntil(long nanoTime) {
    long left;
    while ((left = nanoTime - System.nanoTime()) > 0) {
      try {
        TimeUnit.NANOSECONDS.sleep(left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static double ms(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1e3;
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }

  /** CPU model, cores, memory, OS and Java, for the results block. */
  static String machine() {
    String cpu = "unknown CPU";
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          cpu = line.substring(line.indexOf(':') + 1).trim();
          break;
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux: keep "unknown CPU".
    }
    long memory = 0;
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      memory = os.getTotalMemorySize();
    }
    return String.format(
        Locale.ROOT,
        "%s | %d cores | %.1f GiB | %s %s %s | Java %s (%s)",
        cpu,
        Runtime.getRuntime().availableProcessors(),
        memory / (1024.0 * 1024 * 1024),
        System.getProperty("os.name"),
        System.getProperty("os.version"),
        System.getProperty("os.arch"),
        System.getProperty("java.runtime.version"),
        System.getProperty("java.vm.name"));
  }
}
