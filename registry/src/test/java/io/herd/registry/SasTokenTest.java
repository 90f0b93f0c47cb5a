package io.herd.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import org.junit.jupiter.api.Test;

class SasTokenTest {
  @Test
  void parsesFieldsInAnyOrderAndKeepsRawResource() {
    SasToken t =
        SasToken.parse(
            "SharedAccessSignature se=1700000000&SKN=iothubowner&sr=hub%2Fdevices%2Fd1&sig=a%2Bb%3D");
    assertThat(t.resourceRaw()).isEqualTo("hub%2Fdevices%2Fd1");
    assertThat(t.resource()).isEqualTo("hub/devices/d1");
    assertThat(t.signature()).isEqualTo("a+b=");
    assertThat(t.expiry()).isEqualTo(1700000000L);
    assertThat(t.keyName()).isEqualTo("iothubowner");
    assertThat(t.signedString()).isEqualTo("hub%2Fdevices%2Fd1\n1700000000");
  }

  @Test
  void deviceTokensHaveNoKeyName() {
    assertThat(SasToken.parse("SharedAccessSignature sr=h&sig=x&se=1").keyName()).isNull();
  }

  @Test
  void rejectsGarbageWithAReason() {
    assertUnauthorized(null, "missing");
    assertUnauthorized("Bearer abc", "must start with");
    assertUnauthorized("SharedAccessSignature", "must start with");
    assertUnauthorized("SharedAccessSignature sig=x&se=1", "'sr'");
    assertUnauthorized("SharedAccessSignature sr=h&se=1", "'sig'");
    assertUnauthorized("SharedAccessSignature sr=h&sig=x", "'se'");
    assertUnauthorized("SharedAccessSignature sr=h&sig=x&se=soon", "number");
    assertUnauthorized("SharedAccessSignature sr=h%ZZ&sig=x&se=1", "URL encoding");
  }

  private static void assertUnauthorized(String token, String why) {
    assertThatThrownBy(() -> SasToken.parse(token))
        .isInstanceOf(HubException.class)
        .hasMessageContaining(why)
        .extracting(e -> ((HubException) e).errorCode())
        .isEqualTo(ErrorCode.IOT_HUB_UNAUTHORIZED_ACCESS);
  }
}
