package io.herd.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.core.HubException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class SasAuthenticatorTest {
  private static final String PRIMARY = "c2VydmljZS1wcmltYXJ5LWtleS0xMjM0NTY3ODkwMTI=";
  private static final String SECONDARY = "c2VydmljZS1zZWNvbmRhcnkta2V5LTEyMzQ1Njc4OTA=";
  private static final long NOW = 1_700_000_000L;

  private final AccessPolicies policies =
      AccessPolicies.of(
          List.of(
              new AccessPolicy("iothubowner", EnumSet.allOf(Permission.class), PRIMARY, SECONDARY),
              new AccessPolicy(
                  "registryRead", EnumSet.of(Permission.REGISTRY_READ), SECONDARY, PRIMARY)));
  private final SasAuthenticator auth =
      new SasAuthenticator(
          policies, "hub.local", Clock.fixed(Instant.ofEpochSecond(NOW), ZoneOffset.UTC));

  /** Signs like the Node SDK: sr as given (service tokens are not URL-encoded). */
  static String token(String sr, String key, long se, String skn) {
    String sig = SasAuthenticator.sign(key, sr + "\n" + se);
    return "SharedAccessSignature sr="
        + sr
        + "&sig="
        + URLEncoder.encode(sig, StandardCharsets.UTF_8)
        + "&se="
        + se
        + (skn == null ? "" : "&skn=" + skn);
  }

  @Test
  void acceptsAServiceTokenSignedWithEitherKey() {
    Principal p =
        auth.authenticateService(
            token("hub.local", PRIMARY, NOW + 3600, "iothubowner"), null, "/devices/d1");
    assertThat(p.name()).isEqualTo("iothubowner");
    assertThat(p.permissions()).containsExactlyInAnyOrder(Permission.values());
    assertThat(
            auth.authenticateService(
                    token("hub.local", SECONDARY, NOW + 3600, "iothubowner"), null, "/devices")
                .name())
        .isEqualTo("iothubowner");
  }

  @Test
  void signatureCoversTheRawUrlEncodedResource() {
    String sr = "hub.local%2Fdevices%2Fd1";
    Principal p =
        auth.authenticateService(token(sr, PRIMARY, NOW + 60, "iothubowner"), null, "/devices/d1");
    assertThat(p.name()).isEqualTo("iothubowner");
  }

  @Test
  void toleratesFiveMinutesOfClockSkewButNoMore() {
    assertThat(
            auth.authenticateService(
                token("hub.local", PRIMARY, NOW - 299, "iothubowner"), null, "/devices"))
        .isNotNull();
    assertThatThrownBy(
            () ->
                auth.authenticateService(
                    token("hub.local", PRIMARY, NOW - 301, "iothubowner"), null, "/devices"))
        .isInstanceOf(HubException.class)
        .hasMessageContaining("expired");
  }

  @Test
  void rejectsWrongKeyUnknownPolicyAndDeviceTokens() {
    String wrongKey = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktMTI=";
    assertThatThrownBy(
            () ->
                auth.authenticateService(
                    token("hub.local", wrongKey, NOW + 60, "iothubowner"), null, "/devices"))
        .hasMessageContaining("signature does not match");
    assertThatThrownBy(
            () ->
                auth.authenticateService(
                    token("hub.local", PRIMARY, NOW + 60, "nobody"), null, "/devices"))
        .hasMessageContaining("no shared access policy named 'nobody'");
    assertThatThrownBy(
            () ->
                auth.authenticateService(
                    token("hub.local%2Fdevices%2Fd1", PRIMARY, NOW + 60, null),
                    null,
                    "/devices/d1"))
        .hasMessageContaining("shared access policy");
  }

  @Test
  void audienceMustNameThisHubAndCoverThePathBySegment() {
    assertThatThrownBy(
            () ->
                auth.authenticateService(
                    token("other.hub", PRIMARY, NOW + 60, "iothubowner"), null, "/devices"))
        .hasMessageContaining("is not this hub");
    // The Host header the client dialled is an accepted audience too; a port is ignored.
    assertThat(
            auth.authenticateService(
                token("127.0.0.1", PRIMARY, NOW + 60, "iothubowner"), "127.0.0.1", "/devices"))
        .isNotNull();
    assertThat(
            auth.authenticateService(
                token("hub.local:8443", PRIMARY, NOW + 60, "iothubowner"), null, "/devices"))
        .isNotNull();
    String scoped = token("hub.local%2Fdevices%2Fd1", PRIMARY, NOW + 60, "iothubowner");
    assertThat(auth.authenticateService(scoped, null, "/devices/d1/modules/m")).isNotNull();
    assertThatThrownBy(() -> auth.authenticateService(scoped, null, "/devices/d10"))
        .hasMessageContaining("does not cover");
  }

  @Test
  void segmentPrefixRule() {
    assertThat(SasAuthenticator.isSegmentPrefix("/a/b", "/a/b/c")).isTrue();
    assertThat(SasAuthenticator.isSegmentPrefix("/a/b", "/a/b")).isTrue();
    assertThat(SasAuthenticator.isSegmentPrefix("/a/b", "/a/bc")).isFalse();
    assertThat(SasAuthenticator.isSegmentPrefix("", "/x")).isTrue();
  }

  @Test
  void missingPermissionIsUnauthorizedAndNamesIt() {
    Principal p =
        auth.authenticateService(
            token("hub.local", SECONDARY, NOW + 60, "registryRead"), null, "/devices");
    p.require(Permission.REGISTRY_READ);
    assertThatThrownBy(() -> p.require(Permission.REGISTRY_WRITE))
        .isInstanceOf(HubException.class)
        .hasMessageContaining("RegistryWrite");
  }

  @Test
  void aCachedTokenStillExpires() {
    long[] now = {NOW};
    Clock moving =
        new Clock() {
          @Override
          public ZoneOffset getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(java.time.ZoneId zone) {
            return this;
          }

          @Override
          public Instant instant() {
            return Instant.ofEpochSecond(now[0]);
          }
        };
    SasAuthenticator a = new SasAuthenticator(policies, "hub.local", moving);
    String t = token("hub.local", PRIMARY, NOW + 10, "iothubowner");
    assertThat(a.authenticateService(t, null, "/devices")).isNotNull();
    now[0] = NOW + 400;
    assertThatThrownBy(() -> a.authenticateService(t, null, "/devices"))
        .hasMessageContaining("expired");
  }
}
