package io.herd.registry;

import io.herd.registry.internal.X509Certificates;
import java.security.cert.X509Certificate;
import java.time.Instant;

/**
 * A registered CA certificate: devices of type {@code certificateAuthority} present certificates
 * that chain to one of these.
 *
 * @param name 1 to 128 characters of letters, digits, {@code -}, {@code .} and {@code _}
 * @param subject the subject's distinguished name (RFC 2253)
 * @param thumbprint upper-case hex SHA-1 of the DER certificate, as IoT Hub shows it
 * @param sha256Thumbprint upper-case hex SHA-256 of the DER certificate
 * @param expiry the certificate's notAfter
 * @param etag opaque; changes on every update
 * @param pem the certificate as one PEM block
 */
public record CaCertificate(
    String name,
    String subject,
    String thumbprint,
    String sha256Thumbprint,
    Instant expiry,
    Instant created,
    Instant updated,
    String etag,
    String pem) {

  /** Describes {@code certificate}, deriving subject, thumbprints, expiry and PEM from it. */
  public static CaCertificate of(
      String name, X509Certificate certificate, Instant created, Instant updated, String etag) {
    return new CaCertificate(
        name,
        certificate.getSubjectX500Principal().getName(),
        X509Certificates.sha1Thumbprint(certificate),
        X509Certificates.sha256Thumbprint(certificate),
        certificate.getNotAfter().toInstant(),
        created,
        updated,
        etag,
        X509Certificates.toPem(certificate));
  }
}
