package io.herd.simulator.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class OpenLoopScheduleTest {

  @Test
  void spacesIntendedStartsEvenlyFromTheStart() {
    OpenLoopSchedule s = new OpenLoopSchedule(1_000, 5_000);

    assertThat(s.intendedStart(0)).isEqualTo(1_000);
    assertThat(s.intendedStart(1)).isEqualTo(1_000 + 200_000);
    assertThat(s.intendedStart(5_000)).isEqualTo(1_000 + 1_000_000_000L);
  }

  @Test
  void countsTheCallsDueByAnInstant() {
    OpenLoopSchedule s = new OpenLoopSchedule(1_000, 5_000);

    assertThat(s.dueBy(999)).isZero();
    assertThat(s.dueBy(1_000)).isEqualTo(1);
    assertThat(s.dueBy(1_000 + 199_999)).isEqualTo(1);
    assertThat(s.dueBy(1_000 + 200_000)).isEqualTo(2);
    assertThat(s.dueBy(1_000 + 1_000_000_000L)).isEqualTo(5_001);
  }

  @Test
  void dueCountAgreesWithIntendedStartsForAnAwkwardRate() {
    OpenLoopSchedule s = new OpenLoopSchedule(123_456_789, 2_999.7);

    for (long k = 0; k < 20_000; k += 7) {
      long t = s.intendedStart(k);
      assertThat(s.dueBy(t)).as("call %d at its own start", k).isEqualTo(k + 1);
      assertThat(s.dueBy(t - 1)).as("call %d just before", k).isLessThanOrEqualTo(k);
    }
  }

  @Test
  void aWindowHoldsRateTimesSecondsCalls() {
    long start = 5_000_000_000L;
    OpenLoopSchedule s = new OpenLoopSchedule(start, 5_000);

    assertThat(s.callsBefore(start)).isZero();
    assertThat(s.callsBefore(start + 20_000_000_000L)).isEqualTo(100_000);
  }

  @Test
  void rejectsANonPositiveRate() {
    assertThatThrownBy(() -> new OpenLoopSchedule(0, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new OpenLoopSchedule(0, Double.NaN))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
