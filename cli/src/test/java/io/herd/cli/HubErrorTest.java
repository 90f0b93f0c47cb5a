package io.herd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HubErrorTest {
  @Test
  void readsHerdsLegacyBodyWithItsNumber() {
    HubError e =
        HubError.of(
            404,
            "DeviceNotFound",
            "{\"Message\":\"ErrorCode:DeviceNotFound;Device nope not found\","
                + "\"ExceptionMessage\":\"Tracking ID:abc-G:0-TimeStamp:01/02/2026 03:04:05\","
                + "\"errorCode\":404001,\"trackingId\":\"abc\"}");
    assertThat(e.describe()).isEqualTo("error: DeviceNotFound (404001): Device nope not found");
  }

  @Test
  void takesTheNumberFromTheNameWhenTheBodyHasNone() {
    HubError e = HubError.of(409, null, "{\"Message\":\"ErrorCode:DeviceAlreadyExists;Conflict\"}");
    assertThat(e.codeName()).isEqualTo("DeviceAlreadyExists");
    assertThat(e.code()).isEqualTo(409001);
    assertThat(e.getMessage()).isEqualTo("Conflict");
  }

  @Test
  void readsTheNewerJsonInAStringForm() {
    HubError e =
        HubError.of(
            404,
            "DeviceNotOnline",
            "{\"Message\":\"{\\\"errorCode\\\":404103,\\\"trackingId\\\":\\\"t\\\","
                + "\\\"message\\\":\\\"Timed out waiting for device to connect.\\\"}\"}");
    assertThat(e.describe())
        .isEqualTo("error: DeviceNotOnline (404103): Timed out waiting for device to connect.");
  }

  @Test
  void fallsBackToTheStatusForBodiesItCannotRead() {
    HubError e = HubError.of(502, null, "<html>Bad Gateway</html>");
    assertThat(e.code()).isEqualTo(502000);
    assertThat(e.getMessage()).isEqualTo("<html>Bad Gateway</html>");
    HubError empty = HubError.of(404, null, "");
    assertThat(empty.describe()).isEqualTo("error: GenericNotFound (404000): HTTP 404");
  }
}
