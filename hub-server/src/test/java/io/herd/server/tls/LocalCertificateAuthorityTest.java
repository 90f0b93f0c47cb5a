package io.herd.server.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LocalCertificateAuthorityTest {
  private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

  @TempDir Path temp;

  private Path tlsDir() {
    return temp.resolve("data").resolve("tls");
  }

  @Test
  void createsCaAndServerCertificateUnderTheTlsDirectoryOnFirstCall() {
    TlsMaterial material = LocalCertificateAuthority.ensure(tlsDir(), "hub.example.test");

    assertThat(material.caCertificate()).isEqualTo(tlsDir().resolve("ca.pem").toAbsolutePath());
    assertThat(material.certificateChain())
        .isEqualTo(tlsDir().resolve("server.pem").toAbsolutePath());
    assertThat(material.privateKey())
        .isEqualTo(tlsDir().resolve("server-key.pem").toAbsolutePath());
    assertThat(tlsDir().resolve("ca-key.pem")).isRegularFile();
    assertThat(Pem.readCertificates(material.caCertificate())).hasSize(1);
    List<X509Certificate> chain = Pem.readCertificates(material.certificateChain());
    assertThat(chain).hasSize(2);
    assertThat(chain.get(1)).isEqualTo(ca(material));
  }

  @Test
  void serverCertificateNamesLocalhostLoopbackAddressesAndTheHostName() throws Exception {
    TlsMaterial material = LocalCertificateAuthority.ensure(tlsDir(), "Hub.Example.Test");

    assertThat(sans(leaf(material)))
        .containsExactlyInAnyOrder(
            "DNS:localhost", "IP:127.0.0.1", "IP:0:0:0:0:0:0:0:1", "DNS:hub.example.test");
  }

  @ParameterizedTest
  @ValueSource(strings = {"192.168.7.20", "fd00::7", "[fd00::7]"})
  void hostNameThatIsAnIpLiteralBecomesAnIpSan(String hostName) throws Exception {
    TlsMaterial material = LocalCertificateAuthority.ensure(tlsDir(), hostName);

    String expected =
        "IP:" + InetAddress.getByName(hostName.replace("[", "").replace("]", "")).getHostAddress();
    assertThat(sans(leaf(material))).contains(expected).noneMatch(s -> s.contains("fd00::7"));
    assertThat(sans(leaf(material))).filteredOn(s -> s.startsWith("DNS:")).hasSize(1);
  }

  @Test
  void hostNameLocalhostDoesNotDuplicateSans() throws Exception {
    TlsMaterial material = LocalCertificateAuthority.ensure(tlsDir(), "localhost");

    assertThat(sans(leaf(material)))
        .containsExactly("DNS:localhost", "IP:127.0.0.1", "IP:0:0:0:0:0:0:0:1");
  }

  @Test
  void caIsACriticalPathLengthZeroCaThatSignsCertificatesForTenYears() throws Exception {
    X509Certificate ca = ca(LocalCertificateAuthority.ensure(tlsDir(), "localhost"));

    assertThat(ca.getBasicConstraints()).isZero();
    assertThat(ca.getCriticalExtensionOIDs())
        .contains(Extension.basicConstraints.getId(), Extension.keyUsage.getId());
    boolean[] keyUsage = ca.getKeyUsage();
    assertThat(keyUsage[5]).as("keyCertSign").isTrue();
    assertThat(keyUsage[6]).as("cRLSign").isTrue();
    assertThat(keyUsage[0]).as("digitalSignature").isFalse();
    assertThat(ca.getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(ca.getSubjectX500Principal()).isEqualTo(ca.getIssuerX500Principal());
    ca.verify(ca.getPublicKey());
    assertThat(validity(ca)).isEqualTo(Duration.ofDays(3650));
    assertThat(ca.getExtensionValue(Extension.subjectKeyIdentifier.getId())).isNotNull();
  }

  @Test
  void serverCertificateIsAnEndEntityForServerAuthenticationIssuedByTheCa() throws Exception {
    TlsMaterial material = LocalCertificateAuthority.ensure(tlsDir(), "localhost");
    X509Certificate leaf = leaf(material);
    X509Certificate ca = ca(material);

    assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    assertThat(leaf.getExtendedKeyUsage()).containsExactly(SERVER_AUTH);
    assertThat(leaf.getKeyUsage()[0]).as("digitalSignature").isTrue();
    assertThat(leaf.getKeyUsage()[5]).as("keyCertSign").isFalse();
    assertThat(validity(leaf)).isEqualTo(Duration.ofDays(825));
    assertThat(leaf.getNotBefore().toInstant()).isBefore(Instant.now());
    assertThat(leaf.getIssuerX500Principal()).isEqualTo(ca.getSubjectX500Principal());
    byte[] authorityKeyId =
        AuthorityKeyIdentifier.getInstance(
                ASN1OctetString.getInstance(
                        leaf.getExtensionValue(Extension.authorityKeyIdentifier.getId()))
                    .getOctets())
            .getKeyIdentifierOctets();
    byte[] caKeyId =
        SubjectKeyIdentifier.getInstance(
                ASN1OctetString.getInstance(
                        ca.getExtensionValue(Extension.subjectKeyIdentifier.getId()))
                    .getOctets())
            .getKeyIdentifier();
    assertThat(authorityKeyId).isEqualTo(caKeyId);
  }

  @Test
  void serverChainPassesPkixValidationAgainstTheCa() throws Exception {
    TlsMaterial material = LocalCertificateAuthority.ensure(tlsDir(), "hub.example.test");

    PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(ca(material), null)));
    parameters.setRevocationEnabled(false);
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    CertPathValidator.getInstance("PKIX")
        .validate(factory.generateCertPath(List.of(leaf(material))), parameters);
  }

  @Test
  void writesKeysAsUnencryptedPkcs8Pem() throws Exception {
    LocalCertificateAuthority.ensure(tlsDir(), "localhost");

    for (String key : List.of("ca-key.pem", "server-key.pem")) {
      assertThat(Files.readAllLines(tlsDir().resolve(key)))
          .first()
          .isEqualTo("-----BEGIN PRIVATE KEY-----");
    }
  }

  @Test
  void keepsKeysAndDirectoryReadableByTheOwnerOnly() throws Exception {
    LocalCertificateAuthority.ensure(tlsDir(), "localhost");

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tlsDir())))
        .isEqualTo("rwx------");
    assertThat(mode("ca-key.pem")).isEqualTo("rw-------");
    assertThat(mode("server-key.pem")).isEqualTo("rw-------");
    assertThat(mode("ca.pem")).isEqualTo("rw-r--r--");
    assertThat(mode("server.pem")).isEqualTo("rw-r--r--");
    try (Stream<Path> files = Files.list(tlsDir())) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .as("no temporary files left behind")
          .containsExactlyInAnyOrder(
              ".lock", "ca.pem", "ca-key.pem", "server.pem", "server-key.pem");
    }
  }

  @Test
  void reusesTheSameFilesOnLaterCalls() throws Exception {
    TlsMaterial first = LocalCertificateAuthority.ensure(tlsDir(), "hub.example.test");
    List<String> before = contents();

    TlsMaterial second = LocalCertificateAuthority.ensure(tlsDir(), "HUB.example.test.");

    assertThat(second).isEqualTo(first);
    assertThat(contents()).isEqualTo(before);
  }

  @Test
  void reissuesOnlyTheServerCertificateWhenTheHostNameChanges() throws Exception {
    TlsMaterial first = LocalCertificateAuthority.ensure(tlsDir(), "old.example.test");
    byte[] caPem = Files.readAllBytes(first.caCertificate());
    byte[] caKeyPem = Files.readAllBytes(tlsDir().resolve("ca-key.pem"));
    byte[] serverKeyPem = Files.readAllBytes(first.privateKey());

    TlsMaterial second = LocalCertificateAuthority.ensure(tlsDir(), "new.example.test");

    assertThat(Files.readAllBytes(second.caCertificate())).isEqualTo(caPem);
    assertThat(Files.readAllBytes(tlsDir().resolve("ca-key.pem"))).isEqualTo(caKeyPem);
    assertThat(Files.readAllBytes(second.privateKey())).isNotEqualTo(serverKeyPem);
    assertThat(sans(leaf(second)))
        .contains("DNS:new.example.test")
        .doesNotContain("DNS:old.example.test");
    leaf(second).verify(ca(second).getPublicKey());
  }

  @Test
  void reissuesTheServerCertificateWhenItExpiresWithinThirtyDays() throws Exception {
    Instant start = Instant.now();
    TlsMaterial first = LocalCertificateAuthority.ensure(tlsDir(), "localhost", at(start));
    X509Certificate firstLeaf = leaf(first);
    byte[] caPem = Files.readAllBytes(first.caCertificate());

    LocalCertificateAuthority.ensure(tlsDir(), "localhost", at(start.plus(Duration.ofDays(790))));
    assertThat(leaf(first)).as("35 days left: reused").isEqualTo(firstLeaf);

    TlsMaterial renewed =
        LocalCertificateAuthority.ensure(
            tlsDir(), "localhost", at(start.plus(Duration.ofDays(800))));
    assertThat(leaf(renewed)).as("25 days left: re-issued").isNotEqualTo(firstLeaf);
    assertThat(Files.readAllBytes(renewed.caCertificate())).isEqualTo(caPem);
  }

  @Test
  void replacesACaThatExpiresWithinThirtyDays() throws Exception {
    Instant start = Instant.now();
    TlsMaterial first = LocalCertificateAuthority.ensure(tlsDir(), "localhost", at(start));
    X509Certificate firstCa = ca(first);

    TlsMaterial renewed =
        LocalCertificateAuthority.ensure(
            tlsDir(), "localhost", at(start.plus(Duration.ofDays(3630))));

    assertThat(ca(renewed)).isNotEqualTo(firstCa);
    leaf(renewed).verify(ca(renewed).getPublicKey());
  }

  @Test
  void reissuesTheServerCertificateWhenItsKeyDoesNotMatch() throws Exception {
    TlsMaterial first = LocalCertificateAuthority.ensure(tlsDir(), "localhost");
    X509Certificate firstLeaf = leaf(first);
    // As if the process died between writing the new key and the new certificate.
    Files.copy(
        tlsDir().resolve("ca-key.pem"), first.privateKey(), StandardCopyOption.REPLACE_EXISTING);

    TlsMaterial second = LocalCertificateAuthority.ensure(tlsDir(), "localhost");

    assertThat(leaf(second)).isNotEqualTo(firstLeaf);
    assertThat(Pem.matches(Pem.readPrivateKey(second.privateKey()), leaf(second).getPublicKey()))
        .isTrue();
  }

  @Test
  void reusesACurrentServerCertificateEvenWithoutTheCaKey() throws Exception {
    TlsMaterial first = LocalCertificateAuthority.ensure(tlsDir(), "localhost");
    Files.delete(tlsDir().resolve("ca-key.pem"));

    assertThat(LocalCertificateAuthority.ensure(tlsDir(), "localhost")).isEqualTo(first);
  }

  @Test
  void explainsThatTheCaKeyIsMissingWhenTheServerCertificateMustBeReissued() throws Exception {
    LocalCertificateAuthority.ensure(tlsDir(), "localhost");
    Files.delete(tlsDir().resolve("ca-key.pem"));

    assertThatThrownBy(() -> LocalCertificateAuthority.ensure(tlsDir(), "other.example.test"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(tlsDir().resolve("ca-key.pem").toString())
        .hasMessageContaining("is missing")
        .hasMessageContaining("DNS:other.example.test");
  }

  @Test
  void explainsAnUnreadableCaCertificateInsteadOfReplacingIt() throws Exception {
    LocalCertificateAuthority.ensure(tlsDir(), "localhost");
    Files.writeString(tlsDir().resolve("ca.pem"), "garbage\n");

    assertThatThrownBy(() -> LocalCertificateAuthority.ensure(tlsDir(), "localhost"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(tlsDir().resolve("ca.pem").toString())
        .hasMessageContaining("delete " + tlsDir());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"", " ", "bad host", "a..b", "-lead.example", "host:8883", "fe80::1%eth0"})
  void rejectsAHostNameThatIsNeitherADnsNameNorAnIpAddress(String hostName) {
    assertThatThrownBy(() -> LocalCertificateAuthority.ensure(tlsDir(), hostName))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("host name");
    assertThat(tlsDir()).doesNotExist();
  }

  @Test
  void concurrentCallsShareOneCa() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<TlsMaterial>> results = new ArrayList<>();
      Callable<TlsMaterial> ensure = () -> LocalCertificateAuthority.ensure(tlsDir(), "localhost");
      for (int i = 0; i < 4; i++) {
        results.add(pool.submit(ensure));
      }
      for (Future<TlsMaterial> result : results) {
        TlsMaterial material = result.get();
        leaf(material).verify(ca(material).getPublicKey());
      }
    } finally {
      pool.shutdownNow();
    }
    try (Stream<Path> files = Files.list(tlsDir())) {
      assertThat(files).hasSize(5);
    }
  }

  private static Clock at(Instant instant) {
    return Clock.fixed(instant, ZoneOffset.UTC);
  }

  private static X509Certificate leaf(TlsMaterial material) {
    return Pem.readCertificates(material.certificateChain()).get(0);
  }

  private static X509Certificate ca(TlsMaterial material) {
    return Pem.readCertificates(material.caCertificate()).get(0);
  }

  private static List<String> sans(X509Certificate certificate) throws Exception {
    List<String> sans = new ArrayList<>();
    for (List<?> name : certificate.getSubjectAlternativeNames()) {
      sans.add(((Integer) name.get(0) == 2 ? "DNS:" : "IP:") + name.get(1));
    }
    return sans;
  }

  private static Duration validity(X509Certificate certificate) {
    return Duration.between(
        certificate.getNotBefore().toInstant(), certificate.getNotAfter().toInstant());
  }

  private String mode(String file) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(tlsDir().resolve(file)));
  }

  private List<String> contents() throws Exception {
    List<String> contents = new ArrayList<>();
    for (String file : List.of("ca.pem", "ca-key.pem", "server.pem", "server-key.pem")) {
      contents.add(Files.readString(tlsDir().resolve(file)));
    }
    return contents;
  }
}
