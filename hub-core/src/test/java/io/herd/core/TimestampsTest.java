package io.herd.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
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

  @Test
  void formatsLikeTheIsoFormatterAcrossTheRange() {
    java.time.format.DateTimeFormatter iso =
        new java.time.format.DateTimeFormatterBuilder()
            .appendPattern("uuuu-MM-dd'T'HH:mm:ss")
            .appendFraction(java.time.temporal.ChronoField.NANO_OF_SECOND, 7, 7, true)
            .appendLiteral('Z')
            .toFormatter()
            .withZone(java.time.ZoneOffset.UTC);
    java.util.Random random = new java.util.Random(42);
    long min = Instant.parse("0001-01-01T00:00:00Z").getEpochSecond();
    long max = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
    for (int i = 0; i < 100_000; i++) {
      Instant t =
          Instant.ofEpochSecond(
              min + Math.floorMod(random.nextLong(), max - min + 1), random.nextInt(1_000_000_000));
      assertThat(Timestamps.format(t)).isEqualTo(iso.format(t));
    }
    for (String edge :
        List.of(
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59.9999999Z",
            "2000-02-29T12:00:00.0000001Z",
            "9999-12-31T23:59:59.999999999Z",
            "0001-01-01T00:00:00.5Z")) {
      Instant t = Instant.parse(edge);
      assertThat(Timestamps.format(t)).isEqualTo(iso.format(t));
    }
  }
}
