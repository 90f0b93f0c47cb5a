package io.herd.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.core.ErrorCode;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class RestErrorsTest {
  @Test
  void bodyHasTheLegacyShapeTheNodeSdkSplits() {
    JsonObject body = RestErrors.body(ErrorCode.DEVICE_NOT_FOUND, "Device d1 not found", "abc123");
    String message = body.getString("Message");
    // Node: Message.split(';')[0].split(':')[1] is the error name.
    assertThat(message.split(";")[0].split(":")[1]).isEqualTo("DeviceNotFound");
    assertThat(body.getString("ExceptionMessage"))
        .matches("Tracking ID:abc123-G:0-TimeStamp:\\d{2}/\\d{2}/\\d{4} \\d{2}:\\d{2}:\\d{2}");
    assertThat(body.getInteger("errorCode")).isEqualTo(404001);
  }

  @Test
  void semicolonsInTheTextCannotShiftTheErrorName() {
    JsonObject body = RestErrors.body(ErrorCode.ARGUMENT_INVALID, "bad; worse", "t");
    assertThat(body.getString("Message")).isEqualTo("ErrorCode:ArgumentInvalid;bad, worse");
  }
}
