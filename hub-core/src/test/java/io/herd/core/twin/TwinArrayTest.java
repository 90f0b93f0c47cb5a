package io.herd.core.twin;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TwinArrayTest {
  @Test
  void ofCopiesItsElements() {
    Object[] items = {1L, "a", null};
    TwinArray a = TwinArray.of(items);
    items[0] = 2L;
    assertThat(a.size()).isEqualTo(3);
    assertThat(a.get(0)).isEqualTo(1L);
    assertThat(a.get(2)).isNull();
    assertThat(a).isEqualTo(TwinArray.of(1L, "a", null));
  }
}
