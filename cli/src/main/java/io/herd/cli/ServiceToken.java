package io.herd.cli;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Service SAS tokens as the Azure service SDK makes them (azure-iothub-wire.md §1.1): {@code sr} is
 * the connection string's {@code HostName}, unencoded; {@code sig} the base64 HMAC-SHA256, under
 * the decoded policy key, of {@code sr + "\n" + se}; {@code skn} the policy name.
 */
final class ServiceToken {
  private ServiceToken() {}

  static String create(String hostName, String keyName, String base64Key, long expiry) {
    String se = Long.toString(expiry);
    String sig = sign(base64Key, hostName + "\n" + se);
    return "SharedAccessSignature sr="
        + hostName
        + "&sig="
        + Urls.encode(sig)
        + "&se="
        + se
        + "&skn="
        + Urls.encode(keyName);
  }

  /** Base64 HMAC-SHA256 of {@code text} (UTF-8) under the base64-encoded key. */
  static String sign(String base64Key, String text) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(Base64.getDecoder().decode(base64Key), "HmacSHA256"));
      return Base64.getEncoder().encodeToString(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }
}
