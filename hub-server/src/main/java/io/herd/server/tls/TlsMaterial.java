package io.herd.server.tls;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PEM files a TLS server endpoint needs.
 *
 * @param caCertificate the local CA certificate clients should trust, or {@code null} when the
 *     operator supplied their own certificate
 * @param certificateChain the server certificate, optionally followed by its issuers
 * @param privateKey the server's unencrypted private key
 */
public record TlsMaterial(Path caCertificate, Path certificateChain, Path privateKey) {
  private static final Logger LOG = LoggerFactory.getLogger(TlsMaterial.class);
  private static final Duration EXPIRY_WARNING = Duration.ofDays(30);

  public TlsMaterial {
    Objects.requireNonNull(certificateChain, "certificateChain");
    Objects.requireNonNull(privateKey, "privateKey");
  }

  /**
   * Checks an operator's own certificate and key ({@code --tls-cert}/{@code --tls-key}): both files
   * must be readable PEM, the certificate file must start with the server certificate and the key
   * must be its private half. An expired or soon expiring certificate is only logged.
   *
   * @throws IllegalArgumentException naming the offending file
   */
  public static TlsMaterial userSupplied(Path certPem, Path keyPem) {
    requireReadable(certPem, "TLS certificate");
    requireReadable(keyPem, "TLS private key");
    List<X509Certificate> chain = Pem.readCertificates(certPem);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException(
          "no certificate in " + certPem + " (expected a PEM block CERTIFICATE)");
    }
    PrivateKey key = Pem.readPrivateKey(keyPem);
    if (!key.getAlgorithm().equals("RSA") && !key.getAlgorithm().equals("EC")) {
      throw new IllegalArgumentException(
          "unsupported key algorithm " + key.getAlgorithm() + " in " + keyPem + " (RSA or EC)");
    }
    X509Certificate leaf = chain.get(0);
    if (!Pem.matches(key, leaf.getPublicKey())) {
      throw new IllegalArgumentException(
          "the private key in "
              + keyPem
              + " does not belong to the first certificate in "
              + certPem
              + " (the server certificate must come first)");
    }
    Instant notAfter = leaf.getNotAfter().toInstant();
    if (notAfter.isBefore(Instant.now().plus(EXPIRY_WARNING))) {
      LOG.warn(
          "TLS certificate expires soon or has expired [file: {}, not-after: {}]",
          certPem,
          notAfter);
    }
    return new TlsMaterial(null, certPem.toAbsolutePath(), keyPem.toAbsolutePath());
  }

  private static void requireReadable(Path file, String what) {
    Objects.requireNonNull(file, what);
    if (!Files.exists(file)) {
      throw new IllegalArgumentException(what + " file " + file + " does not exist");
    }
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(what + " file " + file + " is not a regular file");
    }
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException(what + " file " + file + " is not readable");
    }
  }
}
