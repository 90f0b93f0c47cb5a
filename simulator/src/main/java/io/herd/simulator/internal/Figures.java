package io.herd.simulator.internal;

import io.herd.simulator.SimulationReport.Count;
import io.herd.simulator.SimulationReport.Latency;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * Counts, latencies in microseconds and error reasons of some devices: one instance per event loop,
 * touched on that loop only; merged into a {@link io.herd.simulator.SimulationReport}.
 */
public final class Figures {

  /** Distinct error reasons kept; further ones count as "other". */
  public static final int MAX_REASONS = 20;

  private static final String OTHER = "other";

  private final long[] counts = new long[Count.values().length];
  private final Histogram[] latencies = new Histogram[Latency.values().length];
  private final TreeMap<String, Long> errors = new TreeMap<>();

  public Figures() {
    for (int i = 0; i < latencies.length; i++) {
      latencies[i] = new Histogram(3);
    }
  }

  public void count(Count c) {
    counts[c.ordinal()]++;
  }

  public void add(Count c, long n) {
    counts[c.ordinal()] += n;
  }

  public long get(Count c) {
    return counts[c.ordinal()];
  }

  /** Records a latency; negative values (clock steps between hosts) count as 0. */
  public void record(Latency l, long micros) {
    latencies[l.ordinal()].recordValue(Math.max(0, micros));
  }

  /** The histogram itself, not a copy. */
  public Histogram histogram(Latency l) {
    return latencies[l.ordinal()];
  }

  public void error(String reason) {
    error(reason, 1);
  }

  public void error(String reason, long n) {
    String key = errors.containsKey(reason) || errors.size() < MAX_REASONS ? reason : OTHER;
    errors.merge(key, n, Long::sum);
  }

  public Map<String, Long> errors() {
    return Collections.unmodifiableMap(errors);
  }

  /** Adds {@code other}'s figures to these. */
  public void add(Figures other) {
    for (int i = 0; i < counts.length; i++) {
      counts[i] += other.counts[i];
    }
    for (int i = 0; i < latencies.length; i++) {
      latencies[i].add(other.latencies[i]);
    }
    other.errors.forEach(this::error);
  }

  public Figures copy() {
    Figures f = new Figures();
    f.add(this);
    return f;
  }
}
