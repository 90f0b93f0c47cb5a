package io.herd.simulator.bench;

import static io.herd.simulator.bench.BenchSupport.describe;
import static io.herd.simulator.bench.BenchSupport.fmt;
import static java.nio.charset.StandardCharsets.UTF_8;

import io.herd.core.SasSigner;
import io.herd.simulator.bench.BenchSupport.ClientCpu;
import io.herd.simulator.bench.BenchSupport.CpuSample;
import io.herd.simulator.bench.BenchSupport.HubInfo;
import io.herd.simulator.internal.AmqpDeviceMessages;
import io.herd.simulator.internal.AmqpWire;
import io.herd.simulator.internal.CbsClient;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.proton.ProtonClient;
import io.vertx.proton.ProtonClientOptions;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.ProtonSender;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import org.HdrHistogram.Histogram;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.message.Message;

/**
 * AMQP telemetry load generator for the IoT Hub device protocol (azure-iothub-wire.md §3): each
 * device opens its own TLS connection (vertx-proton's client, SASL ANONYMOUS), puts its SAS token
 * on {@code $cbs} as the Azure SDKs do, attaches a sender to {@code /devices/{id}/messages/events}
 * and keeps {@code --window} messages unsettled, each counted when the hub settles it accepted (the
 * QoS 1 equivalent of {@link MqttBench}'s telemetry mode). The devices must exist with keys derived
 * from {@code --key-seed} ({@code MqttBench --mode create}).
 *
 * <p>Figures cover a measured window after a warm-up: accepted messages per second and the latency
 * from send to the accepted disposition of the messages sent and settled inside it. Exit status 0
 * when every device connected and no message was refused, 1 otherwise or on a missed deadline.
 */
public final class AmqpBench {
  private static final String NAME = "amqp-bench";
  private static final int MAX_REASONS = 20;

  private AmqpBench() {}

  record Options(
      Path hubJson,
      String host,
      int port,
      String prefix,
      int devices,
      String keySeed,
      int window,
      int seconds,
      int warmupSeconds,
      int bodyBytes,
      int eventLoops,
      int connectConcurrency,
      int holdSeconds,
      int timeoutSeconds,
      String tlsGroups,
      Path resultFile) {}

  static final String USAGE =
      """
      usage: AmqpBench --hub-json F --prefix P --key-seed S [options]
        --devices N               devices prefix-0 .. prefix-(N-1), created beforehand (default 1000)
        --window N                unsettled messages per device (default 16)
        --seconds N               measured window (default 20)
        --warmup-seconds N        warm-up before it (default 5)
        --body-bytes N            JSON body size (default 160)
        --event-loops N           client event loops (default: cores)
        --connect-concurrency N   connections being set up at once (default 100)
        --hold-seconds N          hold the connections idle this long before the load, e.g. to
                                  measure the hub's memory per connection (default 0)
        --host H                  loopback address of the hub (default 127.0.0.1)
        --port N                  the hub's AMQP TLS port (default: ports.amqp of hub.json)
        --timeout-seconds N       hard limit of the run (default 600)
        --tls-groups G,H          key-exchange groups the client offers, in order (default
                                  x25519,secp256r1,secp384r1, as device TLS stacks do)
        --result-file F           key=value figures""";

  public static void main(String[] args) {
    BenchSupport.useJulLogging();
    System.exit(run(args, System.out));
  }

  static int run(String[] args, PrintStream out) {
    Options o;
    HubInfo hub;
    try {
      Map<String, String> v = BenchSupport.parseArgs(args, Set.of());
      if (v == null) {
        out.println(USAGE);
        return 0;
      }
      o = options(v);
      hub = HubInfo.read(o.hubJson());
    } catch (IllegalArgumentException e) {
      System.err.println(NAME + ": " + e.getMessage());
      return 1;
    } catch (IOException e) {
      System.err.println(NAME + ": cannot read --hub-json: " + describe(e));
      return 1;
    }
    BenchSupport.offerTlsGroups(o.tlsGroups());
    return new AmqpBench.Run(o, hub, out).run();
  }

  /**
   * The options of {@link #USAGE} from parsed arguments, which must hold no others: also read by
   * {@link LeanAmqpBench}, which takes the same load.
   */
  static Options options(Map<String, String> v) {
    Path hubJson = BenchSupport.pathArg(v, "hub-json");
    if (hubJson == null) {
      throw new IllegalArgumentException("--hub-json is required");
    }
    String keySeed = BenchSupport.stringArg(v, "key-seed", null);
    if (keySeed == null || keySeed.isEmpty()) {
      throw new IllegalArgumentException("--key-seed is required: the device keys derive from it");
    }
    String prefix = BenchSupport.stringArg(v, "prefix", null);
    if (prefix == null) {
      throw new IllegalArgumentException("--prefix is required");
    }
    int cores = Runtime.getRuntime().availableProcessors();
    Options o =
        new Options(
            hubJson,
            BenchSupport.stringArg(v, "host", "127.0.0.1"),
            BenchSupport.intArg(v, "port", amqpPort(hubJson), 1, 65535),
            prefix,
            BenchSupport.intArg(v, "devices", 1000, 1, 19_000),
            keySeed,
            BenchSupport.intArg(v, "window", 16, 1, 1000),
            BenchSupport.intArg(v, "seconds", 20, 1, 3600),
            BenchSupport.intArg(v, "warmup-seconds", 5, 0, 3600),
            BenchSupport.intArg(v, "body-bytes", 160, 16, 256 * 1024),
            BenchSupport.intArg(v, "event-loops", cores, 1, 64),
            BenchSupport.intArg(v, "connect-concurrency", 100, 1, 10_000),
            BenchSupport.intArg(v, "hold-seconds", 0, 0, 86_400),
            BenchSupport.intArg(v, "timeout-seconds", 600, 10, 86_400),
            BenchSupport.tlsGroupsArg(v),
            BenchSupport.pathArg(v, "result-file"));
    BenchSupport.requireValid(v, prefix);
    BenchSupport.requireLoopback(o.host());
    return o;
  }

  private static int amqpPort(Path hubJson) {
    try {
      return new JsonObject(Files.readString(hubJson)).getJsonObject("ports").getInteger("amqp");
    } catch (IOException | RuntimeException e) {
      return 5671;
    }
  }

  /**
   * Connects the devices {@code numbers} on {@code context}, at most {@code inFlight} at a time,
   * each by {@code connect}; a connected device goes to {@code connected} and is counted in {@code
   * figures}, a failure is recorded there. Completes with {@code figures} once every device is
   * done.
   */
  static <D> Future<Figures> connectEach(
      Context context,
      List<Integer> numbers,
      int inFlight,
      IntFunction<Future<D>> connect,
      Consumer<D> connected,
      Figures figures) {
    Promise<Figures> done = Promise.promise();
    context.runOnContext(
        v -> {
          int[] next = {0};
          int[] open = {0};
          Runnable[] pump = new Runnable[1];
          pump[0] =
              () -> {
                while (open[0] < inFlight && next[0] < numbers.size()) {
                  int n = numbers.get(next[0]++);
                  open[0]++;
                  connect
                      .apply(n)
                      .onComplete(
                          ar -> {
                            open[0]--;
                            if (ar.succeeded()) {
                              connected.accept(ar.result());
                              figures.connected++;
                            } else {
                              figures.fail("connect: " + describe(ar.cause()));
                            }
                            if (next[0] == numbers.size() && open[0] == 0) {
                              done.tryComplete(figures);
                            } else {
                              pump[0].run();
                            }
                          });
                }
              };
          if (numbers.isEmpty()) {
            done.complete(figures);
          } else {
            pump[0].run();
          }
        });
    return done.future();
  }

  /** Figures of one event loop, merged at the end. */
  static final class Figures {
    final Histogram latencyMicros = new Histogram(3);
    long ok;
    long failed;
    long connected;
    final Map<String, Integer> reasons = new TreeMap<>();

    void fail(String reason) {
      failed++;
      if (reasons.size() < MAX_REASONS || reasons.containsKey(reason)) {
        reasons.merge(reason, 1, Integer::sum);
      }
    }

    void add(Figures other) {
      latencyMicros.add(other.latencyMicros);
      ok += other.ok;
      failed += other.failed;
      connected += other.connected;
      other.reasons.forEach((k, v) -> reasons.merge(k, v, Integer::sum));
    }
  }

  private static final class Run {
    private final Options o;
    private final HubInfo hub;
    private final PrintStream out;
    private final long deadline;

    Run(Options o, HubInfo hub, PrintStream out) {
      this.o = o;
      this.hub = hub;
      this.out = out;
      this.deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.timeoutSeconds());
    }

    int run() {
      Vertx vertx = BenchSupport.socketClientVertx(o.eventLoops());
      try {
        List<Loop> loops = shares(o).stream().map(Loop::new).toList();
        for (Loop l : loops) {
          await(vertx.deployVerticle(l, new DeploymentOptions()), deadline, o.timeoutSeconds());
        }
        out.println("== Herd AMQP benchmark (telemetry, settled on accept) ==");
        out.println("machine   : " + BenchSupport.machine());
        out.printf(
            Locale.ROOT,
            "hub       : amqps://%s:%d (hostName %s), TLS %s (groups %s), SASL ANONYMOUS +"
                + " put-token on $cbs, client event loops %d (%s)%n",
            o.host(),
            o.port(),
            hub.hostName(),
            OpenSSLEngineOptions.isAvailable() ? "OpenSSL" : "JDK",
            o.tlsGroups(),
            o.eventLoops(),
            vertx.isNativeTransportEnabled() ? "epoll" : "NIO");

        return phases(o, loops, deadline, out);
      } catch (RuntimeException | IOException e) {
        System.err.println(NAME + ": FAILED, " + describe(e));
        return 1;
      } finally {
        vertx.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS);
      }
    }

    /** One event loop's devices; every method runs on its context. */
    private final class Loop extends VerticleBase implements DeviceLoop {
      private final List<Integer> numbers;
      private final List<Device> devices = new ArrayList<>();
      private ProtonClient client;
      private ProtonClientOptions options;
      private Figures figures = new Figures();

      Loop(List<Integer> numbers) {
        this.numbers = numbers;
      }

      @Override
      public Future<?> start() {
        client = ProtonClient.create(vertx);
        // --host is a loopback address, which the hub's certificate need not name.
        options =
            AmqpWire.clientOptions(vertx, hub.caFile(), true, 30_000)
                .setHostnameVerificationAlgorithm("");
        return Future.succeededFuture();
      }

      @Override
      public Future<Figures> connectAll(int inFlight) {
        figures = new Figures();
        return connectEach(context, numbers, inFlight, this::connect, devices::add, figures);
      }

      /** TLS, Open, put-token on $cbs, then the telemetry sender. */
      private Future<Device> connect(int n) {
        String id = BenchSupport.deviceId(o.prefix(), n);
        Promise<ProtonConnection> opened = Promise.promise();
        client.connect(
            options,
            o.host(),
            o.port(),
            ar -> {
              if (ar.failed()) {
                opened.fail(ar.cause());
                return;
              }
              ProtonConnection c = ar.result();
              c.setHostname(hub.hostName());
              c.openHandler(x -> opened.handle(x.map(c)));
              c.open();
            });
        return opened
            .future()
            .compose(
                c ->
                    putToken(c, id)
                        .compose(
                            x ->
                                AmqpWire.attach(
                                        c.createSender(AmqpDeviceMessages.eventsAddress(id)))
                                    .map(s -> new Device(c, s))));
      }

      private Future<Void> putToken(ProtonConnection c, String id) {
        long expiry = System.currentTimeMillis() / 1000 + o.timeoutSeconds() + 3600;
        String token =
            SasSigner.deviceToken(hub.hostName(), id, MqttBench.deviceKey(o.keySeed(), id), expiry);
        return CbsClient.open(vertx, c)
            .compose(
                cbs ->
                    cbs.putToken(
                        SasSigner.deviceResource(hub.hostName(), id),
                        token,
                        TimeUnit.SECONDS.toMillis(o.timeoutSeconds())));
      }

      /** Keeps {@code --window} messages unsettled on every device until {@code end}. */
      @Override
      public Future<Figures> load(long windowStart, long end) {
        Promise<Figures> done = Promise.promise();
        context.runOnContext(
            v -> {
              figures = new Figures();
              byte[] body = body(o.bodyBytes());
              int[] running = {devices.size() * o.window()};
              if (running[0] == 0) {
                done.complete(figures);
              }
              for (Device d : devices) {
                for (int i = 0; i < o.window(); i++) {
                  send(
                      d,
                      body,
                      windowStart,
                      end,
                      () -> {
                        if (--running[0] == 0) {
                          done.complete(figures);
                        }
                      });
                }
              }
            });
        return done.future();
      }

      private void send(Device d, byte[] body, long windowStart, long end, Runnable finished) {
        long sent = System.nanoTime();
        if (sent >= end) {
          finished.run();
          return;
        }
        Message m = Message.Factory.create();
        m.setBody(new Data(new Binary(body)));
        d.sender.send(
            m,
            delivery -> {
              long now = System.nanoTime();
              if (delivery.getRemoteState() instanceof Accepted) {
                if (now >= windowStart && now < end) {
                  figures.ok++;
                  if (sent >= windowStart) {
                    figures.latencyMicros.recordValue((now - sent) / 1_000);
                  }
                }
              } else {
                figures.fail("not accepted: " + delivery.getRemoteState());
              }
              send(d, body, windowStart, end, finished);
            });
      }

      @Override
      public Future<Figures> closeAll() {
        Promise<Figures> done = Promise.promise();
        context.runOnContext(
            v -> {
              for (Device d : devices) {
                d.connection.close();
                d.connection.disconnect();
              }
              devices.clear();
              done.complete(new Figures());
            });
        return done.future();
      }
    }
  }

  /** One event loop of an AMQP load generator: its devices' phases, each with its figures. */
  interface DeviceLoop {
    /** Connects and authenticates the loop's devices, at most {@code inFlight} at a time. */
    Future<Figures> connectAll(int inFlight);

    /** Keeps the window of messages in flight until {@code end}; counts inside the window. */
    Future<Figures> load(long windowStart, long end);

    Future<Figures> closeAll();
  }

  /** The device numbers of each event loop: round robin. */
  static List<List<Integer>> shares(Options o) {
    List<List<Integer>> shares = new ArrayList<>();
    for (int i = 0; i < o.eventLoops(); i++) {
      List<Integer> mine = new ArrayList<>();
      for (int n = i; n < o.devices(); n += o.eventLoops()) {
        mine.add(n);
      }
      shares.add(mine);
    }
    return shares;
  }

  /**
   * The phases of an AMQP load generator after its header: connect every device, hold, load and
   * report, close, write the result file. Returns the exit status.
   */
  static int phases(Options o, List<? extends DeviceLoop> loops, long deadline, PrintStream out)
      throws IOException {
    Map<String, String> results = new LinkedHashMap<>();
    long t0 = System.nanoTime();
    List<Future<Figures>> connecting = new ArrayList<>();
    for (int i = 0; i < loops.size(); i++) {
      connecting.add(
          loops
              .get(i)
              .connectAll(
                  Math.max(1, BenchSupport.share(o.connectConcurrency(), loops.size(), i))));
    }
    Figures connect = merge(connecting, deadline, o);
    double connectSeconds = Math.max((System.nanoTime() - t0) / 1e9, 1e-9);
    out.printf(
        Locale.ROOT,
        "connect   : %d of %d devices connected and authenticated in %.1f s (%.0f/s); errors"
            + " %d%n",
        connect.connected,
        o.devices(),
        connectSeconds,
        connect.connected / connectSeconds,
        connect.failed);
    printReasons(out, connect);
    results.put("connect.devices", Long.toString(connect.connected));
    results.put("connect.perSecond", fmt(connect.connected / connectSeconds));
    boolean ok = connect.connected == o.devices() && connect.failed == 0;
    if (ok && o.holdSeconds() > 0) {
      out.printf(Locale.ROOT, "hold      : %d s with every connection idle%n", o.holdSeconds());
      BenchSupport.sleepUntil(
          Math.min(deadline, System.nanoTime() + TimeUnit.SECONDS.toNanos(o.holdSeconds())));
    }
    if (ok) {
      long windowStart = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.warmupSeconds());
      long end = windowStart + TimeUnit.SECONDS.toNanos(o.seconds());
      List<Future<Figures>> parts = loops.stream().map(l -> l.load(windowStart, end)).toList();
      BenchSupport.sleepUntil(windowStart);
      CpuSample cpu = CpuSample.now();
      BenchSupport.sleepUntil(end);
      ClientCpu used = cpu.until(CpuSample.now(), o.eventLoops());
      ok = report(o, merge(parts, deadline, o), used, out, results);
    }
    merge(loops.stream().map(DeviceLoop::closeAll).toList(), deadline, o);
    results.put("status", ok ? "ok" : "failed");
    out.println(ok ? "result    : OK" : "result    : FAILED (see errors above)");
    BenchSupport.writeResults(o.resultFile(), results);
    return ok ? 0 : 1;
  }

  private static Figures merge(List<Future<Figures>> parts, long deadline, Options o) {
    Figures total = new Figures();
    for (Future<Figures> p : parts) {
      total.add(await(p, deadline, o.timeoutSeconds()));
    }
    return total;
  }

  /** The result of {@code f}, waiting no longer than {@code deadline} (of System.nanoTime()). */
  static <T> T await(Future<T> f, long deadline, int timeoutSeconds) {
    long left = deadline - System.nanoTime();
    try {
      return f.toCompletionStage()
          .toCompletableFuture()
          .get(Math.max(1, left), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("run exceeded --timeout-seconds " + timeoutSeconds);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(describe(e.getCause()), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }

  /**
   * Prints the figures of a measured window and puts them in {@code results}; true when messages
   * were accepted and none failed.
   */
  static boolean report(
      Options o, Figures f, ClientCpu used, PrintStream out, Map<String, String> results) {
    double perSecond = BenchSupport.perSecond(f.ok, o.seconds());
    Histogram h = f.latencyMicros;
    out.printf(
        Locale.ROOT,
        "telemetry : %d devices, window %d, %d s measured after %d s warm-up, %d accepted%n",
        o.devices(),
        o.window(),
        o.seconds(),
        o.warmupSeconds(),
        f.ok);
    out.printf(
        Locale.ROOT,
        "            %.0f messages/s; p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max"
            + " %.2f ms; errors %d%n",
        perSecond,
        BenchSupport.ms(h, 50),
        BenchSupport.ms(h, 90),
        BenchSupport.ms(h, 99),
        BenchSupport.ms(h, 99.9),
        h.getMaxValue() / 1e3,
        f.failed);
    BenchSupport.printClientCpu(out, used);
    printReasons(out, f);
    results.put("telemetry.messages", Long.toString(f.ok));
    results.put("telemetry.perSecond", fmt(perSecond));
    BenchSupport.putPercentiles(results, "telemetry.p", h, 50, 90, 99, 99.9);
    results.put("telemetry.maxMs", fmt(h.getMaxValue() / 1e3));
    results.put("telemetry.errors", Long.toString(f.failed));
    results.put("telemetry.window", Integer.toString(o.window()));
    results.put("telemetry.bodyBytes", Integer.toString(o.bodyBytes()));
    results.put("telemetry.clientCores", fmt(used.cores()));
    results.put("telemetry.clientLoopBusy", fmt(used.loopBusy()));
    return f.failed == 0 && f.ok > 0;
  }

  static void printReasons(PrintStream out, Figures f) {
    f.reasons.forEach((k, v) -> out.printf(Locale.ROOT, "  error   : %d x %s%n", v, k));
  }

  private record Device(ProtonConnection connection, ProtonSender sender) {}

  /** A JSON body of about {@code bytes}: {@code {"t":21.5,"pad":"xxx..."}}. */
  static byte[] body(int bytes) {
    String head = "{\"t\":21.5,\"pad\":\"";
    String tail = "\"}";
    int pad = Math.max(0, bytes - head.length() - tail.length());
    char[] x = new char[pad];
    Arrays.fill(x, 'x');
    return (head + new String(x) + tail).getBytes(UTF_8);
  }
}
