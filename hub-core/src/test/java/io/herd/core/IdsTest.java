package io.herd.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class IdsTest {
  @Test
  void acceptsEveryCharacterIotHubAllows() {
    assertThat(Ids.isValid("Az09-:.+%_#*?!(),=@;$'")).isTrue();
    assertThat(Ids.isValid("x".repeat(128))).isTrue();
  }

  @Test
  void rejectsEmptyTooLongAndForbiddenCharacters() {
    assertThat(Ids.isValid("")).isFalse();
    assertThat(Ids.isValid(null)).isFalse();
    assertThat(Ids.isValid("x".repeat(129))).isFalse();
    assertThat(Ids.isValid("a/b")).isFalse();
    assertThat(Ids.isValid("a b")).isFalse();
    assertThat(Ids.isValid("caf\u00e9")).isFalse();
    assertThat(Ids.isValid("a\"b")).isFalse();
  }

  @Test
  void errorNamesTheFieldAndThePosition() {
    assertThatThrownBy(() -> Ids.require("deviceId", "ab/c"))
        .isInstanceOf(HubException.class)
        .hasMessageContaining("deviceId")
        .hasMessageContaining("position 2")
        .extracting(e -> ((HubException) e).errorCode())
        .isEqualTo(ErrorCode.ARGUMENT_INVALID);
  }
}
