package io.herd.adapter.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PropertyBagTest {
  @Test
  void decodesPercentEncodedKeysAndValuesInOrder() {
    assertThat(PropertyBag.decode("%24.mid=m1&%24.ct=application%2Fjson&temp=21&x%20y=%C3%A9"))
        .containsExactly(
            Map.entry("$.mid", "m1"),
            Map.entry("$.ct", "application/json"),
            Map.entry("temp", "21"),
            Map.entry("x y", "é"));
  }

  @Test
  void keepsPlusSignsAndTellsBareKeysFromEmptyValues() {
    Map<String, String> bag = PropertyBag.decode("a=1+2&bare&empty=&&");
    assertThat(bag).containsEntry("a", "1+2").containsEntry("empty", "");
    assertThat(bag).containsKey("bare");
    assertThat(bag.get("bare")).isNull();
    assertThat(bag).hasSize(3);
  }

  @Test
  void emptyBagIsEmpty() {
    assertThat(PropertyBag.decode("")).isEmpty();
    assertThat(PropertyBag.decode(null)).isEmpty();
  }

  @Test
  void brokenEscapesSayWhere() {
    assertThatThrownBy(() -> PropertyBag.decode("a=%2"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("offset 2");
    assertThatThrownBy(() -> PropertyBag.decode("a=%zz"))
        .hasMessageContaining("invalid percent escape");
  }

  @Test
  void encodesLikeEncodeUriComponentAndRoundTrips() {
    Map<String, String> in = new LinkedHashMap<>();
    in.put("$.mid", "id 1");
    in.put("k&=", "v/é*");
    String encoded = PropertyBag.encode(in);
    assertThat(encoded).isEqualTo("%24.mid=id%201&k%26%3D=v%2F%C3%A9*");
    assertThat(PropertyBag.decode(encoded)).isEqualTo(in);
  }
}
