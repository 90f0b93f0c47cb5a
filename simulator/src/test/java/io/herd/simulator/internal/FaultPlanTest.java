package io.herd.simulator.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;

class FaultPlanTest {

  private static List<Integer> chosen(int devices, IntPredicate p) {
    List<Integer> ids = new ArrayList<>();
    for (int n = 0; n < devices; n++) {
      if (p.test(n)) {
        ids.add(n);
      }
    }
    return ids;
  }

  @Test
  void choosesExactlyThePercentageRoundedToADevice() {
    for (int devices : new int[] {0, 1, 7, 100, 1_000, 19_000}) {
      for (double percent : new double[] {0, 0.5, 10, 33.3, 99.9, 100}) {
        FaultPlan plan = new FaultPlan(42, devices, percent, percent);
        int expected = (int) Math.round(devices * percent / 100);
        assertThat(chosen(devices, plan::failsFirmwareUpdates))
            .as("%d devices, %s%%", devices, percent)
            .hasSize(expected);
        assertThat(chosen(devices, plan::answersLate)).hasSize(expected);
      }
    }
  }

  @Test
  void dependsOnlyOnTheSeedTheCountAndTheDeviceNumber() {
    List<Integer> a = chosen(100, new FaultPlan(7, 100, 10, 0)::failsFirmwareUpdates);
    List<Integer> b = chosen(100, new FaultPlan(7, 100, 10, 50)::failsFirmwareUpdates);
    List<Integer> other = chosen(100, new FaultPlan(8, 100, 10, 0)::failsFirmwareUpdates);

    assertThat(a).isEqualTo(b).isNotEqualTo(other);
  }

  @Test
  void choosesLateDevicesIndependentlyOfFailingOnes() {
    FaultPlan plan = new FaultPlan(7, 1_000, 10, 10);

    assertThat(chosen(1_000, plan::answersLate))
        .isNotEqualTo(chosen(1_000, plan::failsFirmwareUpdates));
  }

  @Test
  void spreadsTheChoiceOverTheFleet() {
    List<Integer> failing = chosen(1_000, new FaultPlan(1, 1_000, 10, 0)::failsFirmwareUpdates);

    // Not a block of consecutive numbers: both halves of the fleet have some.
    assertThat(failing).anyMatch(n -> n < 500).anyMatch(n -> n >= 500);
  }

  @Test
  void rejectsPercentagesOutsideZeroToHundred() {
    assertThatThrownBy(() -> new FaultPlan(1, 10, 101, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new FaultPlan(1, 10, 0, -1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new FaultPlan(1, 10, Double.NaN, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
