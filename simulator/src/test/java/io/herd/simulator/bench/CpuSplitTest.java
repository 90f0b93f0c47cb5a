package io.herd.simulator.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.simulator.bench.CpuSplit.MachineTicks;
import io.herd.simulator.bench.CpuSplit.Reading;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CpuSplitTest {

  @Test
  void readsUserAndSystemTicksOfAProcessWhoseNameHoldsSpacesAndParentheses() {
    String stat =
        "4242 (java (x) y) S 1 4242 4242 0 -1 4194560 5000 0 0 0 1234 567 0 0 20 0 40 0 100 0";

    assertThat(CpuSplit.processTicks(stat)).isEqualTo(1234 + 567);
  }

  @Test
  void readsBusyKernelAndTotalTicksOfTheMachine() {
    String stat = "cpu  100 5 30 800 10 2 3 1 0 0\ncpu0 50 2 15 400 5 1 1 0 0 0\nintr 1\n";

    assertThat(MachineTicks.parse(stat)).isEqualTo(new MachineTicks(141, 35, 951));
    assertThat(MachineTicks.parse("intr 1\n")).isEqualTo(MachineTicks.NONE);
  }

  @Test
  void splitsCoresBetweenProcessesAndTheRestOfTheMachine() {
    Reading a = new Reading(0, Map.of("hub", 1_000L), new MachineTicks(1_000, 100, 10_000));
    // 1 s later on 2 cores: 200 ticks in all, 180 busy, of which the hub 120 and 40 in the kernel.
    Reading b =
        new Reading(1_000_000_000L, Map.of("hub", 1_120L), new MachineTicks(1_180, 140, 10_200));
    Map<String, String> results = new HashMap<>();

    String text = CpuSplit.describe(a, b, 2, "closed", results);

    assertThat(results)
        .containsEntry("closed.cpu.hub", "1.20")
        .containsEntry("closed.cpu.rest", "0.60")
        .containsEntry("closed.cpu.machineBusy", "0.90")
        .containsEntry("closed.cpu.kernelShare", "0.20");
    assertThat(text).startsWith("hub 1.20, rest of the machine 0.60 cores; machine 90% busy");
  }

  @Test
  void parsesWatchedPids() {
    assertThat(CpuSplit.parsePids("hub=12,devices=34,postgres=5+6"))
        .containsExactly(
            Map.entry("hub", List.of(12L)),
            Map.entry("devices", List.of(34L)),
            Map.entry("postgres", List.of(5L, 6L)));
    assertThat(CpuSplit.parsePids("me=self"))
        .containsEntry("me", List.of(ProcessHandle.current().pid()));
    assertThat(CpuSplit.parsePids("")).isEmpty();
    assertThatThrownBy(() -> CpuSplit.parsePids("hub"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
