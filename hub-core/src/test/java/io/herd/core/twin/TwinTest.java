package io.herd.core.twin;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TwinTest {
  private static final TwinIdentity IDENTITY =
      new TwinIdentity(
          "g1", "MQ==", "enabled", null, "Disconnected", null, 0, "sas", null, null, "", false);

  @Test
  void serviceVersionCountsTagAndDesiredChangesButNotReportedOnes() {
    Twin t = Twin.empty(TwinKey.device("d1"), IDENTITY);
    assertThat(t.serviceVersion()).isZero();

    t = t.withReported(TwinNode.EMPTY, t.reportedVersion() + 1);
    t = t.withReported(TwinNode.EMPTY, t.reportedVersion() + 1);
    assertThat(t.serviceVersion()).isZero();
    assertThat(t.version()).isEqualTo(3);

    t = t.withServiceSide(TwinNode.EMPTY, t.desired(), t.desiredVersion() + 1);
    t = t.withReported(TwinNode.EMPTY, t.reportedVersion() + 1);
    assertThat(t.serviceVersion()).isEqualTo(1);
    t = t.withServiceSide(TwinNode.EMPTY, t.desired(), t.desiredVersion());
    assertThat(t.serviceVersion()).isEqualTo(2);
    assertThat(t.withIdentity(IDENTITY).serviceVersion()).isEqualTo(2);
  }
}
