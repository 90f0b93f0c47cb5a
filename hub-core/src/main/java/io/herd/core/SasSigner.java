package io.herd.core;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs SAS tokens as the Azure IoT SDKs do, for the clients Herd ships (simulator, load
 * generators, CLI) (azure-iothub-wire.md §1.1): {@code sig} is the base64 HMAC-SHA256, under the
 * decoded key, of {@code sr} exactly as it appears in the token, a newline and {@code se}.
 */
public final class SasSigner {

  private static final String SCHEME = "SharedAccessSignature ";

  private SasSigner() {}

  /**
   * A device token signed with the device's own symmetric key: {@code sr} is {@code
   * hostName/devices/deviceId} URL-encoded, no {@code skn}.
   */
  public static String deviceToken(
      String hostName, String deviceId, byte[] deviceKey, long expiry) {
    return token(deviceResource(hostName, deviceId), deviceKey, expiry, null);
  }

  /**
   * A device token signed with a shared access policy that has DeviceConnect (the built-in {@code
   * device} policy): the device's {@code sr} and {@code skn=policy}.
   */
  public static String deviceToken(
      String hostName, String deviceId, String policy, byte[] policyKey, long expiry) {
    return token(deviceResource(hostName, deviceId), policyKey, expiry, policy);
  }

  /** A service token: {@code sr} is the bare host name, signed as is, and {@code skn=policy}. */
  public static String serviceToken(String hostName, String policy, byte[] policyKey, long expiry) {
    return token(hostName, policyKey, expiry, policy);
  }

  /** Base64 HMAC-SHA256 of {@code text} (UTF-8) under {@code key}. */
  public static String sign(byte[] key, String text) {
    return Base64.getEncoder().encodeToString(hmac(key, text));
  }

  /** HMAC-SHA256 of {@code text} (UTF-8) under {@code key}. */
  public static byte[] hmac(byte[] key, String text) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(text.getBytes(UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  /**
   * The {@code sr} of a device's token, {@code hostName/devices/deviceId} URL-encoded: also the
   * audience of its AMQP put-token (wire §3.2), e.g. {@code localhost%3A8443%2Fdevices%2Fd1}.
   */
  public static String deviceResource(String hostName, String deviceId) {
    return encodeUriComponentStrict(hostName + "/devices/" + deviceId);
  }

  private static String token(String resource, byte[] key, long expiry, String policy) {
    String se = Long.toString(expiry);
    StringBuilder sb =
        new StringBuilder(SCHEME)
            .append("sr=")
            .append(resource)
            .append("&sig=")
            .append(encodeUriComponentStrict(sign(key, resource + "\n" + se)))
            .append("&se=")
            .append(se);
    if (policy != null) {
      sb.append("&skn=").append(encodeUriComponentStrict(policy));
    }
    return sb.toString();
  }

  /**
   * JavaScript's {@code encodeURIComponent} followed by the SDK's extra escapes of {@code !'()*}
   * with lower-case hex: letters, digits and {@code -_.~} stay, everything else becomes {@code %XX}
   * of its UTF-8 bytes. That is {@link PercentEncoding#unreserved} but for {@code *}, whose hex is
   * the only one of the five with a letter; the case matters, as {@code sr} is signed as written.
   */
  public static String encodeUriComponentStrict(String s) {
    // Only a '*' becomes "%2A": a '%' is encoded as "%25".
    return PercentEncoding.unreserved(s).replace("%2A", "%2a");
  }
}
