package io.herd.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.simulator.SimulationReport.Count;
import io.herd.simulator.SimulationReport.Latency;
import io.herd.simulator.internal.Figures;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class SimulationReportTest {

  private static SimulationReport report(long telemetry, long firstMicros, int devices) {
    Figures f = new Figures();
    f.add(Count.TELEMETRY_ACKED, telemetry);
    f.count(Count.FIRMWARE_FAILED);
    for (int i = 0; i < 100; i++) {
      f.record(Latency.TELEMETRY_PUBACK, firstMicros + i);
    }
    f.error("no PUBACK");
    return new SimulationReport(
        f, devices, devices - 1, 1, 1_700_000_000_000L, 12.5, new JsonObject().put("rate", 1.0));
  }

  @Test
  void readsBackWhatItWrites() {
    SimulationReport r = report(42, 1_000, 10);

    SimulationReport back = SimulationReport.fromJson(new JsonObject(r.toJson().encode()));

    assertThat(back.count(Count.TELEMETRY_ACKED)).isEqualTo(42);
    assertThat(back.count(Count.FIRMWARE_FAILED)).isEqualTo(1);
    assertThat(back.latency(Latency.TELEMETRY_PUBACK))
        .isEqualTo(r.latency(Latency.TELEMETRY_PUBACK));
    assertThat(back.errors()).containsEntry("no PUBACK", 1L);
    assertThat(back.devices()).isEqualTo(10);
    assertThat(back.online()).isEqualTo(9);
    assertThat(back.startedAtMillis()).isEqualTo(1_700_000_000_000L);
    assertThat(back.toJson()).isEqualTo(r.toJson());
  }

  @Test
  void writesPercentilesInMillisecondsBesideTheHistogram() {
    JsonObject j = report(1, 1_000, 1).toJson().getJsonObject("latencies");

    JsonObject puback = j.getJsonObject("telemetryPuback");
    assertThat(puback.getLong("count")).isEqualTo(100);
    assertThat(puback.getDouble("p50Ms")).isBetween(1.04, 1.06);
    assertThat(puback.getDouble("maxMs")).isBetween(1.09, 1.1);
    assertThat(puback.getString("hdr")).isNotEmpty();
    assertThat(j.getJsonObject("connect").getLong("count")).isZero();
  }

  @Test
  void mergesCountsHistogramsAndDevicesOfSeveralProcesses() {
    SimulationReport merged = report(5, 1_000, 10).merge(report(7, 50_000, 20));

    assertThat(merged.count(Count.TELEMETRY_ACKED)).isEqualTo(12);
    assertThat(merged.latency(Latency.TELEMETRY_PUBACK).getTotalCount()).isEqualTo(200);
    assertThat(merged.latency(Latency.TELEMETRY_PUBACK).getMaxValue()).isBetween(50_090L, 50_200L);
    assertThat(merged.devices()).isEqualTo(30);
    assertThat(merged.processes()).isEqualTo(2);
    assertThat(merged.errors()).containsEntry("no PUBACK", 2L);
    assertThat(merged.summary()).contains("30 simulated in 2 processes");
  }

  @Test
  void refusesAnotherFormat() {
    assertThatThrownBy(() -> SimulationReport.fromJson(new JsonObject().put("format", "x")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
