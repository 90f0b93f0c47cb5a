package io.herd.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EtagsTest {
  @Test
  void quotedUnquotedAndWeakFormsMatchTheSameEtag() {
    assertThat(Etags.matches("\"MQ==\"", "MQ==")).isTrue();
    assertThat(Etags.matches("MQ==", "MQ==")).isTrue();
    assertThat(Etags.matches("W/\"MQ==\"", "MQ==")).isTrue();
    assertThat(Etags.matches("\"Mg==\"", "MQ==")).isFalse();
  }

  @Test
  void absentAndStarMatchAnything() {
    assertThat(Etags.matches(null, "x")).isTrue();
    assertThat(Etags.matches("*", "x")).isTrue();
    assertThat(Etags.matches("\"*\"", "x")).isTrue();
  }
}
