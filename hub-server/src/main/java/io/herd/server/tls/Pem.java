package io.herd.server.tls;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/** PEM reading and writing for certificates and private keys, on the JDK's JCA providers. */
final class Pem {
  private static final Base64.Encoder BASE64 =
      Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));

  private Pem() {}

  /** Encodes DER bytes as one PEM block, e.g. {@code type} "CERTIFICATE" or "PRIVATE KEY". */
  static String encode(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + BASE64.encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  static String encode(X509Certificate certificate) {
    try {
      return encode("CERTIFICATE", certificate.getEncoded());
    } catch (CertificateException e) {
      throw new IllegalStateException("cannot encode certificate", e);
    }
  }

  /** Encodes a key as unencrypted PKCS#8, the one form OpenSSL, Node and Vert.x all read. */
  static String encode(PrivateKey key) {
    return encode("PRIVATE KEY", key.getEncoded());
  }

  /**
   * Reads every certificate in a PEM file, in file order; other PEM blocks are skipped.
   *
   * @throws IllegalArgumentException naming the file when it cannot be read or parsed
   */
  static List<X509Certificate> readCertificates(Path file) {
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
    List<X509Certificate> certificates = new ArrayList<>();
    for (Object o : readObjects(file)) {
      if (o instanceof X509CertificateHolder holder) {
        try {
          certificates.add(converter.getCertificate(holder));
        } catch (CertificateException e) {
          throw new IllegalArgumentException(
              "cannot read a certificate in " + file + ": " + describe(e), e);
        }
      }
    }
    return certificates;
  }

  /**
   * Reads the first private key in a PEM file: PKCS#8 ({@code PRIVATE KEY}), PKCS#1 ({@code RSA
   * PRIVATE KEY}) or SEC1 ({@code EC PRIVATE KEY}), the forms Vert.x accepts.
   *
   * @throws IllegalArgumentException naming the file when it holds no usable key
   */
  static PrivateKey readPrivateKey(Path file) {
    for (Object o : readObjects(file)) {
      PrivateKeyInfo info;
      if (o instanceof PrivateKeyInfo plain) {
        info = plain;
      } else if (o instanceof PEMKeyPair pair) {
        info = pair.getPrivateKeyInfo();
      } else if (o instanceof PKCS8EncryptedPrivateKeyInfo) {
        throw new IllegalArgumentException(
            "the private key in "
                + file
                + " is encrypted; Herd needs it unencrypted (openssl pkey -in "
                + file
                + " -out key.pem)");
      } else {
        continue;
      }
      try {
        return new JcaPEMKeyConverter().getPrivateKey(info);
      } catch (PEMException e) {
        throw new IllegalArgumentException(
            "cannot read the private key in " + file + ": " + describe(e), e);
      }
    }
    throw new IllegalArgumentException(
        "no private key in "
            + file
            + " (expected a PEM block PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
  }

  /**
   * Tells whether {@code key} is the private half of {@code publicKey} by signing a random
   * challenge, which works for every supported key type without comparing encodings.
   */
  static boolean matches(PrivateKey key, PublicKey publicKey) {
    if (!key.getAlgorithm().equals(publicKey.getAlgorithm())) {
      return false;
    }
    try {
      byte[] challenge = new byte[32];
      new SecureRandom().nextBytes(challenge);
      Signature signer = Signature.getInstance(signatureAlgorithm(key));
      signer.initSign(key);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(signatureAlgorithm(key));
      verifier.initVerify(publicKey);
      verifier.update(challenge);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** The SHA-256 signature algorithm for an RSA or EC key, the key types Vert.x loads from PEM. */
  static String signatureAlgorithm(PrivateKey key) {
    return switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      default ->
          throw new IllegalArgumentException(
              "unsupported key algorithm " + key.getAlgorithm() + " (RSA or EC expected)");
    };
  }

  private static List<Object> readObjects(Path file) {
    List<Object> objects = new ArrayList<>();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1);
        PEMParser parser = new PEMParser(reader)) {
      for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
        objects.add(o);
      }
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("cannot read PEM file " + file + ": " + describe(e), e);
    }
    return objects;
  }

  private static String describe(Exception e) {
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }
}
