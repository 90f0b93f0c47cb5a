package io.herd.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.core.SasSigner;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * The expected tokens were computed independently with openssl, as scripts/bench/twins signs:
 *
 * <pre>
 * hexkey=$(printf '%s' "$KEY" | base64 -d | xxd -p -c 256)
 * printf '%s\n%s' "$SR" "$SE" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -binary \
 *   | base64 -w0
 * </pre>
 *
 * with {@code SR} the URL-encoded resource as Node's {@code encodeUriComponentStrict} writes it.
 */
class SasSignerTest {

  private static final String HOST = "herd.example.net";
  private static final long EXPIRY = 1_767_225_600L;
  // Bytes 0..31, and bytes 100..131.
  private static final String DEVICE_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  private static final String POLICY_KEY = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=";

  private static byte[] decode(String base64) {
    return Base64.getDecoder().decode(base64);
  }

  @Test
  void signsADeviceTokenWithTheDevicesOwnKey() {
    String token = SasSigner.deviceToken(HOST, "bench-0a1b2c3d-42", decode(DEVICE_KEY), EXPIRY);

    assertThat(token)
        .isEqualTo(
            "SharedAccessSignature sr=herd.example.net%2Fdevices%2Fbench-0a1b2c3d-42"
                + "&sig=L6FJ%2F%2FWzkXRP8np42LoryvNqcLes%2FOE1GZBzh35INJk%3D&se=1767225600");
  }

  @Test
  void signsADeviceTokenWithTheDevicePolicy() {
    String token =
        SasSigner.deviceToken(HOST, "bench-0a1b2c3d-42", "device", decode(POLICY_KEY), EXPIRY);

    assertThat(token)
        .isEqualTo(
            "SharedAccessSignature sr=herd.example.net%2Fdevices%2Fbench-0a1b2c3d-42"
                + "&sig=Gl63mTm7DehUffPZvhn96ETgwjhS%2FK7bXFvBScfnVfc%3D&se=1767225600"
                + "&skn=device");
  }

  @Test
  void encodesTheResourceAsTheNodeSdkDoes() {
    // encodeURIComponent, then !'()* as lower-case escapes; ~ stays.
    assertThat(SasSigner.encodeUriComponentStrict(HOST + "/devices/d!(x)*'~1:2@"))
        .isEqualTo("herd.example.net%2Fdevices%2Fd%21%28x%29%2a%27~1%3A2%40");
    assertThat(SasSigner.deviceToken(HOST, "d!(x)*'~1:2@", decode(DEVICE_KEY), EXPIRY))
        .contains("&sig=Gu3lJ6a3BpKMHeS%2FXWhs%2FlhosApTEoMMPaxGqdgsMy4%3D&");
  }

  @Test
  void herdsVerifierAcceptsADeviceKeyToken() {
    SasToken token =
        SasToken.parse(SasSigner.deviceToken(HOST, "d!(x)*'~1:2@", decode(DEVICE_KEY), EXPIRY));

    assertThat(token.resource()).isEqualTo(HOST + "/devices/d!(x)*'~1:2@");
    assertThat(token.expiry()).isEqualTo(EXPIRY);
    assertThat(token.keyName()).isNull();
    assertThat(SasAuthenticator.signatureMatches(token, DEVICE_KEY)).isTrue();
    assertThat(SasAuthenticator.signatureMatches(token, POLICY_KEY)).isFalse();
  }

  @Test
  void herdsVerifierAcceptsADevicePolicyToken() {
    SasToken token =
        SasToken.parse(
            SasSigner.deviceToken(HOST, "bench-7", "device", decode(POLICY_KEY), EXPIRY));

    assertThat(token.resource()).isEqualTo(HOST + "/devices/bench-7");
    assertThat(token.keyName()).isEqualTo("device");
    assertThat(SasAuthenticator.signatureMatches(token, POLICY_KEY)).isTrue();
  }

  @Test
  void herdsVerifierAcceptsAServiceToken() {
    SasToken token =
        SasToken.parse(SasSigner.serviceToken(HOST, "iothubowner", decode(POLICY_KEY), EXPIRY));

    assertThat(token.resource()).isEqualTo(HOST);
    assertThat(token.keyName()).isEqualTo("iothubowner");
    assertThat(SasAuthenticator.signatureMatches(token, POLICY_KEY)).isTrue();
  }
}
