package io.herd.simulator.bench;

import static io.herd.simulator.bench.BenchSupport.API_VERSION;
import static io.herd.simulator.bench.BenchSupport.fmt;
import static io.herd.simulator.bench.BenchSupport.ms;

import io.herd.simulator.bench.BenchSupport.Clients;
import io.herd.simulator.bench.BenchSupport.HubInfo;
import io.herd.simulator.bench.BenchSupport.PhaseResult;
import io.herd.simulator.bench.BenchSupport.PhaseStats;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.HdrHistogram.Histogram;

/**
 * Registry benchmark: creates devices through bulk {@code POST /devices}, then reads them back by
 * id through {@code GET /devices/{id}} under concurrency.
 *
 * <p>The load is closed-loop (see {@link BenchSupport}): concurrency equals the client count.
 *
 * <p>Exit status: 0 when every request returned 200, 1 on any failed or non-200 request, a missed
 * deadline or bad arguments. Only loopback hosts are accepted.
 */
public final class RegistryBench {

  // GETs stop early after this many errors per event loop, rather than hammer a broken hub.
  private static final int MAX_GET_ERRORS = 100;

  private RegistryBench() {}

  public static void main(String[] args) {
    BenchSupport.useJulLogging();
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
      BenchSupport.requireLoopback(options.host());
    } catch (IllegalArgumentException e) {
      System.err.println("registry-bench: " + e.getMessage());
      return 1;
    } catch (IOException e) {
      System.err.println("registry-bench: cannot read --hub-json: " + BenchSupport.describe(e));
      return 1;
    }
    return new Runner(options, hub, out).run();
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
      Map<String, String> values = BenchSupport.parseArgs(args, Set.of());
      if (values == null) {
        return null;
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
              BenchSupport.intArg(values, "devices", 100_000, 1, 10_000_000),
              BenchSupport.intArg(values, "batch", 100, 1, 100),
              BenchSupport.intArg(values, "create-clients", 8, 1, 1_000),
              BenchSupport.intArg(values, "get-clients", 64, 1, 5_000),
              BenchSupport.intArg(values, "get-seconds", 20, 1, 3_600),
              BenchSupport.intArg(values, "warmup-seconds", 3, 0, 600),
              values.getOrDefault("prefix", "bench-" + random),
              values.getOrDefault("host", "127.0.0.1"),
              // The hub runs on the same machine: leave it most of the cores. On 2 cores one
              // client loop measured faster GETs than two (less contention with the hub).
              BenchSupport.intArg(values, "event-loops", Math.max(1, cores / 4), 1, 64),
              BenchSupport.intArg(values, "timeout-seconds", 600, 1, 86_400),
              values.containsKey("result-file") ? Path.of(values.get("result-file")) : null);
      values.remove("prefix");
      values.remove("host");
      values.remove("result-file");
      if (!values.isEmpty()) {
        throw new IllegalArgumentException("unknown option(s): " + values.keySet());
      }
      if (!BenchSupport.PREFIX.matcher(o.prefix).matches()) {
        throw new IllegalArgumentException(
            "--prefix must match " + BenchSupport.PREFIX + ": " + o.prefix);
      }
      if (o.warmupSeconds + o.getSeconds >= o.timeoutSeconds) {
        throw new IllegalArgumentException("--timeout-seconds must exceed warm-up + GET seconds");
      }
      return o;
    }

    String deviceId(int n) {
      return BenchSupport.deviceId(prefix, n);
    }
  }

  /** Sequences the phases and reports. */
  private static final class Runner {
    private final Options options;
    private final HubInfo hub;
    private final PrintStream out;
    private final long deadlineNanos;

    Runner(Options options, HubInfo hub, PrintStream out) {
      this.options = options;
      this.hub = hub;
      this.out = out;
      this.deadlineNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.timeoutSeconds());
    }

    int run() {
      // Valid for the whole bounded run, so one token serves every request.
      long expiry = System.currentTimeMillis() / 1000 + options.timeoutSeconds() + 3600;
      String token = hub.sasToken(expiry);
      int maxClients = Math.max(options.createClients(), options.getClients());
      try (Clients clients =
          new Clients(
              "registry-bench",
              hub,
              options.host(),
              "herd-registry-bench",
              options.eventLoops(),
              maxClients,
              deadlineNanos)) {
        printHeader(clients.openSsl());
        Map<String, String> results = new LinkedHashMap<>();
        PhaseStats create =
            BenchSupport.createDevices(
                clients,
                token,
                options.prefix(),
                options.devices(),
                options.batch(),
                options.createClients(),
                out,
                results);
        PhaseStats get = create.errors == 0 ? getPhase(clients, token, results) : null;
        boolean ok = create.errors == 0 && get != null && get.errors == 0;
        results.put("status", ok ? "ok" : "failed");
        out.println(ok ? "result    : OK" : "result    : FAILED (see errors above)");
        if (!ok) {
          System.err.println("registry-bench: FAILED, a request failed or did not answer 200");
        }
        BenchSupport.writeResults(options.resultFile(), results);
        return ok ? 0 : 1;
      } catch (TimeoutException e) {
        System.err.println(
            "registry-bench: FAILED, run exceeded --timeout-seconds " + options.timeoutSeconds());
      } catch (RuntimeException | IOException e) {
        System.err.println("registry-bench: FAILED, " + BenchSupport.describe(e));
      }
      return 1;
    }

    private PhaseStats getPhase(Clients clients, String token, Map<String, String> results)
        throws TimeoutException {
      long start = System.nanoTime();
      long windowStart = start + TimeUnit.SECONDS.toNanos(options.warmupSeconds());
      long end = windowStart + TimeUnit.SECONDS.toNanos(options.getSeconds());
      PhaseResult r =
          clients.timed(
              options.getClients(),
              windowStart,
              end,
              MAX_GET_ERRORS,
              d -> {
                MultiMap headers =
                    MultiMap.caseInsensitiveMultiMap().add(HttpHeaders.AUTHORIZATION, token);
                return n -> {
                  String id =
                      options.deviceId(ThreadLocalRandom.current().nextInt(options.devices()));
                  return d.request(HttpMethod.GET, "/devices/" + id + "?api-version=" + API_VERSION)
                      .putHeaders(headers)
                      .send()
                      .map(resp -> BenchSupport.checkOkWithId(resp, id))
                      .otherwise(BenchSupport::describe)
                      .map(f -> f == null ? null : "GET /devices/" + id + ": " + f);
                };
              });
      PhaseStats total = r.stats();
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
      BenchSupport.printClientCpu(out, r.cpu());
      BenchSupport.printErrors(out, total);
      results.put("get.requests", Long.toString(total.requests));
      results.put("get.perSecond", fmt(perSecond));
      results.put("get.p50Ms", fmt(ms(h, 50)));
      results.put("get.p90Ms", fmt(ms(h, 90)));
      results.put("get.p99Ms", fmt(ms(h, 99)));
      results.put("get.p999Ms", fmt(ms(h, 99.9)));
      results.put("get.errors", Long.toString(total.errors));
      results.put("get.clientCores", fmt(r.cpu().cores()));
      results.put("get.clientLoopBusy", fmt(r.cpu().loopBusy()));
      return total;
    }

    private void printHeader(boolean openSsl) {
      out.println("== Herd registry benchmark ==");
      out.println("machine   : " + BenchSupport.machine());
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
  }
}
