package io.herd.registry;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A parsed {@code SharedAccessSignature sr=..&sig=..&se=..[&skn=..]} token (azure-iothub-wire.md
 * §1.1). Fields may come in any order and keys in any case. {@code sr} is kept exactly as sent
 * because the signature covers those bytes.
 *
 * @param resourceRaw {@code sr} as transmitted, still URL-encoded
 * @param resource {@code sr} URL-decoded, trailing slash removed
 * @param signature {@code sig} URL-decoded (base64)
 * @param expiryRaw {@code se} as transmitted, part of the signed string
 * @param keyName {@code skn} URL-decoded, or null for tokens signed with an identity's own key
 */
public record SasToken(
    String resourceRaw,
    String resource,
    String signature,
    String expiryRaw,
    long expiry,
    String keyName) {

  private static final String SCHEME = "SharedAccessSignature";

  /** Parses a token; fails with 401 IotHubUnauthorizedAccess saying what is wrong. */
  public static SasToken parse(String token) {
    if (token == null || token.isBlank()) {
      throw unauthorized("missing SharedAccessSignature");
    }
    String t = token.trim();
    int space = indexOfWhitespace(t);
    if (space < 0 || !t.substring(0, space).equals(SCHEME)) {
      throw unauthorized("the token must start with 'SharedAccessSignature '");
    }
    String sr = null;
    String sig = null;
    String se = null;
    String skn = null;
    for (String field : t.substring(space).trim().split("&")) {
      int eq = field.indexOf('=');
      if (eq <= 0) {
        continue;
      }
      String key = field.substring(0, eq).trim().toLowerCase(Locale.ROOT);
      String value = field.substring(eq + 1);
      switch (key) {
        case "sr" -> sr = value;
        case "sig" -> sig = decode(value, "sig");
        case "se" -> se = value;
        case "skn" -> skn = decode(value, "skn");
        default -> {
          // Unknown fields are ignored, as the reference parser does.
        }
      }
    }
    if (sr == null || sr.isEmpty()) {
      throw unauthorized("the token has no 'sr' (resource) field");
    }
    if (sig == null || sig.isEmpty()) {
      throw unauthorized("the token has no 'sig' (signature) field");
    }
    if (se == null || se.isEmpty()) {
      throw unauthorized("the token has no 'se' (expiry) field");
    }
    long expiry;
    try {
      expiry = Long.parseLong(se);
    } catch (NumberFormatException e) {
      throw unauthorized("the token's 'se' is not a number of seconds");
    }
    String resource = decode(sr, "sr");
    while (resource.endsWith("/")) {
      resource = resource.substring(0, resource.length() - 1);
    }
    return new SasToken(sr, resource, sig, se, expiry, skn == null || skn.isEmpty() ? null : skn);
  }

  /** The string the signature is computed over: raw {@code sr}, newline, raw {@code se}. */
  public String signedString() {
    return resourceRaw + "\n" + expiryRaw;
  }

  private static int indexOfWhitespace(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isWhitespace(s.charAt(i))) {
        return i;
      }
    }
    return -1;
  }

  private static String decode(String value, String field) {
    try {
      return URLDecoder.decode(value, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw unauthorized("the token's '" + field + "' is not valid URL encoding");
    }
  }

  static HubException unauthorized(String why) {
    return new HubException(ErrorCode.IOT_HUB_UNAUTHORIZED_ACCESS, "Unauthorized: " + why);
  }
}
