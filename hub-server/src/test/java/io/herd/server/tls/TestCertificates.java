package io.herd.server.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Certificates made the way other tools make them: self-signed, RSA in PKCS#1 PEM. */
final class TestCertificates {
  private TestCertificates() {}

  record SelfSigned(KeyPair keys, X509Certificate certificate) {}

  /** A self-signed certificate, the kind a device registered by thumbprint presents. */
  static SelfSigned selfSigned(String commonName, String keyAlgorithm) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance(keyAlgorithm);
    generator.initialize(keyAlgorithm.equals("RSA") ? 2048 : 256);
    return selfSigned(commonName, generator.generateKeyPair());
  }

  /**
   * A self-signed EC certificate whose key pair, written with {@link #writePem}, comes out as
   * {@code EC PRIVATE KEY} with its curve, like {@code openssl ecparam -genkey}.
   */
  static SelfSigned selfSignedSec1Ec(String commonName) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", new BouncyCastleProvider());
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return selfSigned(commonName, generator.generateKeyPair());
  }

  private static SelfSigned selfSigned(String commonName, KeyPair keys) throws Exception {
    String keyAlgorithm = keys.getPublic().getAlgorithm();
    X500Name name = new X500Name("CN=" + commonName);
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            name,
            new BigInteger(64, new SecureRandom()),
            Date.from(now.minus(Duration.ofMinutes(5))),
            Date.from(now.plus(Duration.ofDays(30))),
            name,
            keys.getPublic());
    builder.addExtension(
        Extension.subjectAlternativeName,
        false,
        new GeneralNames(
            new GeneralName[] {
              new GeneralName(GeneralName.dNSName, "localhost"),
              new GeneralName(GeneralName.iPAddress, "127.0.0.1")
            }));
    String algorithm = keyAlgorithm.equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
    X509Certificate certificate =
        new JcaX509CertificateConverter()
            .getCertificate(
                builder.build(new JcaContentSignerBuilder(algorithm).build(keys.getPrivate())));
    return new SelfSigned(keys, certificate);
  }

  /**
   * Writes PEM objects as OpenSSL does: a {@link PrivateKey} as PKCS#8 ({@code openssl genpkey}), a
   * {@link KeyPair} in the traditional form ({@code openssl genrsa}: PKCS#1 for RSA).
   */
  static Path writePem(Path file, Object... objects) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      for (Object o : objects) {
        if (o instanceof PrivateKey key) {
          writer.writeObject(new JcaPKCS8Generator(key, null));
        } else {
          writer.writeObject(o);
        }
      }
    }
    return Files.writeString(file, out.toString());
  }

  /** A client context that trusts exactly the certificates in {@code caPem}. */
  static SSLContext trusting(Path caPem) throws Exception {
    return clientContext(caPem, null);
  }

  /** A client context that trusts {@code caPem} and presents {@code identity} when asked. */
  static SSLContext clientContext(Path caPem, SelfSigned identity) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    int i = 0;
    for (X509Certificate ca : Pem.readCertificates(caPem)) {
      trust.setCertificateEntry("ca" + i++, ca);
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    KeyManagerFactory kmf = null;
    if (identity != null) {
      char[] password = "test".toCharArray();
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry(
          "client",
          identity.keys().getPrivate(),
          password,
          new X509Certificate[] {identity.certificate()});
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, password);
    }
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return context;
  }
}
