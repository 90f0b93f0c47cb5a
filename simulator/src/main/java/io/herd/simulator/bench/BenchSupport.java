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
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.client.HttpRequest;
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
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntUnaryOperator;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.HdrHistogram.Histogram;

/**
 * What the load generators in this package share: reading {@code hub.json} and signing a service
 * SAS token, option parsing, closed-loop HTTPS clients on Vert.x event loops, bulk device creation
 * and reporting (machine facts, client CPU use, HdrHistogram percentiles, result files).
 *
 * <p>The load is closed-loop: each client keeps exactly one request outstanding, over keep-alive
 * HTTP/1.1 connections pooled per event loop, so concurrency equals the client count. Latencies are
 * per request, in microseconds, and are not corrected for coordinated omission.
 */
final class BenchSupport {

  static final String API_VERSION = "2021-04-12";
  static final String JSON_UTF8 = "application/json; charset=utf-8";
  static final int REQUEST_TIMEOUT_MS = 30_000;
  static final int MAX_ERROR_SAMPLES = 5;
  // Conservative subset of the IoT Hub id alphabet: needs no escaping in a URL path or JSON.
  static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9._-]{1,100}");
  private static final String DEVICES_URI = "/devices?api-version=" + API_VERSION;

  private BenchSupport() {}

  /**
   * The classpath has slf4j-api without a provider; JUL keeps Vert.x and Netty warnings (blocked
   * threads, leaks) visible on stderr.
   */
  static void useJulLogging() {
    InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE);
    if (System.getProperty("vertx.logger-delegate-factory-class-name") == null) {
      System.setProperty(
          "vertx.logger-delegate-factory-class-name",
          "io.vertx.core.logging.JULLogDelegateFactory");
    }
  }

  static void requireLoopback(String host) {
    try {
      if (!InetAddress.getByName(host).isLoopbackAddress()) {
        throw new IllegalArgumentException("--host must be a loopback address: " + host);
      }
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("unknown --host: " + host, e);
    }
  }

  /**
   * {@code --name value} pairs, and the bare {@code flags} (mapped to "true"), keyed without the
   * dashes; null when help was requested.
   */
  static Map<String, String> parseArgs(String[] args, Set<String> flags) {
    Map<String, String> values = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      String name = args[i];
      if (name.equals("--help") || name.equals("-h")) {
        return null;
      }
      if (name.startsWith("--") && flags.contains(name.substring(2))) {
        values.put(name.substring(2), "true");
        continue;
      }
      if (!name.startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --name value, got: " + name);
      }
      values.put(name.substring(2), args[++i]);
    }
    return values;
  }

  /** Removes and validates an integer option; {@code def} when absent. */
  static int intArg(Map<String, String> values, String name, int def, int min, int max) {
    String raw = values.remove(name);
    if (raw == null) {
      return def;
    }
    try {
      int v = Integer.parseInt(raw.replace("_", ""));
      if (v < min || v > max) {
        throw new IllegalArgumentException("--" + name + " must be in [" + min + ", " + max + "]");
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " is not an integer: " + raw, e);
    }
  }

  static String deviceId(String prefix, int n) {
    return prefix + '-' + n;
  }

  /** What the benchmarks need from the hub's {@code hub.json}. */
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

  /** Figures of one phase from one event loop; merged across event loops by {@link Clients}. */
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

  /** A phase's merged figures and the load generator's CPU use meanwhile. */
  record PhaseResult(PhaseStats stats, ClientCpu cpu) {}

  /** One request of a closed loop, sent on its driver's event loop. */
  @FunctionalInterface
  interface Call {
    /**
     * Sends request {@code n}; completes, never fails, with null on success or with a description
     * of what went wrong.
     */
    Future<String> send(int n);
  }

  /**
   * One event loop's share of the clients, with its own pooled WebClient so that its connections
   * and callbacks stay on its event loop. Loop state is touched only from that event loop.
   */
  static final class Driver extends VerticleBase {
    private final int index;
    private final String host;
    private final int port;
    private final WebClientOptions clientOptions;
    private final int poolSize;
    private final AtomicBoolean abort;
    private WebClient client;

    Driver(
        int index,
        String host,
        int port,
        WebClientOptions clientOptions,
        int poolSize,
        AtomicBoolean abort) {
      this.index = index;
      this.host = host;
      this.port = port;
      this.clientOptions = clientOptions;
      this.poolSize = poolSize;
      this.abort = abort;
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

    /** Position among the drivers, 0-based. */
    int index() {
      return index;
    }

    /** A request to the hub with the per-request timeout set. */
    HttpRequest<Buffer> request(HttpMethod method, String uri) {
      return client.request(method, port, host, uri).timeout(REQUEST_TIMEOUT_MS);
    }

    /**
     * Sends items taken from {@code next} below {@code count} with {@code clients} requests in
     * flight; a successful item adds {@code weight(item)} to the items figure. The first failure
     * stops every driver, since later phases would build on missing work.
     */
    Future<PhaseStats> drain(
        int clients, AtomicInteger next, int count, IntUnaryOperator weight, Call call) {
      Promise<PhaseStats> done = Promise.promise();
      context.runOnContext(v -> new DrainLoop(next, count, weight, call, clients, done).start());
      return done.future();
    }

    /**
     * Sends requests with {@code clients} in flight until {@code endNanos}; records only requests
     * sent and answered inside [windowStartNanos, endNanos]. Stops every driver after {@code
     * maxErrors} failures here, rather than hammer a broken hub.
     */
    Future<PhaseStats> timed(
        int clients, long windowStartNanos, long endNanos, int maxErrors, Call call) {
      Promise<PhaseStats> done = Promise.promise();
      context.runOnContext(
          v -> new TimedLoop(windowStartNanos, endNanos, maxErrors, call, clients, done).start());
      return done.future();
    }

    private final class DrainLoop {
      private final AtomicInteger next;
      private final int count;
      private final IntUnaryOperator weight;
      private final Call call;
      private final Promise<PhaseStats> done;
      private final PhaseStats stats = new PhaseStats();
      private int active;

      DrainLoop(
          AtomicInteger next,
          int count,
          IntUnaryOperator weight,
          Call call,
          int clients,
          Promise<PhaseStats> done) {
        this.next = next;
        this.count = count;
        this.weight = weight;
        this.call = call;
        this.active = clients;
        this.done = done;
      }

      void start() {
        for (int i = 0, n = active; i < n; i++) {
          next();
        }
      }

      private void next() {
        int item = abort.get() ? Integer.MAX_VALUE : next.getAndIncrement();
        if (item >= count) {
          if (--active == 0) {
            done.complete(stats);
          }
          return;
        }
        long start = System.nanoTime();
        call.send(item)
            .onComplete(
                ar -> {
                  long end = System.nanoTime();
                  String failure = ar.failed() ? describe(ar.cause()) : ar.result();
                  stats.requests++;
                  stats.lastCompletionNanos = end;
                  if (failure == null) {
                    stats.items += weight.applyAsInt(item);
                    stats.latencyMicros.recordValue((end - start) / 1_000);
                  } else {
                    stats.error(failure);
                    abort.set(true);
                  }
                  next();
                });
      }
    }

    private final class TimedLoop {
      private final long windowStartNanos;
      private final long endNanos;
      private final int maxErrors;
      private final Call call;
      private final Promise<PhaseStats> done;
      private final PhaseStats stats = new PhaseStats();
      private int active;
      private int sent;

      TimedLoop(
          long windowStartNanos,
          long endNanos,
          int maxErrors,
          Call call,
          int clients,
          Promise<PhaseStats> done) {
        this.windowStartNanos = windowStartNanos;
        this.endNanos = endNanos;
        this.maxErrors = maxErrors;
        this.call = call;
        this.active = clients;
        this.done = done;
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
        call.send(sent++)
            .onComplete(
                ar -> {
                  long end = System.nanoTime();
                  String failure = ar.failed() ? describe(ar.cause()) : ar.result();
                  if (failure != null) {
                    stats.error(failure);
                    if (stats.errors >= maxErrors) {
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

  /**
   * The load generator's Vert.x instance with one {@link Driver} per client event loop; every wait
   * is bounded by the run's deadline. Closing stops the loops first.
   */
  static final class Clients implements AutoCloseable {
    private final String name;
    private final int eventLoops;
    private final long deadlineNanos;
    private final boolean openSsl;
    private final AtomicBoolean abort = new AtomicBoolean();
    private final Vertx vertx;
    private final List<Driver> drivers = new ArrayList<>();

    /**
     * Deploys the drivers, connecting to {@code host} on the hub's HTTPS port; each pools enough
     * connections for its share of {@code maxClients}. {@code name} prefixes messages on stderr.
     */
    Clients(
        String name,
        HubInfo hub,
        String host,
        String userAgent,
        int eventLoops,
        int maxClients,
        long deadlineNanos)
        throws TimeoutException {
      this.name = name;
      this.eventLoops = eventLoops;
      this.deadlineNanos = deadlineNanos;
      this.openSsl = OpenSSLEngineOptions.isAvailable();
      WebClientOptions clientOptions =
          new WebClientOptions()
              .setProtocolVersion(HttpVersion.HTTP_1_1)
              .setKeepAlive(true)
              .setSsl(true)
              .setVerifyHost(true)
              .setTrustOptions(new PemTrustOptions().addCertPath(hub.caFile().toString()))
              .setSslEngineOptions(openSsl ? new OpenSSLEngineOptions() : new JdkSSLEngineOptions())
              .setConnectTimeout(10_000)
              .setUserAgent(userAgent);
      vertx =
          Vertx.vertx(
              new VertxOptions()
                  .setEventLoopPoolSize(eventLoops)
                  .setWorkerPoolSize(2)
                  .setInternalBlockingPoolSize(2));
      try {
        List<Future<String>> deployed = new ArrayList<>();
        for (int i = 0; i < eventLoops; i++) {
          int pool = Math.max(share(maxClients, i), 1);
          Driver d = new Driver(i, host, hub.httpsPort(), clientOptions, pool, abort);
          drivers.add(d);
          deployed.add(vertx.deployVerticle(d));
        }
        await(Future.all(deployed));
      } catch (TimeoutException | RuntimeException e) {
        close();
        throw e;
      }
    }

    boolean openSsl() {
      return openSsl;
    }

    int eventLoops() {
      return eventLoops;
    }

    /** Clients of event loop {@code i} when {@code total} are spread over all loops. */
    int share(int total, int i) {
      return total / eventLoops + (i < total % eventLoops ? 1 : 0);
    }

    /**
     * Runs {@link Driver#drain} with {@code clients} spread over the drivers, each with the call
     * {@code calls} makes for it; CPU use covers the whole phase.
     */
    PhaseResult drain(int clients, int count, IntUnaryOperator weight, Function<Driver, Call> calls)
        throws TimeoutException {
      AtomicInteger next = new AtomicInteger();
      CpuSample cpu = CpuSample.now();
      List<Future<PhaseStats>> parts = new ArrayList<>();
      for (Driver d : drivers) {
        int n = share(clients, d.index());
        if (n > 0) {
          parts.add(d.drain(n, next, count, weight, calls.apply(d)));
        }
      }
      PhaseStats total = merge(parts);
      return new PhaseResult(total, cpu.until(CpuSample.now(), eventLoops));
    }

    /**
     * Runs {@link Driver#timed} with {@code clients} spread over the drivers; CPU use covers the
     * measured window.
     */
    PhaseResult timed(
        int clients,
        long windowStartNanos,
        long endNanos,
        int maxErrorsPerLoop,
        Function<Driver, Call> calls)
        throws TimeoutException {
      List<Future<PhaseStats>> parts = new ArrayList<>();
      for (Driver d : drivers) {
        int n = share(clients, d.index());
        if (n > 0) {
          parts.add(d.timed(n, windowStartNanos, endNanos, maxErrorsPerLoop, calls.apply(d)));
        }
      }
      // The calling thread is no event loop: it may sleep until the window opens.
      sleepUntil(windowStartNanos);
      CpuSample cpu = CpuSample.now();
      PhaseStats total = merge(parts);
      return new PhaseResult(total, cpu.until(CpuSample.now(), eventLoops));
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

    @Override
    public void close() {
      abort.set(true);
      try {
        vertx.close().await(10, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        System.err.println(name + ": Vert.x did not close within 10 s");
      }
    }
  }

  /**
   * Bulk-creates {@code prefix-0 .. prefix-(devices-1)} through {@code POST /devices}, {@code
   * batch} per request with {@code concurrency} requests in flight, with empty keys so that the hub
   * generates them. Prints the figures and records them as {@code create.*}.
   */
  static PhaseStats createDevices(
      Clients clients,
      String token,
      String prefix,
      int devices,
      int batch,
      int concurrency,
      PrintStream out,
      Map<String, String> results)
      throws TimeoutException {
    int batches = (devices + batch - 1) / batch;
    long start = System.nanoTime();
    PhaseResult r =
        clients.drain(
            concurrency,
            batches,
            b -> Math.min(batch, devices - b * batch),
            d -> {
              MultiMap headers =
                  MultiMap.caseInsensitiveMultiMap()
                      .add(HttpHeaders.AUTHORIZATION, token)
                      .add(HttpHeaders.CONTENT_TYPE, JSON_UTF8);
              return b -> {
                int first = b * batch;
                return d.request(HttpMethod.POST, DEVICES_URI)
                    .putHeaders(headers)
                    .sendBuffer(bulkCreateBody(prefix, first, Math.min(batch, devices - first)))
                    .map(BenchSupport::checkBulkResponse)
                    .otherwise(BenchSupport::describe)
                    .map(
                        f ->
                            f == null
                                ? null
                                : "POST /devices [" + deviceId(prefix, first) + "..]: " + f);
              };
            });
    PhaseStats total = r.stats();
    double seconds = Math.max(total.lastCompletionNanos - start, 0) / 1e9;
    double perSecond = total.items / Math.max(seconds, 1e-9);
    Histogram h = total.latencyMicros;
    out.printf(
        Locale.ROOT,
        "create    : %d of %d devices in %d requests (batch %d, %d clients) in %.2f s%n",
        total.items,
        devices,
        total.requests,
        batch,
        concurrency,
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
    printClientCpu(out, r.cpu());
    printErrors(out, total);
    results.put("create.devices", Long.toString(total.items));
    results.put("create.seconds", fmt(seconds));
    results.put("create.devicesPerSecond", fmt(perSecond));
    results.put("create.requestP50Ms", fmt(ms(h, 50)));
    results.put("create.requestP99Ms", fmt(ms(h, 99)));
    results.put("create.errors", Long.toString(total.errors));
    results.put("create.clientCores", fmt(r.cpu().cores()));
    results.put("create.clientLoopBusy", fmt(r.cpu().loopBusy()));
    return total;
  }

  private static Buffer bulkCreateBody(String prefix, int first, int count) {
    StringBuilder sb = new StringBuilder(count * 160).append('[');
    for (int i = 0; i < count; i++) {
      sb.append(i == 0 ? "{\"id\":\"" : ",{\"id\":\"")
          .append(deviceId(prefix, first + i))
          .append("\",\"importMode\":\"create\",\"status\":\"enabled\",")
          .append("\"authentication\":{\"type\":\"sas\",")
          .append("\"symmetricKey\":{\"primaryKey\":\"\",\"secondaryKey\":\"\"}}}");
    }
    return Buffer.buffer(sb.append(']').toString());
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

  /** Returns null when the response is a 200 whose body holds {@code "id"} as a JSON string. */
  static String checkOkWithId(HttpResponse<Buffer> response, String id) {
    if (response.statusCode() != 200) {
      return statusLine(response);
    }
    Buffer body = response.body();
    if (body == null || !body.toString(UTF_8).contains('"' + id + '"')) {
      return "200 without the device id: " + snippet(response);
    }
    return null;
  }

  static String statusLine(HttpResponse<Buffer> response) {
    return "HTTP " + response.statusCode() + " " + snippet(response);
  }

  static String snippet(HttpResponse<Buffer> response) {
    Buffer body = response.body();
    if (body == null) {
      return "(no body)";
    }
    String s = body.toString(UTF_8);
    return s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }

  static String describe(Throwable t) {
    return t.getClass().getSimpleName() + ": " + t.getMessage();
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

  static void printClientCpu(PrintStream out, ClientCpu cpu) {
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

  static void printErrors(PrintStream out, PhaseStats stats) {
    for (String s : stats.errorSamples) {
      out.println("  error   : " + s);
    }
  }

  /** Writes the figures as {@code key=value} lines; nothing when {@code file} is null. */
  static void writeResults(Path file, Map<String, String> results) throws IOException {
    if (file == null) {
      return;
    }
    StringBuilder sb = new StringBuilder();
    results.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
    Files.writeString(file, sb);
  }

  static void sleepUntil(long nanoTime) {
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

  /** The percentile in milliseconds; 0 for an empty histogram. */
  static double ms(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1e3;
  }

  static String fmt(double v) {
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
