package io.herd.registry.internal;

import io.herd.core.HubException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;

/** Reading, writing and inspecting X.509 certificates with the JDK alone. */
public final class X509Certificates {
  private static final HexFormat HEX = HexFormat.of().withUpperCase();
  private static final Base64.Encoder PEM_BASE64 =
      Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));

  private X509Certificates() {}

  /**
   * Reads the one certificate in {@code text}: PEM, or the bare base64 of the DER form (IoT Hub
   * takes "the base-64 representation of the .cer file or the .pem file content").
   *
   * @throws HubException 400 saying what is wrong
   */
  public static X509Certificate parseOne(String text) {
    if (text == null || text.isBlank()) {
      throw HubException.badRequest("The certificate is empty; send one PEM encoded certificate");
    }
    byte[] input;
    if (text.contains("-----BEGIN")) {
      if (!text.contains("-----BEGIN CERTIFICATE-----")) {
        throw HubException.badRequest(
            "The PEM holds no CERTIFICATE block (a key or a request was sent instead?)");
      }
      input = text.getBytes(StandardCharsets.US_ASCII);
    } else {
      try {
        input = Base64.getMimeDecoder().decode(text.strip());
      } catch (IllegalArgumentException e) {
        throw HubException.badRequest(
            "The certificate is neither PEM nor base64 encoded DER: " + e.getMessage());
      }
    }
    Collection<? extends Certificate> all;
    try {
      all = factory().generateCertificates(new ByteArrayInputStream(input));
    } catch (CertificateException e) {
      throw HubException.badRequest("The certificate cannot be parsed: " + describe(e));
    }
    if (all.size() != 1) {
      throw HubException.badRequest(
          "Expected exactly one certificate but found "
              + all.size()
              + "; register each CA certificate under its own name");
    }
    Certificate c = all.iterator().next();
    if (!(c instanceof X509Certificate x509)) {
      throw HubException.badRequest("The certificate is not an X.509 certificate");
    }
    return x509;
  }

  /**
   * Checks that {@code c} may serve as a trust anchor at {@code now}: a CA certificate (basic
   * constraints CA true and, when key usage is present, keyCertSign) that has not expired.
   *
   * @throws HubException 400 saying what is wrong
   */
  public static void checkCa(X509Certificate c, Instant now) {
    String subject = c.getSubjectX500Principal().getName();
    if (c.getBasicConstraints() < 0) {
      throw HubException.badRequest(
          "Certificate '"
              + subject
              + "' is not a CA certificate (basicConstraints CA is false or missing); register"
              + " the CA that issues the device certificates, not a device certificate");
    }
    boolean[] keyUsage = c.getKeyUsage();
    if (keyUsage != null && (keyUsage.length <= 5 || !keyUsage[5])) {
      throw HubException.badRequest(
          "Certificate '" + subject + "' may not sign certificates (key usage lacks keyCertSign)");
    }
    Instant notAfter = c.getNotAfter().toInstant();
    if (notAfter.isBefore(now)) {
      throw HubException.badRequest("Certificate '" + subject + "' expired at " + notAfter);
    }
  }

  /** Upper-case hex SHA-1 of the DER form, IoT Hub's thumbprint. */
  public static String sha1Thumbprint(X509Certificate c) {
    return HEX.formatHex(digest("SHA-1", der(c)));
  }

  /** Upper-case hex SHA-256 of the DER form. */
  public static String sha256Thumbprint(X509Certificate c) {
    return HEX.formatHex(digest("SHA-256", der(c)));
  }

  /** One PEM block with 64-character lines. */
  public static String toPem(X509Certificate c) {
    return "-----BEGIN CERTIFICATE-----\n"
        + PEM_BASE64.encodeToString(der(c))
        + "\n-----END CERTIFICATE-----\n";
  }

  /** The values of every CN attribute of the subject, most specific first. */
  public static List<String> commonNames(X509Certificate c) {
    List<String> names = new ArrayList<>();
    try {
      LdapName dn = new LdapName(c.getSubjectX500Principal().getName(X500Principal.RFC2253));
      // LdapName lists RDNs least specific first; RFC 2253 text has them the other way round.
      List<Rdn> rdns = dn.getRdns();
      for (int i = rdns.size() - 1; i >= 0; i--) {
        Rdn rdn = rdns.get(i);
        if (rdn.getType().equalsIgnoreCase("CN") && rdn.getValue() instanceof String s) {
          names.add(s);
        }
      }
    } catch (InvalidNameException e) {
      // The JDK wrote this name itself; an unparsable one simply has no usable CN.
    }
    return names;
  }

  private static CertificateFactory factory() {
    try {
      return CertificateFactory.getInstance("X.509");
    } catch (CertificateException e) {
      throw new IllegalStateException("X.509 certificate factory unavailable", e);
    }
  }

  private static byte[] der(X509Certificate c) {
    try {
      return c.getEncoded();
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException("cannot encode a parsed certificate", e);
    }
  }

  private static byte[] digest(String algorithm, byte[] data) {
    try {
      return MessageDigest.getInstance(algorithm).digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(algorithm + " unavailable", e);
    }
  }

  private static String describe(Exception e) {
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }
}
