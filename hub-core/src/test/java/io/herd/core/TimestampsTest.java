package io.herd.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class TimestampsTest {
  @Test
  void formatsSevenFractionDigitsInUtc() {
    assertThat(Timestamps.format(Instant.parse("2023-01-02T21:42:14.70502951Z")))
        .isEqualTo("2023-01-02T21:42:14.7050295Z");
    assertThat(Timestamps.format(Instant.parse("2023-01-02T21:42:14Z")))
        .isEqualTo("2023-01-02T21:42:14.0000000Z");
  }

  @Test
  void neverIsYearOneBothWays() {
    assertThat(Timestamps.format(null)).isEqualTo("0001-01-01T00:00:00Z");
    assertThat(Timestamps.parse("0001-01-01T00:00:00Z")).isNull();
  }
}
