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
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CertificateAuthoritiesTest {
  private static final Issued ROOT = TestPki.certificate("Root A").ca().build();

  private Vertx vertx;
  private FakeCertificateStore store;
  private CertificateAuthorities cas;

  @BeforeEach
  void open() {
    vertx = Vertx.vertx();
    store = new FakeCertificateStore();
    cas = Future.await(CertificateAuthorities.open(vertx, store));
  }

  @AfterEach
  void close() {
    Future.await(vertx.close());
  }

  private static HubException failure(Future<?> f) {
    try {
      Future.await(f);
    } catch (RuntimeException e) {
      return HubException.from(e);
    }
    throw new AssertionError("expected failure, got success");
  }

  @Test
  void putDescribesTheCertificateAsIotHubDoes() {
    CaCertificate c = Future.await(cas.put("root-a", ROOT.pem(), null));
    assertThat(c.name()).isEqualTo("root-a");
    assertThat(c.subject()).isEqualTo("CN=Root A,O=Herd test");
    assertThat(c.thumbprint()).hasSize(40).isUpperCase();
    assertThat(c.thumbprint()).isEqualTo(X509Certificates.sha1Thumbprint(ROOT.certificate()));
    assertThat(c.sha256Thumbprint()).hasSize(64).isUpperCase();
    assertThat(c.expiry()).isEqualTo(ROOT.certificate().getNotAfter().toInstant());
    assertThat(c.created()).isEqualTo(c.updated());
    assertThat(c.pem()).isEqualTo(ROOT.pem());
    assertThat(cas.get("root-a").result()).isEqualTo(c);
    assertThat(cas.list()).containsExactly(c);
    assertThat(store.rows).containsEntry("root-a", c);
    assertThat(cas.snapshot().anchors()).hasSize(1);
  }

  @Test
  void acceptsBareBase64OfTheDerForm() throws Exception {
    String der = Base64.getEncoder().encodeToString(ROOT.certificate().getEncoded());
    assertThat(Future.await(cas.put("root-a", der, null)).pem()).isEqualTo(ROOT.pem());
  }

  @Test
  void replacingKeepsCreatedAndChangesEtag() {
    CaCertificate first = Future.await(cas.put("root-a", ROOT.pem(), null));
    Issued other = TestPki.certificate("Root B").ca().build();
    CaCertificate second = Future.await(cas.put("root-a", other.pem(), "\"" + first.etag() + "\""));
    assertThat(second.created()).isEqualTo(first.created());
    assertThat(second.etag()).isNotEqualTo(first.etag());
    assertThat(second.subject()).contains("Root B");
    assertThat(cas.list()).containsExactly(second);
  }

  @Test
  void rejectsStaleEtagOnPutAndDelete() {
    CaCertificate c = Future.await(cas.put("root-a", ROOT.pem(), null));
    assertThat(failure(cas.put("root-a", ROOT.pem(), "\"stale\"")).errorCode())
        .isEqualTo(ErrorCode.PRECONDITION_FAILED);
    assertThat(failure(cas.put("new-name", ROOT.pem(), "\"etag\"")).errorCode())
        .as("a specific etag cannot match a certificate that does not exist")
        .isEqualTo(ErrorCode.PRECONDITION_FAILED);
    assertThat(failure(cas.delete("root-a", "stale")).errorCode())
        .isEqualTo(ErrorCode.PRECONDITION_FAILED);
    Future.await(cas.delete("root-a", c.etag()));
    assertThat(cas.list()).isEmpty();
    assertThat(failure(cas.get("root-a")).errorCode()).isEqualTo(ErrorCode.GENERIC_NOT_FOUND);
    assertThat(failure(cas.delete("root-a", null)).errorCode())
        .isEqualTo(ErrorCode.GENERIC_NOT_FOUND);
  }

  @Test
  void rejectsWhatIsNotAUsableCaCertificate() {
    assertThat(failure(cas.put("x", "hello", null)).getMessage())
        .contains("neither PEM nor base64");
    assertThat(failure(cas.put("x", "aGVsbG8gd29ybGQ=", null)).getMessage())
        .contains("cannot be parsed");
    assertThat(
            failure(
                    cas.put(
                        "x", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", null))
                .getMessage())
        .contains("no CERTIFICATE block");
    assertThat(failure(cas.put("x", "", null)).getMessage()).contains("empty");
    Issued leaf = TestPki.certificate("dev1").issuedBy(ROOT).build();
    HubException notCa = failure(cas.put("x", leaf.pem(), null));
    assertThat(notCa.errorCode()).isEqualTo(ErrorCode.ARGUMENT_INVALID);
    assertThat(notCa.getMessage()).contains("is not a CA certificate");
    Issued expired =
        TestPki.certificate("Old Root")
            .ca()
            .validity(
                Instant.now().minus(Duration.ofDays(9)), Instant.now().minus(Duration.ofDays(1)))
            .build();
    assertThat(failure(cas.put("x", expired.pem(), null)).getMessage()).contains("expired at");
    assertThat(failure(cas.put("x", ROOT.pem() + ROOT.pem(), null)).getMessage())
        .contains("exactly one certificate");
    assertThat(cas.list()).isEmpty();
    assertThat(store.rows).isEmpty();
  }

  @Test
  void rejectsBadNames() {
    for (String bad : new String[] {"", "a b", "a/b", "x".repeat(129), null}) {
      assertThat(failure(cas.put(bad, ROOT.pem(), null)).getMessage())
          .as(String.valueOf(bad))
          .contains("Certificate name must be");
    }
    assertThat(Future.await(cas.put("A-z_0.9", ROOT.pem(), null)).name()).isEqualTo("A-z_0.9");
  }

  @Test
  void rejectsTheSameCertificateUnderASecondName() {
    Future.await(cas.put("root-a", ROOT.pem(), null));
    HubException dup = failure(cas.put("root-b", ROOT.pem(), null));
    assertThat(dup.errorCode()).isEqualTo(ErrorCode.GENERIC_CONFLICT);
    assertThat(dup.getMessage()).contains("'root-a'");
  }

  @Test
  void failedCommitChangesNothing() {
    store.failNext = true;
    assertThatThrownBy(() -> Future.await(cas.put("root-a", ROOT.pem(), null)))
        .hasMessageContaining("disk on fire");
    assertThat(cas.list()).isEmpty();
    assertThat(cas.snapshot().isEmpty()).isTrue();
  }
}
