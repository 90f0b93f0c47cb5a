package io.herd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.registry.AccessPolicies;
import io.herd.registry.AccessPolicy;
import io.herd.registry.Permission;
import io.herd.registry.SasAuthenticator;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Service tokens as the SDKs sign them (wire §1.1), checked with openssl and the hub's verifier.
 */
class ServiceTokenTest {
  private static final long EXPIRY = 1_767_225_600L;
  // Bytes 100..131.
  private static final String OWNER_KEY = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=";
  // Bytes 0..31.
  private static final String SERVICE_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  private static final AccessPolicies POLICIES =
      AccessPolicies.of(
          List.of(
              new AccessPolicy(
                  "iothubowner", EnumSet.allOf(Permission.class), OWNER_KEY, SERVICE_KEY),
              new AccessPolicy(
                  "service", EnumSet.of(Permission.SERVICE_CONNECT), SERVICE_KEY, SERVICE_KEY)));

  private static SasAuthenticator verifier(String hubHost) {
    Instant now = Instant.ofEpochSecond(EXPIRY - 60);
    return new SasAuthenticator(POLICIES, hubHost, Clock.fixed(now, ZoneOffset.UTC));
  }

  /**
   * The signature computed independently: {@code printf '%s\n%s' herd.example.net:8443 1767225600 |
   * openssl dgst -sha256 -mac HMAC -macopt hexkey:<key as hex> -binary | base64}.
   */
  @Test
  void signsTheBareHostNameWithItsPortAndNamesThePolicy() {
    assertThat(ServiceToken.create("herd.example.net:8443", "iothubowner", OWNER_KEY, EXPIRY))
        .isEqualTo(
            "SharedAccessSignature sr=herd.example.net:8443"
                + "&sig=MPn8kwLbAw5sY9vx7OKlie8qy8%2Bo65iPlTvx8jJL5Ow%3D"
                + "&se=1767225600&skn=iothubowner");
  }

  @Test
  void theHubAcceptsTheTokenWithOrWithoutAPortInTheHostName() {
    for (String host : List.of("localhost", "localhost:8443")) {
      String token = ServiceToken.create(host, "iothubowner", OWNER_KEY, EXPIRY);
      assertThat(verifier("localhost").authenticateService(token, null, "/devices/d1").name())
          .isEqualTo("iothubowner");
    }
  }

  @Test
  void aTokenSignedWithAnotherPolicysKeyDoesNotVerify() {
    String token = ServiceToken.create("localhost", "service", OWNER_KEY, EXPIRY);
    assertThatThrownBy(() -> verifier("localhost").authenticateService(token, null, "/devices"))
        .hasMessageContaining("signature");
  }
}
