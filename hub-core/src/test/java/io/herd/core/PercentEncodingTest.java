package io.herd.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PercentEncodingTest {

  @Test
  void keepsOnlyUnreservedCharactersAndWritesUpperCaseHexOfUtf8Bytes() {
    assertThat(PercentEncoding.unreserved("Az09-_.~")).isEqualTo("Az09-_.~");
    assertThat(PercentEncoding.unreserved("d 1#?%+/*!")).isEqualTo("d%201%23%3F%25%2B%2F%2A%21");
    assertThat(PercentEncoding.unreserved("é")).isEqualTo("%C3%A9");
  }

  @Test
  void aPathKeepsItsSlashesAndEncodesTheRestOfEachSegment() {
    assertThat(PercentEncoding.path("exports/d 1/é#.json"))
        .isEqualTo("exports/d%201/%C3%A9%23.json");
  }

  @Test
  void sasResourcesWriteTheStarInLowerCaseAsTheSdkDoes() {
    assertThat(SasSigner.encodeUriComponentStrict("a*b%2A")).isEqualTo("a%2ab%252A");
  }
}
