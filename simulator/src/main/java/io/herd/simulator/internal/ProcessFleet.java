package io.herd.simulator.internal;

import io.herd.simulator.SimulationReport;
import io.herd.simulator.SimulatorConfig;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The processes a simulation with {@code --processes K} forks: K-1 JVMs on this one's classpath,
 * each simulating its slice of the fleet. A child prints a status line ({@code status} and its
 * report as JSON) every few seconds, stops when its standard input closes (so it never outlives
 * this process), and writes its final report to a file this process merges.
 */
public final class ProcessFleet {

  /** The prefix of a child's status lines on its standard output. */
  public static final String STATUS = "status ";

  private record Child(Process process, Path report, int first, int count) {}

  private final List<Child> children = new ArrayList<>();
  private final List<SimulationReport> latest = new ArrayList<>();
  private final Path dir;

  private ProcessFleet(Path dir) {
    this.dir = dir;
  }

  /**
   * The slice of process {@code i} of {@code processes}: {@code {first, count}}, the devices split
   * as evenly as they go, process 0 first.
   */
  public static int[] slice(int devices, int processes, int i) {
    int base = devices / processes;
    int extra = devices % processes;
    int first = i * base + Math.min(i, extra);
    return new int[] {first, base + (i < extra ? 1 : 0)};
  }

  /** Forks processes 1 .. K-1 of {@code config}; their stderr goes to this one's. */
  public static ProcessFleet fork(SimulatorConfig config) throws IOException {
    ProcessFleet fleet = new ProcessFleet(Files.createTempDirectory("herd-sim-"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> jvm = new ArrayList<>();
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("-Xmx") || a.startsWith("-Xms") || a.startsWith("-Xss")) {
        jvm.add(a);
      }
    }
    try {
      for (int i = 1; i < config.processes(); i++) {
        int[] s = slice(config.devices(), config.processes(), i);
        Path report = fleet.dir.resolve("process-" + i + ".json");
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(jvm);
        command.addAll(List.of("-cp", System.getProperty("java.class.path")));
        command.add("io.herd.simulator.Simulator");
        command.addAll(config.forChild(s[0], s[1], report).toArgs());
        Process p =
            new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Child c = new Child(p, report, s[0], s[1]);
        fleet.children.add(c);
        fleet.latest.add(null);
        fleet.readStatus(fleet.children.size() - 1);
      }
    } catch (IOException | RuntimeException e) {
      fleet.destroy();
      throw e;
    }
    return fleet;
  }

  private void readStatus(int index) {
    Child c = children.get(index);
    Thread t =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(
                          c.process().getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  if (line.startsWith(STATUS)) {
                    SimulationReport s =
                        SimulationReport.fromJson(new JsonObject(line.substring(STATUS.length())));
                    synchronized (latest) {
                      latest.set(index, s);
                    }
                  }
                }
              } catch (IOException | RuntimeException e) {
                // The child is gone; its exit status and report file tell the rest.
              }
            },
            "herd-sim-child-" + (index + 1));
    t.setDaemon(true);
    t.start();
  }

  /** The latest status of each child that has sent one, merged; null when none has. */
  public SimulationReport status() {
    synchronized (latest) {
      SimulationReport merged = null;
      for (SimulationReport s : latest) {
        if (s != null) {
          merged = merged == null ? s : merged.merge(s);
        }
      }
      return merged;
    }
  }

  /**
   * Waits for the children to finish their {@code --duration} by themselves, at most {@code
   * limitMs}; when {@code stop} opens first, or the limit passes, stops them (closes their standard
   * input). Then waits for them and merges their final reports; a child that wrote none is named on
   * {@code err} and left out.
   */
  public SimulationReport finish(CountDownLatch stop, long limitMs, PrintStream err)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limitMs);
    while (stop.getCount() > 0
        && System.nanoTime() < end
        && children.stream().anyMatch(c -> c.process().isAlive())) {
      stop.await(100, TimeUnit.MILLISECONDS);
    }
    return stopAndCollect(err);
  }

  /**
   * Stops the children (closes their standard input), waits for them, and merges their final
   * reports; a child that wrote none is named on {@code err} and left out.
   */
  private SimulationReport stopAndCollect(PrintStream err) throws InterruptedException {
    for (Child c : children) {
      try {
        c.process().getOutputStream().close();
      } catch (IOException e) {
        // Already gone.
      }
    }
    SimulationReport merged = null;
    for (int i = 0; i < children.size(); i++) {
      Child c = children.get(i);
      if (!c.process().waitFor(60, TimeUnit.SECONDS)) {
        err.println("herd sim: process " + (i + 1) + " did not stop within 60 s; killing it");
        c.process().destroyForcibly();
        continue;
      }
      try {
        SimulationReport r =
            SimulationReport.fromJson(new JsonObject(Files.readString(c.report())));
        merged = merged == null ? r : merged.merge(r);
      } catch (IOException | RuntimeException e) {
        err.println(
            "herd sim: process "
                + (i + 1)
                + " (devices "
                + c.first()
                + " .. "
                + (c.first() + c.count() - 1)
                + ") left no report; exit status "
                + c.process().exitValue());
      }
    }
    deleteDir();
    return merged;
  }

  /** Kills every child at once. */
  public void destroy() {
    for (Child c : children) {
      c.process().destroyForcibly();
    }
    deleteDir();
  }

  private void deleteDir() {
    try (var files = Files.list(dir)) {
      for (Path p : files.toList()) {
        Files.deleteIfExists(p);
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // A temporary directory left behind is harmless.
    }
  }
}
