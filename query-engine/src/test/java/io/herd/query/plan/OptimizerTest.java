package io.herd.query.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.query.parse.Parser;
import org.junit.jupiter.api.Test;

class OptimizerTest {
  private static String optimize(String condition) {
    return Optimizer.optimize(Binder.bindCondition(Parser.parseCondition(condition))).toString();
  }

  @Test
  void foldsConstants() {
    assertThat(optimize("tags.x = 2 * 3 + 1")).isEqualTo("(tags.x = 7)");
    assertThat(optimize("tags.x = LOWER('AbC')")).isEqualTo("(tags.x = 'abc')");
    assertThat(optimize("1 = 1")).isEqualTo("true");
    assertThat(optimize("1 = 'a'")).isEqualTo("false");
    assertThat(optimize("1 / 0 = 1")).isEqualTo("undefined");
  }

  @Test
  void flattensAndShortCircuits() {
    assertThat(optimize("(tags.a = 1 AND tags.b = 2) AND tags.c = 3"))
        .isEqualTo("((tags.a = 1) AND (tags.b = 2) AND (tags.c = 3))");
    assertThat(optimize("tags.a = 1 AND 1 = 2")).isEqualTo("false");
    assertThat(optimize("tags.a = 1 OR 2 = 2")).isEqualTo("true");
    assertThat(optimize("tags.a = 1 AND 2 = 2")).isEqualTo("(tags.a = 1)");
  }

  @Test
  void keepsNeutralConstantsNextToNonBooleanOperands() {
    // true AND 'x' is undefined, not 'x'
    assertThat(optimize("true AND tags.a")).isEqualTo("(true AND tags.a)");
  }

  @Test
  void putsCheapTestsFirst() {
    assertThat(
            optimize("STARTSWITH(properties.reported.fw, '1') AND tags.a.b = 1 AND deviceId = 'd'"))
        .isEqualTo(
            "((deviceId = 'd') AND (tags.a.b = 1) AND STARTSWITH(properties.reported.fw, '1'))");
  }
}
