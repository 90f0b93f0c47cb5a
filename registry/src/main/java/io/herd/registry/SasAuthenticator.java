package io.herd.registry;

import io.herd.core.SasSigner;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Base64;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Verifies SAS tokens as IoT Hub does (azure-iothub-wire.md §1.1): HMAC-SHA256 over the raw {@code
 * sr} and {@code se} with the primary, then the secondary key; expiry with five minutes of clock
 * skew; and the audience, which must name this hub and be a per-segment prefix of what is accessed.
 * Verified signatures are cached by token text, so a client that reuses its token (the SDKs do, for
 * up to an hour) costs one map lookup per request.
 */
public final class SasAuthenticator {
  /** The clock skew IoT Hub tolerates on expiry. */
  public static final long MAX_CLOCK_SKEW_SECONDS = 300;

  private static final int CACHE_LIMIT = 100_000;

  private final AccessPolicies policies;
  private final String hostName;
  private final Clock clock;
  private final ConcurrentHashMap<String, Verified> cache = new ConcurrentHashMap<>();

  private record Verified(SasToken token, AccessPolicy policy) {}

  public SasAuthenticator(AccessPolicies policies, String hostName, Clock clock) {
    this.policies = policies;
    this.hostName = stripPort(hostName.toLowerCase(Locale.ROOT));
    this.clock = clock;
  }

  /**
   * Authenticates a service request.
   *
   * @param authorization the {@code Authorization} header
   * @param requestHost the {@code Host} header the client used, accepted as audience besides the
   *     hub's configured name (clients may dial 127.0.0.1 or an alias)
   * @param resourcePath what is accessed, e.g. {@code /devices/d1}; the token's path must be a
   *     per-segment prefix of it
   * @throws io.herd.core.HubException 401 IotHubUnauthorizedAccess saying why
   */
  public Principal authenticateService(
      String authorization, String requestHost, String resourcePath) {
    Verified v = cache.get(authorization == null ? "" : authorization);
    if (v == null) {
      v = verify(authorization);
      if (cache.size() >= CACHE_LIMIT) {
        cache.clear();
      }
      cache.put(authorization, v);
    }
    SasToken token = v.token();
    long now = clock.millis() / 1000;
    if (token.expiry() + MAX_CLOCK_SKEW_SECONDS < now) {
      throw SasToken.unauthorized("the token expired at " + token.expiry() + " (unix seconds)");
    }
    checkAudience(token.resource(), requestHost, resourcePath);
    return new Principal(v.policy().name(), v.policy().permissions());
  }

  private Verified verify(String authorization) {
    SasToken token = SasToken.parse(authorization);
    if (token.keyName() == null) {
      throw SasToken.unauthorized(
          "the service API needs a token signed with a shared access policy (skn)");
    }
    AccessPolicy policy =
        policies
            .find(token.keyName())
            .orElseThrow(
                () ->
                    SasToken.unauthorized(
                        "no shared access policy named '" + token.keyName() + "'"));
    if (!signatureMatches(token, policy.primaryKey())
        && !signatureMatches(token, policy.secondaryKey())) {
      throw SasToken.unauthorized("the signature does not match policy '" + policy.name() + "'");
    }
    return new Verified(token, policy);
  }

  /**
   * Authenticates a device or module connection (MQTT or AMQP password, HTTPS device requests): a
   * token signed with the identity's own key (no {@code skn}), or with a shared access policy that
   * has DeviceConnect. The audience must name this hub (or {@code requestHost}) and cover {@code
   * /devices/{deviceId}} (and {@code /modules/{moduleId}}).
   *
   * @param authentication the identity's credentials, null when the identity does not exist
   * @return the token's expiry in unix seconds, when the connection it opened must end
   * @throws io.herd.core.HubException 401 IotHubUnauthorizedAccess saying why
   */
  public long authenticateDevice(
      String token,
      String deviceId,
      String moduleId,
      Authentication authentication,
      String requestHost) {
    SasToken t = SasToken.parse(token);
    String who = moduleId == null ? "device '" + deviceId + "'" : "module '" + moduleId + "'";
    if (t.keyName() == null) {
      if (authentication == null) {
        throw SasToken.unauthorized(who + " is not registered");
      }
      if (authentication.type() != AuthenticationType.SAS) {
        throw SasToken.unauthorized(
            who + " authenticates with X.509 certificates, not shared access keys");
      }
      if (!signatureMatches(t, authentication.primaryKey())
          && !signatureMatches(t, authentication.secondaryKey())) {
        throw SasToken.unauthorized("the signature does not match the keys of " + who);
      }
    } else {
      AccessPolicy policy =
          policies
              .find(t.keyName())
              .orElseThrow(
                  () ->
                      SasToken.unauthorized("no shared access policy named '" + t.keyName() + "'"));
      if (!policy.permissions().contains(Permission.DEVICE_CONNECT)) {
        throw SasToken.unauthorized("policy '" + policy.name() + "' does not grant DeviceConnect");
      }
      if (!signatureMatches(t, policy.primaryKey())
          && !signatureMatches(t, policy.secondaryKey())) {
        throw SasToken.unauthorized("the signature does not match policy '" + policy.name() + "'");
      }
      if (authentication == null) {
        throw SasToken.unauthorized(who + " is not registered");
      }
    }
    long now = clock.millis() / 1000;
    if (t.expiry() + MAX_CLOCK_SKEW_SECONDS < now) {
      throw SasToken.unauthorized("the token expired at " + t.expiry() + " (unix seconds)");
    }
    String path = "/devices/" + deviceId + (moduleId == null ? "" : "/modules/" + moduleId);
    checkAudience(t.resource(), requestHost, path);
    return t.expiry();
  }

  /** Whether {@code token} was signed with {@code base64Key}. */
  public static boolean signatureMatches(SasToken token, String base64Key) {
    if (base64Key == null) {
      return false;
    }
    String expected = sign(base64Key, token.signedString());
    return MessageDigest.isEqual(
        expected.getBytes(StandardCharsets.US_ASCII),
        token.signature().getBytes(StandardCharsets.US_ASCII));
  }

  /** Base64 HMAC-SHA256 of {@code text} under the base64-encoded key. */
  public static String sign(String base64Key, String text) {
    return SasSigner.sign(Base64.getDecoder().decode(base64Key), text);
  }

  private void checkAudience(String resource, String requestHost, String resourcePath) {
    String lower = resource.toLowerCase(Locale.ROOT);
    int slash = lower.indexOf('/');
    String host = stripPort(slash < 0 ? lower : lower.substring(0, slash));
    String path = slash < 0 ? "" : lower.substring(slash);
    boolean hostOk =
        host.equals(hostName)
            || (requestHost != null
                && host.equals(stripPort(requestHost.toLowerCase(Locale.ROOT))));
    if (!hostOk) {
      throw SasToken.unauthorized("the token's audience '" + resource + "' is not this hub");
    }
    if (!isSegmentPrefix(path, resourcePath.toLowerCase(Locale.ROOT))) {
      throw SasToken.unauthorized(
          "the token's audience '" + resource + "' does not cover " + resourcePath);
    }
  }

  /** {@code /a/b} is a prefix of {@code /a/b/c} but not of {@code /a/bc}. */
  static boolean isSegmentPrefix(String prefix, String path) {
    if (prefix.isEmpty()) {
      return true;
    }
    if (!path.startsWith(prefix)) {
      return false;
    }
    return path.length() == prefix.length() || path.charAt(prefix.length()) == '/';
  }

  private static String stripPort(String host) {
    if (host.startsWith("[")) {
      int end = host.indexOf(']');
      return end > 0 ? host.substring(0, end + 1) : host;
    }
    int colon = host.indexOf(':');
    return colon < 0 || host.indexOf(':', colon + 1) >= 0 ? host : host.substring(0, colon);
  }

  /** Forgets verified tokens, e.g. after keys changed. */
  public void clearCache() {
    cache.clear();
  }
}
