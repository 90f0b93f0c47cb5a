package io.herd.server.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.management.VMOption;
import io.herd.server.internal.SteadyHeap.Ratios;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SteadyHeapTest {

  /** The JVM's check: it refuses a minimum above the maximum, as HotSpot does. */
  private static final class FakeOptions implements SteadyHeap.VmOptions {
    final Map<String, VMOption> values = new HashMap<>();
    final List<String> sets = new ArrayList<>();

    FakeOptions(int min, int max, VMOption.Origin origin) {
      values.put(SteadyHeap.MIN, new VMOption(SteadyHeap.MIN, Integer.toString(min), true, origin));
      values.put(SteadyHeap.MAX, new VMOption(SteadyHeap.MAX, Integer.toString(max), true, origin));
    }

    @Override
    public VMOption get(String name) {
      return values.get(name);
    }

    @Override
    public void set(String name, String value) {
      int min = Integer.parseInt((name.equals(SteadyHeap.MIN) ? value : value(SteadyHeap.MIN)));
      int max = Integer.parseInt((name.equals(SteadyHeap.MAX) ? value : value(SteadyHeap.MAX)));
      if (min > max) {
        throw new IllegalArgumentException(name + "=" + value + " would put the minimum above");
      }
      values.put(name, new VMOption(name, value, true, VMOption.Origin.MANAGEMENT));
      sets.add(name + "=" + value);
    }

    String value(String name) {
      return values.get(name).getValue();
    }
  }

  @Test
  void lowersTheJvmDefaultsInAnOrderTheJvmAccepts() {
    FakeOptions jvm = new FakeOptions(40, 70, VMOption.Origin.DEFAULT);

    String done = SteadyHeap.apply(new Ratios(10, 30), jvm);

    assertThat(jvm.sets).containsExactly("MinHeapFreeRatio=10", "MaxHeapFreeRatio=30");
    assertThat(done).isEqualTo("MinHeapFreeRatio=10, MaxHeapFreeRatio=30");
  }

  @Test
  void raisesTheMaximumFirstWhenTheMinimumGoesAboveIt() {
    FakeOptions jvm = new FakeOptions(10, 30, VMOption.Origin.ERGONOMIC);

    SteadyHeap.apply(new Ratios(50, 80), jvm);

    assertThat(jvm.sets).containsExactly("MaxHeapFreeRatio=80", "MinHeapFreeRatio=50");
  }

  @Test
  void keepsRatiosGivenOnTheCommandLine() {
    FakeOptions jvm = new FakeOptions(40, 70, VMOption.Origin.VM_CREATION);

    String done = SteadyHeap.apply(new Ratios(10, 30), jvm);

    assertThat(jvm.sets).isEmpty();
    assertThat(done).contains("kept").contains("MaxHeapFreeRatio=70");
  }

  @Test
  void saysWhatIsWrongWithTheProperty() {
    assertThat(Ratios.parse(" 10, 30")).isEqualTo(new Ratios(10, 30));
    assertThatThrownBy(() -> Ratios.parse("30"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("herd.steadyHeapFreeRatio takes MIN,MAX");
    assertThatThrownBy(() -> Ratios.parse("ten,30"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("two whole numbers");
    assertThatThrownBy(() -> Ratios.parse("40,30"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("0 <= MIN <= MAX <= 100");
  }

  @Test
  void doesNothingWithoutTheProperty() {
    String before = System.getProperty(SteadyHeap.PROPERTY);
    System.clearProperty(SteadyHeap.PROPERTY);
    try {
      assertThat(SteadyHeap.fromSystemProperty()).isEmpty();
    } finally {
      if (before != null) {
        System.setProperty(SteadyHeap.PROPERTY, before);
      }
    }
  }
}
