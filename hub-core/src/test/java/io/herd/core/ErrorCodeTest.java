package io.herd.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ErrorCodeTest {
  @Test
  void httpStatusIsTheCodesFirstThreeDigits() {
    assertThat(ErrorCode.DEVICE_NOT_FOUND.httpStatus()).isEqualTo(404);
    assertThat(ErrorCode.DEVICE_ALREADY_EXISTS.httpStatus()).isEqualTo(409);
    assertThat(ErrorCode.PRECONDITION_FAILED.httpStatus()).isEqualTo(412);
    assertThat(ErrorCode.IOT_HUB_UNAUTHORIZED_ACCESS.httpStatus()).isEqualTo(401);
    assertThat(ErrorCode.MESSAGE_TOO_LARGE.httpStatus()).isEqualTo(413);
  }

  @Test
  void codesAndNamesAreUnique() {
    Set<Integer> codes = new HashSet<>();
    Set<String> names = new HashSet<>();
    for (ErrorCode c : ErrorCode.values()) {
      assertThat(codes.add(c.code())).as("code %s", c.code()).isTrue();
      assertThat(names.add(c.wireName())).as("name %s", c.wireName()).isTrue();
      assertThat(c.code()).isBetween(400000, 599999);
    }
  }

  @Test
  void everyCodeHasAnAmqpCondition() {
    for (ErrorCode c : ErrorCode.values()) {
      assertThat(c.amqpCondition()).matches("(amqp|com\\.microsoft):[a-z:-]+");
    }
  }
}
