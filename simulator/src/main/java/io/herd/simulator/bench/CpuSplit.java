package io.herd.simulator.bench;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a machine's CPU went over a window, from Linux's {@code /proc}: cores used by each watched
 * process (user + system time of all its threads, from {@code /proc/<pid>/stat}), and the whole
 * machine's busy and kernel (system + irq + softirq) shares from {@code /proc/stat}. Counters are
 * in clock ticks of {@link #TICKS_PER_SECOND} (the usual {@code CLK_TCK}); on other systems, or for
 * a process gone, the figures are missing rather than wrong.
 */
final class CpuSplit {

  static final double TICKS_PER_SECOND = 100;

  /** One reading: ticks per watched process (-1 when unreadable), and the machine's counters. */
  record Reading(long wallNanos, Map<String, Long> processTicks, MachineTicks machine) {}

  /** Ticks of the {@code cpu} line of {@code /proc/stat}, all cores summed. */
  record MachineTicks(long busy, long kernel, long total) {

    static final MachineTicks NONE = new MachineTicks(0, 0, 0);

    /**
     * Parses the {@code cpu} line: user nice system idle iowait irq softirq steal ...; busy is all
     * but idle and iowait.
     */
    static MachineTicks parse(String procStat) {
      for (String line : procStat.split("\n")) {
        if (line.startsWith("cpu ")) {
          String[] f = line.trim().split("\\s+");
          long[] v = new long[8];
          for (int i = 0; i < v.length && i + 1 < f.length; i++) {
            v[i] = Long.parseLong(f[i + 1]);
          }
          long idle = v[3] + v[4];
          long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
          return new MachineTicks(busy, v[2] + v[5] + v[6], busy + idle);
        }
      }
      return NONE;
    }

    /** The machine's ticks now, or {@link #NONE} where /proc/stat cannot be read. */
    static MachineTicks now() {
      try {
        return parse(Files.readString(Path.of("/proc/stat"), US_ASCII));
      } catch (IOException | RuntimeException e) {
        return NONE;
      }
    }
  }

  private final Map<String, List<Long>> pids;

  /** Watches the processes of {@code pids}, by name in the order given, summed per name. */
  CpuSplit(Map<String, List<Long>> pids) {
    this.pids = pids;
  }

  /**
   * Parses {@code name=pid,name=pid+pid}; "self" as a pid is this process; the processes of one
   * name are summed (e.g. PostgreSQL's server processes). Throws IllegalArgumentException on
   * anything else.
   */
  static Map<String, List<Long>> parsePids(String spec) {
    Map<String, List<Long>> pids = new LinkedHashMap<>();
    if (spec.isEmpty()) {
      return pids;
    }
    for (String part : spec.split(",")) {
      int eq = part.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("expected name=pid, got: " + part);
      }
      List<Long> group = new ArrayList<>();
      for (String pid : part.substring(eq + 1).split("\\+")) {
        try {
          group.add(pid.equals("self") ? ProcessHandle.current().pid() : Long.parseLong(pid));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("not a pid: " + pid, e);
        }
      }
      pids.put(part.substring(0, eq), List.copyOf(group));
    }
    return pids;
  }

  /**
   * utime + stime of a {@code /proc/<pid>/stat} line (fields 14 and 15; the name may hold spaces).
   */
  static long processTicks(String stat) {
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
    // f[0] is field 3 (state), so field n is f[n - 3].
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  Reading read() {
    Map<String, Long> ticks = new LinkedHashMap<>();
    pids.forEach(
        (name, group) -> {
          long t = 0;
          for (long pid : group) {
            try {
              t +=
                  processTicks(
                      Files.readString(Path.of("/proc", Long.toString(pid), "stat"), US_ASCII));
            } catch (IOException | RuntimeException e) {
              t = -1;
              break;
            }
          }
          ticks.put(name, t);
        });
    return new Reading(System.nanoTime(), ticks, MachineTicks.now());
  }

  /**
   * The split from {@code a} to {@code b}: "name N.NN cores" for each process, the rest of the
   * machine's busy time, and the machine's busy and kernel shares; {@code cores} for percentages.
   * Records each figure under {@code key.cpu.<name>} in {@code results}.
   */
  static String describe(Reading a, Reading b, int cores, String key, Map<String, String> results) {
    double seconds = Math.max(1e-9, (b.wallNanos() - a.wallNanos()) / 1e9);
    StringBuilder sb = new StringBuilder();
    double processes = 0;
    for (Map.Entry<String, Long> e : b.processTicks().entrySet()) {
      Long before = a.processTicks().get(e.getKey());
      if (before == null || before < 0 || e.getValue() < 0) {
        sb.append(e.getKey()).append(" ?, ");
        continue;
      }
      double used = (e.getValue() - before) / TICKS_PER_SECOND / seconds;
      processes += used;
      sb.append(String.format(Locale.ROOT, "%s %.2f, ", e.getKey(), used));
      results.put(key + ".cpu." + e.getKey(), BenchSupport.fmt(used));
    }
    long total = b.machine().total() - a.machine().total();
    if (total <= 0) {
      return sb.append("(no /proc/stat)").toString();
    }
    double busyCores = (double) (b.machine().busy() - a.machine().busy()) / total * cores;
    double kernelShare = (double) (b.machine().kernel() - a.machine().kernel()) / total;
    double rest = Math.max(0, busyCores - processes);
    results.put(key + ".cpu.rest", BenchSupport.fmt(rest));
    results.put(key + ".cpu.machineBusy", BenchSupport.fmt(busyCores / cores));
    results.put(key + ".cpu.kernelShare", BenchSupport.fmt(kernelShare));
    return sb.append(
            String.format(
                Locale.ROOT,
                "rest of the machine %.2f cores; machine %.0f%% busy, %.0f%% of all CPU time in"
                    + " the kernel (system + irq + softirq, included above)",
                rest,
                busyCores / cores * 100,
                kernelShare * 100))
        .toString();
  }
}
