package io.herd.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.registry.internal.X509Certificates;
import io.herd.testkit.TestPki;
import io.herd.testkit.TestPki.Issued;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class X509AuthenticatorTest {
  private static final Instant NOW = Instant.now();

  private static final Issued ROOT = TestPki.certificate("Herd Test Root").ca().build();
  private static final Issued INTERMEDIATE =
      TestPki.certificate("Herd Test Intermediate").ca().issuedBy(ROOT).build();
  private static final Issued OTHER_ROOT = TestPki.certificate("Unregistered Root").ca().build();

  /** Valid for a day only, so a clock two days on finds it expired but its leaves valid. */
  private static final Issued SHORT_ROOT =
      TestPki.certificate("Short-lived Root")
          .ca()
          .validity(NOW.minus(Duration.ofHours(1)), NOW.plus(Duration.ofDays(1)))
          .build();

  private static final Issued SELF = TestPki.certificate("self-dev").build();
  private static final Issued SELF_SECONDARY = TestPki.certificate("self-dev").build();
  private static final Issued SELF_EXPIRED =
      TestPki.certificate("self-dev")
          .validity(NOW.minus(Duration.ofDays(10)), NOW.minus(Duration.ofDays(1)))
          .build();

  private static Vertx vertx;
  private static DeviceRegistry registry;
  private static CertificateAuthorities authorities;
  private static X509Authenticator auth;

  @BeforeAll
  static void setUp() {
    vertx = Vertx.vertx();
    registry = Future.await(DeviceRegistry.open(vertx, new FakeIdentityStore()));
    authorities = Future.await(CertificateAuthorities.open(vertx, new FakeCertificateStore()));
    Future.await(authorities.put("root", ROOT.pem(), null));
    Future.await(authorities.put("short", SHORT_ROOT.pem(), null));
    auth = new X509Authenticator(registry, authorities, Clock.fixed(NOW, ZoneOffset.UTC));

    String sha1 = X509Certificates.sha1Thumbprint(SELF.certificate());
    String sha256 = X509Certificates.sha256Thumbprint(SELF_SECONDARY.certificate());
    create("self-dev", selfSigned(sha1, sha256));
    create(
        "self-expired",
        selfSigned(X509Certificates.sha1Thumbprint(SELF_EXPIRED.certificate()), null));
    create("ca-dev", ca());
    create("sas-dev", Authentication.sas(null, null));
    createDisabled("off-dev", selfSigned(sha1, null));
    Future.await(registry.createModule(new ModuleSpec("ca-dev", "m1", null, ca())));
    Future.await(registry.createModule(new ModuleSpec("off-dev", "m1", null, ca())));
  }

  @AfterAll
  static void tearDown() {
    Future.await(vertx.close());
  }

  private static Authentication selfSigned(String primary, String secondary) {
    return new Authentication(AuthenticationType.SELF_SIGNED, null, null, primary, secondary);
  }

  private static Authentication ca() {
    return new Authentication(AuthenticationType.CERTIFICATE_AUTHORITY, null, null, null, null);
  }

  private static void create(String id, Authentication a) {
    Future.await(
        registry.create(new DeviceSpec(id, DeviceStatus.ENABLED, null, a, false, null, List.of())));
  }

  private static void createDisabled(String id, Authentication a) {
    Future.await(
        registry.create(
            new DeviceSpec(id, DeviceStatus.DISABLED, "stolen", a, false, null, List.of())));
  }

  private static Issued deviceCert(String cn, Issued issuer) {
    return TestPki.certificate(cn).issuedBy(issuer).clientAuth().build();
  }

  private static List<X509Certificate> chain(Issued... certs) {
    return java.util.Arrays.stream(certs).map(Issued::certificate).toList();
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> assertRejected(
      X509Authenticator a, String device, String module, List<X509Certificate> chain) {
    return assertThatThrownBy(() -> a.authenticate(device, module, chain))
        .isInstanceOfSatisfying(
            HubException.class,
            e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.IOT_HUB_UNAUTHORIZED_ACCESS));
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> assertRejected(
      String device, String module, List<X509Certificate> chain) {
    return assertRejected(auth, device, module, chain);
  }

  // ---- selfSigned

  @Test
  void acceptsSelfSignedCertificateByPrimarySha1Thumbprint() {
    X509Identity id = auth.authenticate("self-dev", null, chain(SELF));
    assertThat(id.deviceId()).isEqualTo("self-dev");
    assertThat(id.moduleId()).isNull();
    assertThat(id.type()).isEqualTo(AuthenticationType.SELF_SIGNED);
    assertThat(id.caName()).isNull();
    assertThat(id.notAfter()).isEqualTo(SELF.certificate().getNotAfter().toInstant());
  }

  @Test
  void acceptsSelfSignedCertificateBySecondarySha256Thumbprint() {
    assertThat(auth.authenticate("self-dev", null, chain(SELF_SECONDARY)).deviceId())
        .isEqualTo("self-dev");
  }

  @Test
  void comparesThumbprintsIgnoringCase() {
    String lower = X509Certificates.sha256Thumbprint(SELF.certificate()).toLowerCase(Locale.ROOT);
    create("self-lower", selfSigned(lower, null));
    assertThat(auth.authenticate("self-lower", null, chain(SELF)).deviceId())
        .isEqualTo("self-lower");
  }

  @Test
  void rejectsSelfSignedCertificateWhoseThumbprintMatchesNeither() {
    Issued stranger = TestPki.certificate("self-dev").build();
    assertRejected("self-dev", null, chain(stranger))
        .hasMessageContaining("matches neither registered thumbprint");
  }

  @Test
  void rejectsExpiredSelfSignedCertificateEvenWhenItsThumbprintMatches() {
    assertRejected("self-expired", null, chain(SELF_EXPIRED)).hasMessageContaining("expired at");
  }

  @Test
  void rejectsSelfSignedCertificateBeforeItsValidityStarts() {
    X509Authenticator early =
        new X509Authenticator(
            registry, authorities, Clock.fixed(NOW.minus(Duration.ofDays(1)), ZoneOffset.UTC));
    assertRejected(early, "self-dev", null, chain(SELF)).hasMessageContaining("not valid before");
  }

  // ---- identity state

  @Test
  void rejectsDisabledDeviceEvenWithMatchingCertificate() {
    assertRejected("off-dev", null, chain(SELF)).hasMessageContaining("disabled");
  }

  @Test
  void rejectsModuleOfDisabledDevice() {
    assertRejected("off-dev", "m1", chain(deviceCert("off-dev/m1", ROOT)))
        .hasMessageContaining("device 'off-dev' is disabled");
  }

  @Test
  void rejectsUnknownDeviceAndUnknownModule() {
    assertRejected("ghost", null, chain(SELF)).hasMessageContaining("'ghost' is not registered");
    assertRejected("ca-dev", "ghost", chain(deviceCert("ca-dev/ghost", ROOT)))
        .hasMessageContaining("module 'ca-dev/ghost' is not registered");
    assertRejected(null, null, chain(SELF)).hasMessageContaining("not registered");
  }

  @Test
  void rejectsConnectionWithoutClientCertificate() {
    assertRejected("self-dev", null, List.of()).hasMessageContaining("no client certificate");
    assertRejected("self-dev", null, null).hasMessageContaining("no client certificate");
  }

  @Test
  void rejectsSasDeviceWhateverCertificateItPresents() {
    assertRejected("sas-dev", null, chain(deviceCert("sas-dev", ROOT)))
        .hasMessageContaining("uses SAS keys");
  }

  // ---- certificateAuthority

  @Test
  void acceptsCaSignedCertificateWhoseCommonNameIsTheDeviceId() {
    X509Identity id = auth.authenticate("ca-dev", null, chain(deviceCert("ca-dev", ROOT)));
    assertThat(id.type()).isEqualTo(AuthenticationType.CERTIFICATE_AUTHORITY);
    assertThat(id.caName()).isEqualTo("root");
  }

  @Test
  void acceptsChainThroughAnIntermediateTheClientSent() {
    Issued leaf = deviceCert("ca-dev", INTERMEDIATE);
    assertThat(auth.authenticate("ca-dev", null, chain(leaf, INTERMEDIATE)).caName())
        .isEqualTo("root");
    // Clients may send the root too, or the chain out of order.
    assertThat(auth.authenticate("ca-dev", null, chain(leaf, ROOT, INTERMEDIATE)).caName())
        .isEqualTo("root");
  }

  @Test
  void rejectsChainWhoseIntermediateIsMissing() {
    assertRejected("ca-dev", null, chain(deviceCert("ca-dev", INTERMEDIATE)))
        .hasMessageContaining("does not chain to a registered CA certificate");
  }

  @Test
  void rejectsCaSignedCertificateWithAnotherCommonName() {
    assertRejected("ca-dev", null, chain(deviceCert("other-dev", ROOT)))
        .hasMessageContaining("must have exactly one CN, equal to 'ca-dev'");
  }

  @Test
  void rejectsCertificateWithSeveralCommonNames() {
    Issued two = TestPki.subject("CN=ca-dev, CN=other-dev").issuedBy(ROOT).clientAuth().build();
    assertRejected("ca-dev", null, chain(two)).hasMessageContaining("exactly one CN");
  }

  @Test
  void rejectsCertificateFromUnregisteredCa() {
    assertRejected("ca-dev", null, chain(deviceCert("ca-dev", OTHER_ROOT)))
        .hasMessageContaining("does not chain to a registered CA certificate");
  }

  @Test
  void rejectsForgedCertificateNamingTheRegisteredCaAsIssuer() {
    // Same issuer name as the registered root, signed by another key.
    Issued impostor = TestPki.subject("O=Herd test, CN=Herd Test Root").ca().build();
    assertRejected("ca-dev", null, chain(deviceCert("ca-dev", impostor), impostor))
        .hasMessageContaining("does not chain to a registered CA certificate");
  }

  @Test
  void rejectsExpiredCaSignedCertificate() {
    Issued old =
        TestPki.certificate("ca-dev")
            .issuedBy(ROOT)
            .clientAuth()
            .validity(NOW.minus(Duration.ofDays(10)), NOW.minus(Duration.ofSeconds(1)))
            .build();
    assertRejected("ca-dev", null, chain(old)).hasMessageContaining("expired at");
  }

  @Test
  void rejectsCaSignedCertificateWhenTheRegisteredCaExpired() {
    Issued leaf = deviceCert("ca-dev", SHORT_ROOT);
    assertThat(auth.authenticate("ca-dev", null, chain(leaf)).caName()).isEqualTo("short");
    X509Authenticator later =
        new X509Authenticator(
            registry, authorities, Clock.fixed(NOW.plus(Duration.ofDays(2)), ZoneOffset.UTC));
    assertRejected(later, "ca-dev", null, chain(leaf))
        .hasMessageContaining("registered CA certificate 'short' expired");
  }

  @Test
  void rejectsCaSignedCertificateRestrictedToServers() {
    Issued server = TestPki.certificate("ca-dev").issuedBy(ROOT).serverAuthOnly().build();
    assertRejected("ca-dev", null, chain(server))
        .hasMessageContaining("not for client authentication");
  }

  @Test
  void acceptsModuleWhoseCommonNameIsDeviceIdSlashModuleId() {
    X509Identity id = auth.authenticate("ca-dev", "m1", chain(deviceCert("ca-dev/m1", ROOT)));
    assertThat(id.deviceId()).isEqualTo("ca-dev");
    assertThat(id.moduleId()).isEqualTo("m1");
    assertRejected("ca-dev", "m1", chain(deviceCert("m1", ROOT)))
        .hasMessageContaining("equal to 'ca-dev/m1'");
    assertRejected("ca-dev", "m1", chain(deviceCert("ca-dev", ROOT)))
        .hasMessageContaining("equal to 'ca-dev/m1'");
  }

  @Test
  void stopsTrustingCaOnceItIsDeleted() {
    Issued ca = TestPki.certificate("Removable Root").ca().build();
    Future.await(authorities.put("removable", ca.pem(), null));
    create("rm-dev", ca());
    Issued leaf = deviceCert("rm-dev", ca);
    assertThat(auth.authenticate("rm-dev", null, chain(leaf)).caName()).isEqualTo("removable");
    Future.await(authorities.delete("removable", null));
    assertRejected("rm-dev", null, chain(leaf))
        .hasMessageContaining("does not chain to a registered CA certificate");
  }
}
