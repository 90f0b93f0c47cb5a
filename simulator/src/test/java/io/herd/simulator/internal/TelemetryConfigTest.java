package io.herd.simulator.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class TelemetryConfigTest {

  private static long interval(Object frequency) {
    return TelemetryConfig.intervalMs(new JsonObject().put("sendFrequency", frequency));
  }

  @Test
  void readsDurationsWithTheirUnit() {
    assertThat(interval("250ms")).isEqualTo(250);
    assertThat(interval("5s")).isEqualTo(5_000);
    assertThat(interval("2m")).isEqualTo(120_000);
    assertThat(interval(" 1 H ")).isEqualTo(3_600_000);
  }

  @Test
  void saysWhatIsWrongWithAFrequency() {
    assertThatThrownBy(() -> interval("fast")).hasMessageContaining("'fast' is not a duration");
    assertThatThrownBy(() -> interval(5)).hasMessageContaining("duration string");
    assertThatThrownBy(() -> interval("5ms")).hasMessageContaining("outside 10ms .. 24h");
    assertThatThrownBy(() -> interval("25h")).hasMessageContaining("outside");
    assertThatThrownBy(() -> TelemetryConfig.intervalMs("5s")).hasMessageContaining("object");
  }

  @Test
  void reportsTheConfigurationAsAskedWithItsStatus() {
    JsonObject asked = new JsonObject().put("configId", "c1").put("sendFrequency", "5s");

    assertThat(TelemetryConfig.reported(asked, "failure", "why"))
        .isEqualTo(asked.copy().put("status", "failure").put("error", "why"));
    assertThat(TelemetryConfig.reported("junk", "failure", "why").getValue("sendFrequency"))
        .isNull();
  }
}
