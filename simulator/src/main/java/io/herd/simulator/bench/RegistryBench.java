package io.herd.simulator.bench;

import static io.herd.simulator.bench.BenchSupport.API_VERSION;

import io.herd.simulator.bench.BenchSupport.BenchOptions;
import io.herd.simulator.bench.BenchSupport.Clients;
import io.herd.simulator.bench.BenchSupport.HubInfo;
import io.herd.simulator.bench.BenchSupport.PhaseResult;
import io.herd.simulator.bench.BenchSupport.PhaseStats;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;

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
    BenchSupport.main("registry-bench", args, Options.USAGE, Options::parse, RegistryBench::run);
  }

  /** Runs the benchmark and returns the process exit status. */
  private static int run(Options options, HubInfo hub, PrintStream out) {
    Map<String, String> results = new LinkedHashMap<>();
    return BenchSupport.runPhases(
        "registry-bench",
        "== Herd registry benchmark ==",
        options,
        hub,
        out,
        options.getClients(),
        results,
        "a request failed or did not answer 200",
        (clients, token) -> getPhase(options, clients, token, out, results).errors == 0);
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
      Path resultFile)
      implements BenchOptions {

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
              BenchSupport.stringArg(values, "prefix", BenchSupport.randomPrefix()),
              BenchSupport.stringArg(values, "host", "127.0.0.1"),
              // The hub runs on the same machine: leave it most of the cores. On 2 cores one
              // client loop measured faster GETs than two (less contention with the hub).
              BenchSupport.intArg(values, "event-loops", Math.max(1, cores / 4), 1, 64),
              BenchSupport.intArg(values, "timeout-seconds", 600, 1, 86_400),
              BenchSupport.pathArg(values, "result-file"));
      BenchSupport.requireValid(values, o.prefix);
      if (o.warmupSeconds + o.getSeconds >= o.timeoutSeconds) {
        throw new IllegalArgumentException("--timeout-seconds must exceed warm-up + GET seconds");
      }
      return o;
    }
  }

  private static PhaseStats getPhase(
      Options options, Clients clients, String token, PrintStream out, Map<String, String> results)
      throws TimeoutException {
    PhaseResult r =
        clients.timed(
            options.getClients(),
            options.warmupSeconds(),
            options.getSeconds(),
            MAX_GET_ERRORS,
            d -> {
              MultiMap headers =
                  MultiMap.caseInsensitiveMultiMap().add(HttpHeaders.AUTHORIZATION, token);
              return n -> {
                String id =
                    options.deviceId(ThreadLocalRandom.current().nextInt(options.devices()));
                return BenchSupport.outcome(
                    d.request(HttpMethod.GET, "/devices/" + id + "?api-version=" + API_VERSION)
                        .putHeaders(headers)
                        .send(),
                    resp -> BenchSupport.checkOkWithId(resp, id),
                    "GET /devices/" + id);
              };
            });
    PhaseStats total =
        BenchSupport.reportTimed(
            out,
            results,
            r,
            "get",
            options.getClients() + " clients",
            options.getSeconds(),
            options.warmupSeconds(),
            "requests",
            "GET/s");
    BenchSupport.putErrorsAndCpu(results, "get", r);
    return total;
  }
}
