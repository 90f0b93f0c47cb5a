package io.herd.testkit;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates for tests: EC P-256 keys, CAs, intermediates and device certificates, with validity
 * periods a test chooses. Start with {@link #certificate(String)}:
 *
 * <pre>{@code
 * Issued root = TestPki.certificate("Root").ca().build();
 * Issued device = TestPki.certificate("dev1").issuedBy(root).clientAuth().build();
 * }</pre>
 */
public final class TestPki {
  private static final SecureRandom RANDOM = new SecureRandom();

  private TestPki() {}

  /** A certificate and its key pair. */
  public record Issued(KeyPair keys, X509Certificate certificate) {
    /** The certificate as one PEM block. */
    public String pem() {
      return TestPki.pem(certificate);
    }
  }

  /** Starts a certificate whose subject is {@code CN=commonName, O=Herd test}. */
  public static Builder certificate(String commonName) {
    return new Builder(
        new X500NameBuilder(BCStyle.INSTANCE)
            .addRDN(BCStyle.O, "Herd test")
            .addRDN(BCStyle.CN, commonName)
            .build());
  }

  /** Starts a certificate with a subject in RFC 4514 form, e.g. {@code "CN=a, CN=b"}. */
  public static Builder subject(String distinguishedName) {
    return new Builder(new X500Name(distinguishedName));
  }

  public static String pem(X509Certificate c) {
    try {
      return "-----BEGIN CERTIFICATE-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
              .encodeToString(c.getEncoded())
          + "\n-----END CERTIFICATE-----\n";
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  public static final class Builder {
    private final X500Name subject;
    private Issued issuer;
    private boolean ca;
    private boolean clientAuth;
    private boolean serverAuthOnly;
    private Instant notBefore = Instant.now().minus(Duration.ofHours(1));
    private Instant notAfter = Instant.now().plus(Duration.ofDays(30));

    private Builder(X500Name subject) {
      this.subject = subject;
    }

    /** Signed by {@code issuer}; without this the certificate is self-signed. */
    public Builder issuedBy(Issued issuer) {
      this.issuer = issuer;
      return this;
    }

    /** A CA: basicConstraints CA true, key usage keyCertSign and cRLSign. */
    public Builder ca() {
      this.ca = true;
      return this;
    }

    /** Extended key usage clientAuth, as device certificates usually carry. */
    public Builder clientAuth() {
      this.clientAuth = true;
      return this;
    }

    /** Extended key usage serverAuth alone: a certificate not meant for clients. */
    public Builder serverAuthOnly() {
      this.serverAuthOnly = true;
      return this;
    }

    public Builder validity(Instant notBefore, Instant notAfter) {
      this.notBefore = notBefore;
      this.notAfter = notAfter;
      return this;
    }

    public Issued build() {
      try {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        KeyPair keys = generator.generateKeyPair();
        X500Name issuerName =
            issuer == null
                ? subject
                : X500Name.getInstance(issuer.certificate().getSubjectX500Principal().getEncoded());
        X509v3CertificateBuilder b =
            new JcaX509v3CertificateBuilder(
                issuerName,
                new BigInteger(120, RANDOM).setBit(119),
                Date.from(notBefore),
                Date.from(notAfter),
                subject,
                keys.getPublic());
        JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
        if (ca) {
          b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
          b.addExtension(
              Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } else {
          b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        }
        if (clientAuth) {
          b.addExtension(
              Extension.extendedKeyUsage,
              false,
              new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
        } else if (serverAuthOnly) {
          b.addExtension(
              Extension.extendedKeyUsage,
              false,
              new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        }
        b.addExtension(
            Extension.subjectKeyIdentifier,
            false,
            utils.createSubjectKeyIdentifier(keys.getPublic()));
        if (issuer != null) {
          b.addExtension(
              Extension.authorityKeyIdentifier,
              false,
              utils.createAuthorityKeyIdentifier(issuer.certificate()));
        }
        KeyPair signer = issuer == null ? keys : issuer.keys();
        X509Certificate certificate =
            new JcaX509CertificateConverter()
                .getCertificate(
                    b.build(
                        new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
        return new Issued(keys, certificate);
      } catch (GeneralSecurityException
          | org.bouncycastle.operator.OperatorCreationException
          | org.bouncycastle.cert.CertIOException e) {
        throw new IllegalStateException("cannot make test certificate", e);
      }
    }
  }
}
