package io.herd.core.amqp;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AmqpConstructorsTest {
  @Test
  void fixedWidthTypesTellTheirWidth() {
    assertThat(AmqpConstructors.width(0x40)).as("null").isZero();
    assertThat(AmqpConstructors.width(0x56)).as("boolean").isEqualTo(1);
    assertThat(AmqpConstructors.width(0x60)).as("ushort").isEqualTo(2);
    assertThat(AmqpConstructors.width(0x70)).as("uint").isEqualTo(4);
    assertThat(AmqpConstructors.width(0x83)).as("timestamp").isEqualTo(8);
    assertThat(AmqpConstructors.width(0x98)).as("uuid").isEqualTo(16);
  }

  @Test
  void variableWidthTypesSayWhereTheirSizeIs() {
    assertThat(AmqpConstructors.width(0xa0))
        .as("vbin8")
        .isEqualTo(AmqpConstructors.SIZE_IN_ONE_BYTE);
    assertThat(AmqpConstructors.width(0xc1))
        .as("map8")
        .isEqualTo(AmqpConstructors.SIZE_IN_ONE_BYTE);
    assertThat(AmqpConstructors.width(0xe0))
        .as("array8")
        .isEqualTo(AmqpConstructors.SIZE_IN_ONE_BYTE);
    assertThat(AmqpConstructors.width(0xb1))
        .as("str32")
        .isEqualTo(AmqpConstructors.SIZE_IN_FOUR_BYTES);
    assertThat(AmqpConstructors.width(0xd0))
        .as("list32")
        .isEqualTo(AmqpConstructors.SIZE_IN_FOUR_BYTES);
    assertThat(AmqpConstructors.width(0xf0))
        .as("array32")
        .isEqualTo(AmqpConstructors.SIZE_IN_FOUR_BYTES);
  }

  @Test
  void describedValuesAndUnusedNibblesAreNotPrimitive() {
    assertThat(AmqpConstructors.width(0x00)).isEqualTo(AmqpConstructors.NOT_PRIMITIVE);
    assertThat(AmqpConstructors.width(0x10)).isEqualTo(AmqpConstructors.NOT_PRIMITIVE);
    assertThat(AmqpConstructors.width(0x30)).isEqualTo(AmqpConstructors.NOT_PRIMITIVE);
  }
}
