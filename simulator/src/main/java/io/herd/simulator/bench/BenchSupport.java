package io.herd.simulator.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.herd.core.SasSigner;
import io.herd.simulator.internal.ConnectionStrings;
import io.herd.simulator.internal.DeviceTopics;
import io.herd.simulator.internal.JulLogging;
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
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntUnaryOperator;
import java.util.regex.Pattern;
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

  static final String API_VERSION = DeviceTopics.API_VERSION;
  static final String JSON_UTF8 = "application/json; charset=utf-8";
  static final int REQUEST_TIMEOUT_MS = 30_000;
  static final int MAX_ERROR_SAMPLES = 5;
  // Conservative subset of the IoT Hub id alphabet: needs no escaping in a URL path or JSON.
  static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9._-]{1,100}");
  private static final String DEVICES_URI = "/devices?api-version=" + API_VERSION;
  // The latency percentiles reported for timed phases, and for phases that drain a work list.
  private static final double[] P50_TO_P999 = {50, 90, 99, 99.9};
  static final double[] P50_P99 = {50, 99};

  private BenchSupport() {}

  /**
   * The options every benchmark here takes; a benchmark's options record implements it with
   * components of these names.
   */
  interface BenchOptions {
    Path hubJson();

    /** Devices to work on, ids {@code prefix-0 .. prefix-(devices-1)}. */
    int devices();

    /** Devices per bulk-create request. */
    int batch();

    /** Concurrent bulk-create requests. */
    int createClients();

    String prefix();

    String host();

    int eventLoops();

    int timeoutSeconds();

    /** Null for none. */
    Path resultFile();

    /** Whether the devices are bulk-created before the benchmark's own phases. */
    default boolean create() {
      return true;
    }

    /**
     * The base64 primary key device {@code n} is created with; empty to have the hub generate it.
     * The hub always generates the secondary key.
     */
    default String primaryKey(int n) {
      return "";
    }

    default String deviceId(int n) {
      return BenchSupport.deviceId(prefix(), n);
    }
  }

  /** A benchmark's run once its options are parsed and {@code hub.json} read. */
  @FunctionalInterface
  interface Bench<O> {
    /** Runs and returns the process exit status. */
    int run(O options, HubInfo hub, PrintStream out);
  }

  /** A benchmark's phases after the bulk create. */
  @FunctionalInterface
  interface Phases {
    /** True when every request returned 200 and every check passed. */
    boolean run(Clients clients, String token) throws TimeoutException;
  }

  /** A benchmark's {@code main}: {@link #run} on stdout, then exits with its status. */
  static <O extends BenchOptions> void main(
      String name, String[] args, String usage, Function<String[], O> parse, Bench<O> bench) {
    useJulLogging();
    System.exit(run(name, args, System.out, usage, parse, bench));
  }

  /**
   * Parses {@code args} with {@code parse} (null when help was requested: then prints {@code
   * usage}), reads {@code --hub-json}, requires a loopback {@code --host} and runs {@code bench}.
   * Bad arguments are reported on stderr after {@code name}. Returns the process exit status.
   */
  static <O extends BenchOptions> int run(
      String name,
      String[] args,
      PrintStream out,
      String usage,
      Function<String[], O> parse,
      Bench<O> bench) {
    O options;
    HubInfo hub;
    try {
      options = parse.apply(args);
      if (options == null) {
        out.println(usage);
        return 0;
      }
      hub = HubInfo.read(options.hubJson());
      requireLoopback(options.host());
    } catch (IllegalArgumentException e) {
      System.err.println(name + ": " + e.getMessage());
      return 1;
    } catch (IOException e) {
      System.err.println(name + ": cannot read --hub-json: " + describe(e));
      return 1;
    }
    return bench.run(options, hub, out);
  }

  /**
   * Runs a benchmark against the hub: prints the header, {@code title} first, bulk-creates the
   * devices when {@link BenchOptions#create}, then runs {@code phases} unless that failed, with
   * enough connections for {@code phaseClients} concurrent requests; one service token serves the
   * whole bounded run. Prints the verdict, on stderr too after {@code name} and {@code failure}
   * when it failed, and writes {@code results}. Returns the process exit status.
   */
  static int runPhases(
      String name,
      String title,
      BenchOptions options,
      HubInfo hub,
      PrintStream out,
      int phaseClients,
      Map<String, String> results,
      String failure,
      Phases phases) {
    long deadlineNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.timeoutSeconds());
    // Valid for the whole bounded run, so one token serves every request.
    long expiry = System.currentTimeMillis() / 1000 + options.timeoutSeconds() + 3600;
    String token = hub.sasToken(expiry);
    try (Clients clients =
        new Clients(
            name,
            hub,
            options.host(),
            "herd-" + name,
            options.eventLoops(),
            Math.max(options.createClients(), phaseClients),
            deadlineNanos)) {
      out.println(title);
      out.println("machine   : " + machine());
      out.printf(
          Locale.ROOT,
          "hub       : https://%s:%d (hostName %s), TLS %s, HTTP/1.1 keep-alive,"
              + " client event loops: %d%n",
          options.host(),
          hub.httpsPort(),
          hub.hostName(),
          clients.openSsl() ? "OpenSSL" : "JDK",
          options.eventLoops());
      out.println(
          "ids       : " + options.deviceId(0) + " .. " + options.deviceId(options.devices() - 1));
      boolean created =
          !options.create() || createDevices(clients, token, options, out, results).errors == 0;
      boolean ok = created && phases.run(clients, token);
      results.put("status", ok ? "ok" : "failed");
      out.println(ok ? "result    : OK" : "result    : FAILED (see errors above)");
      if (!ok) {
        System.err.println(name + ": FAILED, " + failure);
      }
      writeResults(options.resultFile(), results);
      return ok ? 0 : 1;
    } catch (TimeoutException e) {
      System.err.println(
          name + ": FAILED, run exceeded --timeout-seconds " + options.timeoutSeconds());
    } catch (RuntimeException | IOException e) {
      System.err.println(name + ": FAILED, " + describe(e));
    }
    return 1;
  }

  /**
   * A load generator's Vert.x: {@code eventLoops} event loops on epoll (as the hub: fewer syscalls
   * and allocations per socket than NIO), no worker threads to speak of.
   */
  static Vertx socketClientVertx(int eventLoops) {
    return Vertx.vertx(
        new VertxOptions()
            .setEventLoopPoolSize(eventLoops)
            .setPreferNativeTransport(true)
            .setWorkerPoolSize(1)
            .setInternalBlockingPoolSize(1));
  }

  /**
   * The key-exchange groups devices offer: mbedTLS, wolfSSL and OpenSSL 3.0 (the Azure C and Node
   * SDKs' stacks) offer no post-quantum hybrid. Netty's own default with BoringSSL puts
   * X25519MLKEM768 first, which costs client and hub a lattice key exchange on every handshake.
   */
  static final String DEFAULT_TLS_GROUPS = "x25519,secp256r1,secp384r1";

  /**
   * {@code --tls-groups}: group names separated by commas, {@link #DEFAULT_TLS_GROUPS} if absent.
   */
  static String tlsGroupsArg(Map<String, String> v) {
    String groups = stringArg(v, "tls-groups", DEFAULT_TLS_GROUPS);
    if (!groups.matches("[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*")) {
      throw new IllegalArgumentException("--tls-groups takes group names separated by commas");
    }
    return groups;
  }

  /**
   * Makes the client offer {@code groups}, in order, for key exchange. Read once by Netty's OpenSSL
   * contexts (and the JDK's) when first loaded, so called before any TLS: the groups the client
   * offers decide the key exchange both sides compute.
   */
  static void offerTlsGroups(String groups) {
    System.setProperty("jdk.tls.namedGroups", groups);
  }

  /** Part {@code i} of {@code total} split into {@code parts} as evenly as whole numbers go. */
  static int share(int total, int parts, int i) {
    return total / parts + (i < total % parts ? 1 : 0);
  }

  static void useJulLogging() {
    JulLogging.use();
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

  /** Removes a string option; {@code def} when absent. */
  static String stringArg(Map<String, String> values, String name, String def) {
    String raw = values.remove(name);
    return raw == null ? def : raw;
  }

  /** Removes a path option; null when absent. */
  static Path pathArg(Map<String, String> values, String name) {
    String raw = values.remove(name);
    return raw == null ? null : Path.of(raw);
  }

  /** A fresh default {@code --prefix}, so that each run creates devices of its own. */
  static String randomPrefix() {
    return "bench-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /**
   * The checks after parsing: no options are left in {@code values} that nobody took, and the
   * {@code prefix} makes ids that need no escaping.
   */
  static void requireValid(Map<String, String> values, String prefix) {
    if (!values.isEmpty()) {
      throw new IllegalArgumentException("unknown option(s): " + values.keySet());
    }
    if (!PREFIX.matcher(prefix).matches()) {
      throw new IllegalArgumentException("--prefix must match " + PREFIX + ": " + prefix);
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
        Map<String, String> cs =
            ConnectionStrings.parse(
                json.getJsonObject("connectionStrings").getString("iothubowner"));
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
      return SasSigner.serviceToken(hostName, policy, key, expiryEpochSeconds);
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

    /** Seconds from {@code startNanos} to the last completion; 0 when nothing completed. */
    double secondsSince(long startNanos) {
      return Math.max(lastCompletionNanos - startNanos, 0) / 1e9;
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
      return new ClosedLoop(call, clients) {
        @Override
        void next() {
          int item = abort.get() ? Integer.MAX_VALUE : next.getAndIncrement();
          if (item >= count) {
            stop();
          } else {
            send(item, System.nanoTime());
          }
        }

        @Override
        void answered(int item, long start, long end, String failure) {
          stats.requests++;
          stats.lastCompletionNanos = end;
          if (failure == null) {
            stats.items += weight.applyAsInt(item);
            stats.latencyMicros.recordValue((end - start) / 1_000);
          } else {
            stats.error(failure);
            abort.set(true);
          }
        }
      }.start();
    }

    /**
     * Sends requests with {@code clients} in flight until {@code endNanos}; records only requests
     * sent and answered inside [windowStartNanos, endNanos]. Stops every driver after {@code
     * maxErrors} failures here, rather than hammer a broken hub.
     */
    Future<PhaseStats> timed(
        int clients, long windowStartNanos, long endNanos, int maxErrors, Call call) {
      return new ClosedLoop(call, clients) {
        private int sent;

        @Override
        void next() {
          long start = System.nanoTime();
          if (start >= endNanos || abort.get()) {
            stop();
          } else {
            send(sent++, start);
          }
        }

        @Override
        void answered(int n, long start, long end, String failure) {
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
        }
      }.start();
    }

    /**
     * Open loop: sends the calls of {@code schedule} as they fall due until {@code endNanos},
     * whether or not earlier ones were answered, looking every millisecond (a timer's granularity:
     * the wait until the next look counts in the latency). Records the calls intended to start
     * inside [windowStartNanos, endNanos), each with its latency from its intended start; {@code
     * items} counts those due in the window, answered or not. A call due while {@code
     * maxOutstanding} are unanswered is not sent and counts as an error, so that an overloaded hub
     * cannot grow the queue without bound. Stops every driver after {@code maxErrors} failures
     * here.
     */
    Future<PhaseStats> paced(
        OpenLoopSchedule schedule,
        long windowStartNanos,
        long endNanos,
        int maxOutstanding,
        int maxErrors,
        Call call) {
      Paced paced =
          new Paced(schedule, windowStartNanos, endNanos, maxOutstanding, maxErrors, call);
      context.runOnContext(v -> paced.start());
      return paced.done.future();
    }

    /** The state of {@link #paced}, touched only from this driver's event loop. */
    private final class Paced {
      final PhaseStats stats = new PhaseStats();
      final Promise<PhaseStats> done = Promise.promise();
      private final OpenLoopSchedule schedule;
      private final long windowStartNanos;
      private final long total;
      private final int maxOutstanding;
      private final int maxErrors;
      private final Call call;
      private long next;
      private int outstanding;
      private boolean sending = true;
      private long timer = -1;

      Paced(
          OpenLoopSchedule schedule,
          long windowStartNanos,
          long endNanos,
          int maxOutstanding,
          int maxErrors,
          Call call) {
        this.schedule = schedule;
        this.windowStartNanos = windowStartNanos;
        this.total = schedule.callsBefore(endNanos);
        this.maxOutstanding = maxOutstanding;
        this.maxErrors = maxErrors;
        this.call = call;
      }

      void start() {
        timer = vertx.setPeriodic(1, id -> tick());
        tick();
      }

      private void tick() {
        long due = Math.min(schedule.dueBy(System.nanoTime()), total);
        while (next < due && !abort.get()) {
          long k = next++;
          long intended = schedule.intendedStart(k);
          boolean inWindow = intended >= windowStartNanos;
          if (inWindow) {
            stats.items++;
          }
          if (outstanding >= maxOutstanding) {
            failed("not sent: " + maxOutstanding + " calls were outstanding");
            continue;
          }
          outstanding++;
          call.send((int) k)
              .onComplete(
                  ar -> {
                    long end = System.nanoTime();
                    outstanding--;
                    String failure = ar.failed() ? describe(ar.cause()) : ar.result();
                    if (failure != null) {
                      failed(failure);
                    } else if (inWindow) {
                      stats.requests++;
                      stats.latencyMicros.recordValue((end - intended) / 1_000);
                      stats.lastCompletionNanos = end;
                    }
                    finishIfDone();
                  });
        }
        if (sending && (next >= total || abort.get())) {
          sending = false;
          vertx.cancelTimer(timer);
          finishIfDone();
        }
      }

      private void failed(String failure) {
        stats.error(failure);
        if (stats.errors >= maxErrors) {
          abort.set(true);
        }
      }

      private void finishIfDone() {
        if (!sending && outstanding == 0) {
          done.tryComplete(stats);
        }
      }
    }

    /**
     * Keeps {@code clients} requests in flight on this driver's event loop until {@link #next}
     * finds no more to send. Its state is touched only from that event loop once started.
     */
    private abstract class ClosedLoop {
      final PhaseStats stats = new PhaseStats();
      private final Call call;
      private final Promise<PhaseStats> done = Promise.promise();
      private int active;

      ClosedLoop(Call call, int clients) {
        this.call = call;
        this.active = clients;
      }

      /** Starts the clients; completes with the figures when the last one has stopped. */
      final Future<PhaseStats> start() {
        context.runOnContext(
            v -> {
              for (int i = 0, n = active; i < n; i++) {
                next();
              }
            });
        return done.future();
      }

      /** Either {@link #send}s the next request or {@link #stop}s one client. */
      abstract void next();

      /** Records request {@code n}, sent at {@code start}; {@code failure} is null on success. */
      abstract void answered(int n, long start, long end, String failure);

      final void send(int n, long start) {
        call.send(n)
            .onComplete(
                ar -> {
                  long end = System.nanoTime();
                  answered(n, start, end, ar.failed() ? describe(ar.cause()) : ar.result());
                  next();
                });
      }

      final void stop() {
        if (--active == 0) {
          done.complete(stats);
        }
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
      return BenchSupport.share(total, eventLoops, i);
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
     * Runs {@link Driver#timed} with {@code clients} spread over the drivers for {@code seconds}
     * measured after {@code warmupSeconds} from now; CPU use covers the measured window.
     */
    PhaseResult timed(
        int clients,
        int warmupSeconds,
        int seconds,
        int maxErrorsPerLoop,
        Function<Driver, Call> calls)
        throws TimeoutException {
      long windowStartNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmupSeconds);
      long endNanos = windowStartNanos + TimeUnit.SECONDS.toNanos(seconds);
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

    /**
     * Runs {@link Driver#paced} at {@code perSecond} calls in all, split evenly over the drivers
     * and interleaved, for {@code seconds} measured after {@code warmupSeconds}; CPU use covers the
     * measured window.
     */
    PhaseResult paced(
        double perSecond,
        int warmupSeconds,
        int seconds,
        int maxOutstandingPerLoop,
        int maxErrorsPerLoop,
        Function<Driver, Call> calls)
        throws TimeoutException {
      // A moment for every driver to get its start before the first call is due.
      long startNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
      long windowStartNanos = startNanos + TimeUnit.SECONDS.toNanos(warmupSeconds);
      long endNanos = windowStartNanos + TimeUnit.SECONDS.toNanos(seconds);
      double gapNanos = 1e9 / perSecond;
      List<Future<PhaseStats>> parts = new ArrayList<>();
      for (Driver d : drivers) {
        OpenLoopSchedule schedule =
            new OpenLoopSchedule(
                startNanos + (long) (d.index() * gapNanos), perSecond / drivers.size());
        parts.add(
            d.paced(
                schedule,
                windowStartNanos,
                endNanos,
                maxOutstandingPerLoop,
                maxErrorsPerLoop,
                calls.apply(d)));
      }
      sleepUntil(windowStartNanos);
      CpuSample cpu = CpuSample.now();
      sleepUntil(endNanos);
      ClientCpu used = cpu.until(CpuSample.now(), eventLoops);
      return new PhaseResult(merge(parts), used);
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
   * Bulk-creates the devices of {@code options} through {@code POST /devices}, {@code batch} per
   * request with {@code createClients} requests in flight, with empty keys so that the hub
   * generates them. Prints the figures and records them as {@code create.*}.
   */
  static PhaseStats createDevices(
      Clients clients,
      String token,
      BenchOptions options,
      PrintStream out,
      Map<String, String> results)
      throws TimeoutException {
    String prefix = options.prefix();
    int devices = options.devices();
    int batch = options.batch();
    int batches = (devices + batch - 1) / batch;
    long start = System.nanoTime();
    PhaseResult r =
        clients.drain(
            options.createClients(),
            batches,
            b -> Math.min(batch, devices - b * batch),
            d -> {
              MultiMap headers =
                  MultiMap.caseInsensitiveMultiMap()
                      .add(HttpHeaders.AUTHORIZATION, token)
                      .add(HttpHeaders.CONTENT_TYPE, JSON_UTF8);
              return b -> {
                int first = b * batch;
                return outcome(
                    d.request(HttpMethod.POST, DEVICES_URI)
                        .putHeaders(headers)
                        .sendBuffer(
                            bulkCreateBody(options, first, Math.min(batch, devices - first))),
                    BenchSupport::checkBulkResponse,
                    "POST /devices [" + deviceId(prefix, first) + "..]");
              };
            });
    PhaseStats total = r.stats();
    double seconds = total.secondsSince(start);
    double perSecond = perSecond(total.items, seconds);
    out.printf(
        Locale.ROOT,
        "create    : %d of %d devices in %d requests (batch %d, %d clients) in %.2f s%n",
        total.items,
        devices,
        total.requests,
        batch,
        options.createClients(),
        seconds);
    printFigures(out, r, perSecond, "devices/s", "per request ", P50_P99);
    results.put("create.devices", Long.toString(total.items));
    results.put("create.seconds", fmt(seconds));
    results.put("create.devicesPerSecond", fmt(perSecond));
    putPercentiles(results, "create.requestP", total.latencyMicros, P50_P99);
    putErrorsAndCpu(results, "create", r);
    return total;
  }

  private static Buffer bulkCreateBody(BenchOptions options, int first, int count) {
    StringBuilder sb = new StringBuilder(count * 220).append('[');
    for (int i = 0; i < count; i++) {
      String key = options.primaryKey(first + i);
      sb.append(i == 0 ? "{\"id\":\"" : ",{\"id\":\"")
          .append(options.deviceId(first + i))
          .append("\",\"importMode\":\"create\",\"status\":\"enabled\",")
          .append("\"authentication\":{\"type\":\"sas\",")
          .append("\"symmetricKey\":{\"primaryKey\":\"")
          .append(key)
          .append("\",\"secondaryKey\":\"\"}}}");
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

  /**
   * What a {@link Call} completes with for a request whose response {@code check} judges: null when
   * it is right, else {@code what} and the fault, also when the request itself failed.
   */
  static Future<String> outcome(
      Future<HttpResponse<Buffer>> response,
      Function<HttpResponse<Buffer>, String> check,
      String what) {
    return response
        .map(check)
        .otherwise(BenchSupport::describe)
        .map(f -> f == null ? null : what + ": " + f);
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

  /**
   * Prints the second line of a phase's figures: the rate in {@code unit}, then after {@code
   * latency} the {@code percentiles} and the maximum of the request latencies, and the errors; then
   * the client CPU use and the error samples.
   */
  static void printFigures(
      PrintStream out,
      PhaseResult r,
      double perSecond,
      String unit,
      String latency,
      double... percentiles) {
    Histogram h = r.stats().latencyMicros;
    StringBuilder line =
        new StringBuilder(
            String.format(Locale.ROOT, "            %.0f %s; %s", perSecond, unit, latency));
    for (double p : percentiles) {
      line.append(String.format(Locale.ROOT, "p%s %.2f ms, ", percentileName(p), ms(h, p)));
    }
    line.append(
        String.format(
            Locale.ROOT, "max %.2f ms; errors %d", h.getMaxValue() / 1e3, r.stats().errors));
    out.println(line);
    printClientCpu(out, r.cpu());
    printErrors(out, r.stats());
  }

  /**
   * Prints and records the figures of a phase run by {@link Clients#timed}: "{@code phase} : {@code
   * load}, S s measured after W s warm-up, N {@code noun}", the rate in {@code unit} and the
   * latencies. Records {@code <phase>.<noun>}, {@code .perSecond} and {@code .p50Ms} to {@code
   * .p999Ms}; the caller follows with figures of its own, then {@link #putErrorsAndCpu}.
   */
  static PhaseStats reportTimed(
      PrintStream out,
      Map<String, String> results,
      PhaseResult r,
      String phase,
      String load,
      int seconds,
      int warmupSeconds,
      String noun,
      String unit) {
    PhaseStats total = r.stats();
    double perSecond = perSecond(total.requests, seconds);
    out.printf(
        Locale.ROOT,
        "%-10s: %s, %d s measured after %d s warm-up, %d %s%n",
        phase,
        load,
        seconds,
        warmupSeconds,
        total.requests,
        noun);
    printFigures(out, r, perSecond, unit, "", P50_TO_P999);
    results.put(phase + "." + noun, Long.toString(total.requests));
    results.put(phase + ".perSecond", fmt(perSecond));
    putPercentiles(results, phase + ".p", total.latencyMicros, P50_TO_P999);
    return total;
  }

  /** Records each percentile of {@code h} as {@code <key><percentile>Ms}, 99.9 as 999. */
  static void putPercentiles(
      Map<String, String> results, String key, Histogram h, double... percentiles) {
    for (double p : percentiles) {
      results.put(key + percentileName(p).replace(".", "") + "Ms", fmt(ms(h, p)));
    }
  }

  /** Records {@code <phase>.errors} and the client CPU use during the phase. */
  static void putErrorsAndCpu(Map<String, String> results, String phase, PhaseResult r) {
    results.put(phase + ".errors", Long.toString(r.stats().errors));
    results.put(phase + ".clientCores", fmt(r.cpu().cores()));
    results.put(phase + ".clientLoopBusy", fmt(r.cpu().loopBusy()));
  }

  /** 50 as "50", 99.9 as "99.9". */
  private static String percentileName(double p) {
    return p == Math.rint(p) ? Long.toString((long) p) : Double.toString(p);
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

  /** The rate of {@code count} over {@code seconds}, which may be 0. */
  static double perSecond(long count, double seconds) {
    return count / Math.max(seconds, 1e-9);
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
