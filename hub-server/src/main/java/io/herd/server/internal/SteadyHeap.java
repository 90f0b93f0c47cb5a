package io.herd.server.internal;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import java.lang.management.ManagementFactory;
import java.util.Optional;
import java.util.Set;

/**
 * G1's heap free ratios once the hub has started, from the system property {@value #PROPERTY}
 * ({@code MIN,MAX} in percent; conf/jvm.options sets it). With {@code MaxHeapFreeRatio} at 30
 * instead of 70, a full collection or a concurrent cycle's remark leaves at most 30% of the heap
 * committed but free, so memory taken by a burst (a reconnect storm) goes back to the OS. Set at
 * start-up already, the same ratios made loading a million twins about 12% slower, hence only
 * afterwards: both flags are manageable. Ratios given on the JVM's command line win.
 */
public final class SteadyHeap {
  public static final String PROPERTY = "herd.steadyHeapFreeRatio";

  static final String MIN = "MinHeapFreeRatio";
  static final String MAX = "MaxHeapFreeRatio";

  /** Where a flag's value came from that this class may replace. */
  private static final Set<VMOption.Origin> REPLACEABLE =
      Set.of(VMOption.Origin.DEFAULT, VMOption.Origin.ERGONOMIC);

  /** The JVM's flags, as the HotSpot diagnostic bean reads and sets them. */
  interface VmOptions {
    VMOption get(String name);

    void set(String name, String value);
  }

  /** Minimum and maximum free heap after a collection, in percent. */
  public record Ratios(int min, int max) {
    public Ratios {
      if (min < 0 || max > 100 || min > max) {
        throw new IllegalArgumentException(
            "heap free ratios must be 0 <= MIN <= MAX <= 100, not " + min + "," + max);
      }
    }

    /** Parses {@code MIN,MAX}; says what is wrong with anything else. */
    static Ratios parse(String text) {
      String[] parts = text.split(",", -1);
      if (parts.length != 2) {
        throw new IllegalArgumentException(
            PROPERTY + " takes MIN,MAX in percent (e.g. 10,30), not '" + text + "'");
      }
      try {
        return new Ratios(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            PROPERTY + " takes two whole numbers MIN,MAX, not '" + text + "'", e);
      }
    }
  }

  private SteadyHeap() {}

  /**
   * The ratios {@value #PROPERTY} asks for, or empty when it is absent; read when the hub starts,
   * so that a bad value stops it before the twins are loaded.
   *
   * @throws IllegalArgumentException saying what is wrong with the value
   */
  public static Optional<Ratios> fromSystemProperty() {
    String value = System.getProperty(PROPERTY);
    if (value == null || value.isBlank()) {
      return Optional.empty();
    }
    return Optional.of(Ratios.parse(value));
  }

  /** Applies {@code ratios} to this JVM's flags; returns what was done, for the log. */
  public static String applyToThisJvm(Ratios ratios) {
    return apply(
        ratios,
        new HotSpotOptions(ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)));
  }

  private record HotSpotOptions(HotSpotDiagnosticMXBean bean) implements VmOptions {
    @Override
    public VMOption get(String name) {
      return bean.getVMOption(name);
    }

    @Override
    public void set(String name, String value) {
      bean.setVMOption(name, value);
    }
  }

  /** Sets both ratios unless either came from the command line; returns what was done. */
  static String apply(Ratios ratios, VmOptions options) {
    VMOption min = options.get(MIN);
    VMOption max = options.get(MAX);
    if (!REPLACEABLE.contains(min.getOrigin()) || !REPLACEABLE.contains(max.getOrigin())) {
      return "kept "
          + MIN
          + "="
          + min.getValue()
          + " and "
          + MAX
          + "="
          + max.getValue()
          + " given to the JVM";
    }
    // The JVM refuses a minimum above the maximum at every step: lower the minimum first when the
    // maximum goes down, raise the maximum first when the minimum goes up.
    if (ratios.min() <= Integer.parseInt(max.getValue())) {
      options.set(MIN, Integer.toString(ratios.min()));
      options.set(MAX, Integer.toString(ratios.max()));
    } else {
      options.set(MAX, Integer.toString(ratios.max()));
      options.set(MIN, Integer.toString(ratios.min()));
    }
    return MIN + "=" + ratios.min() + ", " + MAX + "=" + ratios.max();
  }
}
