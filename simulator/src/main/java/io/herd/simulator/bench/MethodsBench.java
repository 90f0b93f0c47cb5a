package io.herd.simulator.bench;

import static io.herd.simulator.bench.BenchSupport.API_VERSION;
import static io.herd.simulator.bench.BenchSupport.JSON_UTF8;
import static io.herd.simulator.bench.BenchSupport.fmt;

import io.herd.simulator.bench.BenchSupport.BenchOptions;
import io.herd.simulator.bench.BenchSupport.Call;
import io.herd.simulator.bench.BenchSupport.Clients;
import io.herd.simulator.bench.BenchSupport.Driver;
import io.herd.simulator.bench.BenchSupport.PhaseResult;
import io.herd.simulator.bench.BenchSupport.PhaseStats;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Direct-method benchmark over the service REST API (wire §5.5): {@code POST /twins/{id}/methods}
 * on random devices whose MQTT side ({@code MqttBench --mode methods}) answers each call with
 * status 200 and the call's payload. Each call carries a random number in its payload; a call
 * counts as done only when the hub answers 200 with {@code {"status":200, "payload":{"n":<that
 * number>}}}, anything else is an error, counted by kind. Two phases in one process, so that the
 * second runs on a warm JIT:
 *
 * <ul>
 *   <li>closed loop: {@code --concurrency} calls in flight for {@code --seconds} after {@code
 *       --warmup-seconds}; calls/s and latencies (see {@link BenchSupport});
 *   <li>open loop: calls started at a fixed {@code --rate} by their intended start time, whether or
 *       not earlier ones were answered, for {@code --open-seconds} after {@code
 *       --open-warmup-seconds}; latencies from the intended start (see {@link OpenLoopSchedule}).
 * </ul>
 *
 * <p>With {@code --phase c2d} it runs one closed loop of cloud-to-device sends instead ({@code POST
 * /devices/{id}/messages/deviceBound}, a 201 meaning committed), one send in flight per device
 * ({@link C2dDevices}), for {@code MqttBench --mode c2d} on the device side.
 *
 * <p>The devices must exist and be connected and subscribed: this class creates none. Exit status:
 * 0 when every call was answered correctly, 1 otherwise, on a missed deadline or bad arguments.
 * Only loopback hosts are accepted.
 */
public final class MethodsBench {

  static final String NAME = "methods-bench";
  static final String METHOD_NAME = "bench";
  // A phase stops early after this many errors per event loop, rather than hammer a broken hub.
  private static final int MAX_ERRORS = 1_000;

  private MethodsBench() {}

  public static void main(String[] args) {
    BenchSupport.main(
        NAME, args, Options.USAGE, Options::parse, (o, hub, out) -> new Runner(o, out).run(hub));
  }

  /** Command-line options, validated. */
  record Options(
      Phase phase,
      Path windowFile,
      Path hubJson,
      String prefix,
      int devices,
      int concurrency,
      int seconds,
      int warmupSeconds,
      int rate,
      int openSeconds,
      int openWarmupSeconds,
      int maxOutstanding,
      int responseTimeoutSeconds,
      Map<String, List<Long>> watch,
      String host,
      int eventLoops,
      int timeoutSeconds,
      Path resultFile)
      implements BenchOptions {

    static final String USAGE =
        """
        usage: MethodsBench --hub-json PATH --prefix P [options]
          --phase P                 methods (default): the closed and open loops of direct
                                    methods; c2d: a closed loop of cloud-to-device sends,
                                    POST /devices/{id}/messages/deviceBound, to the devices
                                    round robin, one message in flight per device (message
                                    id n is message n / N of device n % N)
          --window-file PATH        c2d: written before the warm-up with the measured window
                                    in epoch microseconds, for the device process
          --prefix P                ids of the (existing, connected) devices are P-0 .. P-(N-1)
          --devices N               devices called at random (default 1000)
          --concurrency N           closed loop: calls in flight (default 128)
          --seconds N               closed loop: measured window (default 20)
          --warmup-seconds N        closed loop: calls before the window, not counted (default 10)
          --rate N                  open loop: calls started per second (default 5000)
          --open-seconds N          open loop: measured window (default: --seconds)
          --open-warmup-seconds N   open loop: paced calls before the window, not counted
                                    (default 3)
          --max-outstanding N       open loop: unanswered calls per event loop beyond which a due
                                    call is not sent but counted as an error (default 10000)
          --response-timeout-seconds N  responseTimeoutInSeconds of each call, 5..300 (default 30)
          --watch NAME=PID,...      processes whose CPU use over each measured window is
                                    reported from /proc, e.g. hub=123,devices=456; this driver
                                    is always watched as 'driver'
          --host H                  loopback address to connect to (default 127.0.0.1)
          --event-loops N           client event loops (default max(1, cores / 4))
          --timeout-seconds N       hard limit for the whole run (default 600)
          --result-file PATH        also write the figures as key=value lines""";

    /** Returns null when help was requested. */
    static Options parse(String[] args) {
      Map<String, String> values = BenchSupport.parseArgs(args, Set.of());
      if (values == null) {
        return null;
      }
      String hubJson = values.remove("hub-json");
      String prefix = values.remove("prefix");
      if (hubJson == null || prefix == null) {
        throw new IllegalArgumentException("--hub-json and --prefix are required\n" + USAGE);
      }
      int cores = Runtime.getRuntime().availableProcessors();
      int seconds = BenchSupport.intArg(values, "seconds", 20, 1, 3_600);
      String phase = BenchSupport.stringArg(values, "phase", "methods");
      if (!phase.equals("methods") && !phase.equals("c2d")) {
        throw new IllegalArgumentException("--phase must be methods or c2d: " + phase);
      }
      Options o =
          new Options(
              phase.equals("c2d") ? Phase.C2D : Phase.METHODS,
              BenchSupport.pathArg(values, "window-file"),
              Path.of(hubJson),
              prefix,
              BenchSupport.intArg(values, "devices", 1_000, 1, 10_000_000),
              BenchSupport.intArg(values, "concurrency", 128, 1, 5_000),
              seconds,
              BenchSupport.intArg(values, "warmup-seconds", 10, 0, 600),
              BenchSupport.intArg(values, "rate", 5_000, 1, 1_000_000),
              BenchSupport.intArg(values, "open-seconds", seconds, 1, 3_600),
              BenchSupport.intArg(values, "open-warmup-seconds", 3, 0, 600),
              BenchSupport.intArg(values, "max-outstanding", 10_000, 1, 1_000_000),
              BenchSupport.intArg(values, "response-timeout-seconds", 30, 5, 300),
              watch(BenchSupport.stringArg(values, "watch", "")),
              BenchSupport.stringArg(values, "host", "127.0.0.1"),
              // The hub and the devices run on the same machine: leave them most of the cores.
              BenchSupport.intArg(values, "event-loops", Math.max(1, cores / 4), 1, 64),
              BenchSupport.intArg(values, "timeout-seconds", 600, 1, 86_400),
              BenchSupport.pathArg(values, "result-file"));
      BenchSupport.requireValid(values, prefix);
      if (o.phase == Phase.C2D && o.concurrency >= o.devices) {
        throw new IllegalArgumentException(
            "--phase c2d sends to each device one message at a time: --concurrency must be"
                + " below --devices");
      }
      int busy =
          o.warmupSeconds
              + seconds
              + (o.phase == Phase.C2D ? 0 : o.openWarmupSeconds + o.openSeconds);
      if (busy + o.responseTimeoutSeconds >= o.timeoutSeconds) {
        throw new IllegalArgumentException(
            "--timeout-seconds must exceed both phases plus --response-timeout-seconds");
      }
      return o;
    }

    private static Map<String, List<Long>> watch(String spec) {
      Map<String, List<Long>> pids = CpuSplit.parsePids(spec);
      pids.put("driver", List.of(ProcessHandle.current().pid()));
      return pids;
    }

    @Override
    public int batch() {
      return 1;
    }

    @Override
    public int createClients() {
      return 1;
    }

    @Override
    public boolean create() {
      return false;
    }
  }

  /** What the driver sends. */
  enum Phase {
    METHODS,
    C2D
  }

  static String cloudToDeviceUri(String deviceId) {
    return "/devices/" + deviceId + "/messages/deviceBound?api-version=" + API_VERSION;
  }

  /**
   * The body of cloud-to-device message {@code n}: its message id is {@code n}, its property {@code
   * t} the sender's clock in epoch microseconds, which the device reads from the delivery topic's
   * property bag.
   */
  static String cloudToDeviceBody(long n, long epochMicros) {
    return "{\"data\":\"bench "
        + n
        + "\",\"properties\":{\"t\":\""
        + epochMicros
        + "\"},\"messageId\":\""
        + n
        + "\",\"ack\":\"none\"}";
  }

  /** What is wrong with the answer to send {@code n}; null when it is 201 naming message n. */
  static String checkEnqueued(int httpStatus, String body, long n) {
    if (httpStatus != 201) {
      return "HTTP " + httpStatus + ": " + snippet(body);
    }
    try {
      JsonObject json = new JsonObject(body);
      return Long.toString(n).equals(json.getString("messageId"))
          ? null
          : "wrong messageId: sent " + n + ", got " + snippet(body);
    } catch (RuntimeException e) {
      return "unreadable body: " + snippet(body);
    }
  }

  /**
   * The c2d sender's devices: round robin, skipping a device whose previous send is unanswered, so
   * that each device's messages are enqueued one after the other and must arrive in that order.
   * Message number {@code n} is message {@code n / devices} of device {@code n % devices}. Safe for
   * several event loops.
   */
  static final class C2dDevices {
    private final int devices;
    private final AtomicLong cursor = new AtomicLong();
    private final AtomicIntegerArray busy;
    private final AtomicLongArray next;

    C2dDevices(int devices) {
      this.devices = devices;
      this.busy = new AtomicIntegerArray(devices);
      this.next = new AtomicLongArray(devices);
    }

    /**
     * Marks the next idle device busy and returns the number of its next message; spins while all
     * are busy, which the sender prevents by keeping fewer sends in flight than devices.
     */
    long acquire() {
      while (true) {
        int device = (int) (cursor.getAndIncrement() % devices);
        if (busy.compareAndSet(device, 0, 1)) {
          return next.getAndIncrement(device) * devices + device;
        }
      }
    }

    /** The send to {@code device} was answered. */
    void release(int device) {
      busy.set(device, 0);
    }
  }

  static String methodsUri(String deviceId) {
    return "/twins/" + deviceId + "/methods?api-version=" + API_VERSION;
  }

  /** The request body of a call whose payload carries {@code n}. */
  static String requestBody(long n, int responseTimeoutSeconds) {
    return "{\"methodName\":\""
        + METHOD_NAME
        + "\",\"payload\":{\"n\":"
        + n
        + "},\"responseTimeoutInSeconds\":"
        + responseTimeoutSeconds
        + ",\"connectTimeoutInSeconds\":0}";
  }

  /**
   * What is wrong with the answer to a call that sent {@code n}, as {@code kind: detail} where kind
   * groups errors for counting; null when it is HTTP 200 with {@code {"status":200,
   * "payload":{"n":n}}}.
   */
  static String checkAnswer(int httpStatus, String body, long n) {
    if (httpStatus != 200) {
      return "HTTP " + httpStatus + ": " + snippet(body);
    }
    JsonObject json;
    try {
      json = body == null ? null : new JsonObject(body);
    } catch (RuntimeException e) {
      json = null;
    }
    if (json == null) {
      return "unreadable body: " + snippet(body);
    }
    Object status = json.getValue("status");
    if (!(status instanceof Number s) || s.intValue() != 200 || s.doubleValue() != 200) {
      return "device status " + status + ": " + snippet(body);
    }
    Object payload = json.getValue("payload");
    Object echoed = payload instanceof JsonObject p ? p.getValue("n") : null;
    if (!(echoed instanceof Number e) || e.longValue() != n) {
      return "wrong echo: sent " + n + ", got " + snippet(body);
    }
    return null;
  }

  /** The part of a failure before its first colon: what errors are counted by. */
  static String kind(String failure) {
    int colon = failure.indexOf(':');
    return colon < 0 ? failure : failure.substring(0, colon);
  }

  private static String snippet(String body) {
    if (body == null) {
      return "(no body)";
    }
    return body.length() > 200 ? body.substring(0, 200) + "..." : body;
  }

  /** Runs both phases and reports. */
  private static final class Runner {
    private final Options o;
    private final PrintStream out;
    private final Map<String, String> results = new LinkedHashMap<>();
    // Errors by kind, per phase; touched from every client event loop, on errors only.
    private final Map<String, LongAdder> errorKinds = new ConcurrentHashMap<>();
    // c2d: messages sent and answered 201 in all (warm-up included)
    private final LongAdder sent = new LongAdder();
    private final LongAdder enqueued = new LongAdder();
    private C2dDevices c2dDevices;

    Runner(Options o, PrintStream out) {
      this.o = o;
      this.out = out;
    }

    int run(BenchSupport.HubInfo hub) {
      results.put("devices", Integer.toString(o.devices()));
      results.put("concurrency", Integer.toString(o.concurrency()));
      results.put("rate", Integer.toString(o.rate()));
      return BenchSupport.runPhases(
          NAME,
          o.phase() == Phase.C2D
              ? "== Herd cloud-to-device benchmark (REST -> Postgres -> MQTT device) =="
              : "== Herd direct-method benchmark (REST -> hub -> MQTT device -> REST) ==",
          o,
          hub,
          out,
          o.concurrency(),
          results,
          "a call was not answered with status 200 and its echo",
          (clients, token) ->
              o.phase() == Phase.C2D ? c2dPhase(clients, token) : phases(clients, token));
    }

    /**
     * c2d: {@code --concurrency} sends in flight for {@code --seconds} after the warm-up; the
     * window goes to {@code --window-file} first, so that the device process counts deliveries in
     * the same window.
     */
    private boolean c2dPhase(Clients clients, String token) throws TimeoutException {
      out.printf(
          Locale.ROOT,
          "devices   : %s .. %s, round robin; POST /devices/{id}/messages/deviceBound%n",
          o.deviceId(0),
          o.deviceId(o.devices() - 1));
      c2dDevices = new C2dDevices(o.devices());
      long startNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.warmupSeconds());
      long startMicros = MqttBench.epochMicros() + TimeUnit.SECONDS.toMicros(o.warmupSeconds());
      if (o.windowFile() != null) {
        try {
          Path tmp = o.windowFile().resolveSibling(o.windowFile().getFileName() + ".tmp");
          Files.writeString(
              tmp,
              "windowStartEpochMicros="
                  + startMicros
                  + "\nwindowEndEpochMicros="
                  + (startMicros + TimeUnit.SECONDS.toMicros(o.seconds()))
                  + "\n");
          Files.move(tmp, o.windowFile(), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      Future<Map.Entry<String, Map<String, String>>> cpu =
          sampleCpu(startNanos, startNanos + TimeUnit.SECONDS.toNanos(o.seconds()), "c2d");
      PhaseResult r =
          clients.timed(
              o.concurrency(), o.warmupSeconds(), o.seconds(), MAX_ERRORS, d -> send(d, token));
      PhaseStats c =
          BenchSupport.reportTimed(
              out,
              results,
              r,
              "c2d",
              o.concurrency() + " sends in flight over " + o.devices() + " devices",
              o.seconds(),
              o.warmupSeconds(),
              "enqueued",
              "messages/s");
      BenchSupport.putErrorsAndCpu(results, "c2d", r);
      reportCpu(cpu);
      results.put("c2d.sent", Long.toString(sent.sum()));
      results.put("c2d.acked", Long.toString(enqueued.sum()));
      out.printf(
          Locale.ROOT,
          "  total   : %d messages sent, %d answered 201 (warm-up included)%n",
          sent.sum(),
          enqueued.sum());
      return reportKinds("c2d", c) && c.requests > 0;
    }

    /** One cloud-to-device send per call: the next message of the next idle device. */
    private Call send(Driver d, String token) {
      MultiMap headers =
          MultiMap.caseInsensitiveMultiMap()
              .add(HttpHeaders.AUTHORIZATION, token)
              .add(HttpHeaders.CONTENT_TYPE, JSON_UTF8);
      return k -> {
        long n = c2dDevices.acquire();
        int device = (int) (n % o.devices());
        String id = o.deviceId(device);
        sent.increment();
        return d.request(HttpMethod.POST, cloudToDeviceUri(id))
            .putHeaders(headers)
            .sendBuffer(Buffer.buffer(cloudToDeviceBody(n, MqttBench.epochMicros())))
            .map((HttpResponse<Buffer> r) -> checkEnqueued(r.statusCode(), r.bodyAsString(), n))
            .otherwise(BenchSupport::describe)
            .map(
                failure -> {
                  c2dDevices.release(device);
                  if (failure == null) {
                    enqueued.increment();
                    return null;
                  }
                  errorKinds.computeIfAbsent(kind(failure), x -> new LongAdder()).increment();
                  return "POST /devices/" + id + "/messages/deviceBound: " + failure;
                });
      };
    }

    private boolean phases(Clients clients, String token) throws TimeoutException {
      out.printf(
          Locale.ROOT,
          "devices   : %s .. %s, called at random; method '%s', responseTimeoutInSeconds %d%n",
          o.deviceId(0),
          o.deviceId(o.devices() - 1),
          METHOD_NAME,
          o.responseTimeoutSeconds());
      long closedStart = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.warmupSeconds());
      Future<Map.Entry<String, Map<String, String>>> closedCpu =
          sampleCpu(closedStart, closedStart + TimeUnit.SECONDS.toNanos(o.seconds()), "closed");
      PhaseResult closed =
          clients.timed(
              o.concurrency(), o.warmupSeconds(), o.seconds(), MAX_ERRORS, d -> call(d, token));
      PhaseStats c =
          BenchSupport.reportTimed(
              out,
              results,
              closed,
              "closed",
              o.concurrency() + " calls in flight over " + o.devices() + " devices",
              o.seconds(),
              o.warmupSeconds(),
              "calls",
              "calls/s");
      BenchSupport.putErrorsAndCpu(results, "closed", closed);
      reportCpu(closedCpu);
      boolean ok = reportKinds("closed", c) && c.requests > 0;
      if (!ok) {
        return false;
      }

      // Clients.paced starts its schedule 50 ms after it is called.
      long openStart =
          System.nanoTime()
              + TimeUnit.MILLISECONDS.toNanos(50)
              + TimeUnit.SECONDS.toNanos(o.openWarmupSeconds());
      Future<Map.Entry<String, Map<String, String>>> openCpu =
          sampleCpu(openStart, openStart + TimeUnit.SECONDS.toNanos(o.openSeconds()), "open");
      PhaseResult open =
          clients.paced(
              o.rate(),
              o.openWarmupSeconds(),
              o.openSeconds(),
              o.maxOutstanding(),
              MAX_ERRORS,
              d -> call(d, token));
      PhaseStats s = open.stats();
      double perSecond = BenchSupport.perSecond(s.requests, o.openSeconds());
      out.printf(
          Locale.ROOT,
          "%-10s: %d calls/s intended, %d s measured after %d s warm-up, %d of %d due calls"
              + " answered; latency from the intended start%n",
          "open",
          o.rate(),
          o.openSeconds(),
          o.openWarmupSeconds(),
          s.requests,
          s.items);
      BenchSupport.printFigures(out, open, perSecond, "calls/s", "", 50, 90, 99, 99.9);
      results.put("open.due", Long.toString(s.items));
      results.put("open.calls", Long.toString(s.requests));
      results.put("open.perSecond", fmt(perSecond));
      BenchSupport.putPercentiles(results, "open.p", s.latencyMicros, 50, 90, 99, 99.9);
      results.put("open.maxMs", fmt(s.latencyMicros.getMaxValue() / 1e3));
      BenchSupport.putErrorsAndCpu(results, "open", open);
      reportCpu(openCpu);
      return reportKinds("open", s) && s.requests == s.items;
    }

    /**
     * Reads the CPU counters of the watched processes and the machine at {@code startNanos} and
     * {@code endNanos} on a thread of its own; completes with the description and its figures.
     */
    private Future<Map.Entry<String, Map<String, String>>> sampleCpu(
        long startNanos, long endNanos, String key) {
      CpuSplit split = new CpuSplit(o.watch());
      int cores = Runtime.getRuntime().availableProcessors();
      Promise<Map.Entry<String, Map<String, String>>> p = Promise.promise();
      Thread t =
          new Thread(
              () -> {
                BenchSupport.sleepUntil(startNanos);
                CpuSplit.Reading a = split.read();
                BenchSupport.sleepUntil(endNanos);
                CpuSplit.Reading b = split.read();
                Map<String, String> figures = new LinkedHashMap<>();
                p.complete(Map.entry(CpuSplit.describe(a, b, cores, key, figures), figures));
              },
              "cpu-split-" + key);
      t.setDaemon(true);
      t.start();
      return p.future();
    }

    private void reportCpu(Future<Map.Entry<String, Map<String, String>>> cpu)
        throws TimeoutException {
      Map.Entry<String, Map<String, String>> split = cpu.await(5, TimeUnit.SECONDS);
      out.println("  cpu     : cores used in the window: " + split.getKey());
      results.putAll(split.getValue());
    }

    /**
     * Prints and records the errors of the phase by kind, then forgets them; true when none. Errors
     * that no call saw (a paced call not sent) are "other"; the error samples name them.
     */
    private boolean reportKinds(String phase, PhaseStats stats) {
      Map<String, Long> kinds = new TreeMap<>();
      errorKinds.forEach((k, v) -> kinds.put(k, v.sum()));
      errorKinds.clear();
      long other = stats.errors - kinds.values().stream().mapToLong(Long::longValue).sum();
      if (other > 0) {
        kinds.put("other (see the error samples)", other);
      }
      StringBuilder sb = new StringBuilder();
      kinds.forEach(
          (k, v) -> {
            out.printf(Locale.ROOT, "  errors  : %d x %s%n", v, k);
            sb.append(sb.length() == 0 ? "" : "; ").append(v).append(" x ").append(k);
          });
      results.put(phase + ".errorKinds", sb.toString());
      return kinds.isEmpty();
    }

    /** One call per {@code send}: a random device, a random number to be echoed. */
    private Call call(Driver d, String token) {
      MultiMap headers =
          MultiMap.caseInsensitiveMultiMap()
              .add(HttpHeaders.AUTHORIZATION, token)
              .add(HttpHeaders.CONTENT_TYPE, JSON_UTF8);
      return k -> {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        String id = o.deviceId(random.nextInt(o.devices()));
        long n = random.nextLong(1L << 52);
        return d.request(HttpMethod.POST, methodsUri(id))
            .putHeaders(headers)
            .sendBuffer(Buffer.buffer(requestBody(n, o.responseTimeoutSeconds())))
            .map((HttpResponse<Buffer> r) -> checkAnswer(r.statusCode(), r.bodyAsString(), n))
            .otherwise(BenchSupport::describe)
            .map(
                failure -> {
                  if (failure == null) {
                    return null;
                  }
                  errorKinds.computeIfAbsent(kind(failure), x -> new LongAdder()).increment();
                  return "POST /twins/" + id + "/methods: " + failure;
                });
      };
    }
  }
}
