package io.herd.simulator;

import io.herd.simulator.SimulationReport.Count;
import io.herd.simulator.SimulationReport.Latency;
import io.herd.simulator.internal.JulLogging;
import io.herd.simulator.internal.ProcessFleet;
import io.herd.simulator.internal.SimulatorOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * {@code herd sim}: the device simulator's command line. Registers and connects the devices of a
 * {@link SimulatorConfig} (split over {@code --processes} JVMs), prints a status line every {@code
 * --status-seconds}, and at the end a summary and the {@code --report} file.
 */
public final class Simulator {

  private static final String NAME = "herd sim";

  private Simulator() {}

  public static void main(String[] args) {
    JulLogging.use();
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              stop.countDown();
              try {
                done.await(90, TimeUnit.SECONDS); // let the run write its report
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "herd-sim-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    int status = run(args, System.out, System.err, stop);
    done.countDown();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      return; // shutting down already (Ctrl-C): the JVM exits when the hook returns
    }
    System.exit(status);
  }

  /**
   * Runs a simulation and returns the exit status: 0 when it ran, 1 when it could not (bad hub,
   * registration refused), 2 for bad arguments. Stops after {@code --duration} or when {@code stop}
   * opens (or, in a forked process, when standard input closes).
   */
  public static int run(String[] args, PrintStream out, PrintStream err, CountDownLatch stop) {
    SimulatorConfig config;
    try {
      SimulatorOptions options = SimulatorOptions.parse(args);
      if (options.helpRequested()) {
        out.print(SimulatorOptions.usage());
        return 0;
      }
      config = options.toConfig();
    } catch (IllegalArgumentException e) {
      err.println(NAME + ": " + e.getMessage());
      err.println("Try '" + NAME + " --help'.");
      return 2;
    }
    if (config.child()) {
      watchStandardInput(stop);
    }
    try {
      return new Run(
              config,
              config.child() ? new PrintStream(OutputStream.nullOutputStream()) : out,
              out,
              err,
              stop)
          .run();
    } catch (IllegalArgumentException | IllegalStateException e) {
      err.println(NAME + ": " + e.getMessage());
      return 1;
    } catch (Exception e) {
      err.println(NAME + ": FAILED, " + e.getClass().getSimpleName() + ": " + e.getMessage());
      return 1;
    }
  }

  /** A forked process stops when its parent closes its standard input, or dies. */
  private static void watchStandardInput(CountDownLatch stop) {
    Thread t =
        new Thread(
            () -> {
              InputStream in = System.in;
              try {
                while (in.read() >= 0) {
                  // The parent sends nothing; it closes.
                }
              } catch (IOException e) {
                // closed
              }
              stop.countDown();
            },
            "herd-sim-stdin");
    t.setDaemon(true);
    t.start();
  }

  /** One run: the human output goes to {@code log}, a child's status lines to {@code out}. */
  private record Run(
      SimulatorConfig config,
      PrintStream log,
      PrintStream out,
      PrintStream err,
      CountDownLatch stop) {

    int run() throws Exception {
      ProcessFleet fleet = null;
      SimulatorConfig own = config;
      if (config.processes() > 1) {
        int[] s = ProcessFleet.slice(config.devices(), config.processes(), 0);
        own = config.withSlice(s[0], s[1]);
        fleet = ProcessFleet.fork(config);
        log.printf(
            Locale.ROOT,
            "processes : %d (this one simulates %s .. %s, %d forked for the rest)%n",
            config.processes(),
            config.deviceId(s[0]),
            config.deviceId(s[0] + s[1] - 1),
            config.processes() - 1);
      }
      Simulation sim;
      try {
        sim = Simulation.start(own, log);
      } catch (Exception e) {
        if (fleet != null) {
          fleet.destroy();
        }
        throw e;
      }
      SimulationReport report;
      try {
        simulate(sim, fleet);
      } finally {
        report = sim.stop();
      }
      if (fleet != null) {
        // With a duration each child ends by itself once its own devices have run that long;
        // otherwise (Ctrl-C) they stop now.
        long limitMs =
            config.durationSeconds() > 0
                ? TimeUnit.SECONDS.toMillis(config.durationSeconds() + 120)
                : 0;
        SimulationReport others = fleet.finish(stop, limitMs, err);
        report = others == null ? report : report.merge(others);
      }
      log.println("== summary ==");
      log.print(report.summary()); // a forked process's log goes nowhere: its report is the file
      if (config.reportFile() != null) {
        Files.writeString(config.reportFile(), report.toJson().encodePrettily() + "\n");
        log.println("report    : " + config.reportFile());
      }
      return 0;
    }

    /** Waits for the connections, then for the end, with status lines. */
    private void simulate(Simulation sim, ProcessFleet fleet) throws Exception {
      long t0 = System.nanoTime();
      // Connecting: up to a minute plus a second per 500 devices, and while not stopped.
      long connectEnd = t0 + TimeUnit.SECONDS.toNanos(60 + sim.config().count() / 500);
      boolean all = false;
      while (!all && stop.getCount() > 0 && System.nanoTime() < connectEnd) {
        all = sim.awaitConnected(Duration.ofMillis(500));
      }
      SimulationReport r = sim.report();
      log.printf(
          Locale.ROOT,
          "connected : %d of %d devices in %.1f s (connect p50 %.1f ms, p99 %.1f ms)%s%n",
          all ? r.devices() : r.online(),
          r.devices(),
          (System.nanoTime() - t0) / 1e9,
          ms(r.latency(Latency.CONNECT), 50),
          ms(r.latency(Latency.CONNECT), 99),
          all ? "" : "; the others keep trying");
      long start = System.nanoTime();
      long end =
          config.durationSeconds() > 0
              ? start + TimeUnit.SECONDS.toNanos(config.durationSeconds())
              : Long.MAX_VALUE;
      long every = TimeUnit.SECONDS.toNanos(config.statusSeconds());
      long nextStatus = every > 0 ? start + every : Long.MAX_VALUE;
      SimulationReport previous = r;
      long previousNanos = start;
      while (stop.getCount() > 0 && System.nanoTime() < end) {
        stop.await(
            Math.max(1, Math.min(end, nextStatus) - System.nanoTime()), TimeUnit.NANOSECONDS);
        long now = System.nanoTime();
        if (now < nextStatus || stop.getCount() == 0) {
          continue;
        }
        while (nextStatus <= now) {
          nextStatus += every;
        }
        SimulationReport mine = sim.report();
        if (config.child()) {
          status(mine);
          continue;
        }
        SimulationReport others = fleet == null ? null : fleet.status();
        SimulationReport fleetwide = others == null ? mine : mine.merge(others);
        log.println(statusLine(fleetwide, previous, (now - previousNanos) / 1e9, (now - t0) / 1e9));
        previous = fleetwide;
        previousNanos = now;
      }
    }

    private void status(SimulationReport r) {
      out.println(ProcessFleet.STATUS + r.toJson().encode());
      out.flush();
    }

    private String statusLine(
        SimulationReport now, SimulationReport before, double seconds, double t) {
      return String.format(
          Locale.ROOT,
          "[%6.0fs] online %d/%d | telemetry %.0f/s acked (p99 %.1f ms) | reported %d acked"
              + " | methods %d | firmware %d ok %d failed | lost %d",
          t,
          now.online(),
          config.devices(),
          (now.count(Count.TELEMETRY_ACKED) - before.count(Count.TELEMETRY_ACKED))
              / Math.max(seconds, 1e-9),
          ms(now.latency(Latency.TELEMETRY_PUBACK), 99),
          now.count(Count.REPORTED_ACKED),
          now.count(Count.METHODS_RECEIVED),
          now.count(Count.FIRMWARE_SUCCEEDED),
          now.count(Count.FIRMWARE_FAILED),
          now.count(Count.CONNECTIONS_LOST));
    }
  }

  private static double ms(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1e3;
  }
}
