package io.herd.server.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.server.tls.TestCertificates.SelfSigned;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsMaterialTest {
  @TempDir Path temp;

  @Test
  void acceptsACertificateWithItsKeyAndHasNoCa() throws Exception {
    SelfSigned own = TestCertificates.selfSigned("hub.example.test", "EC");
    Path cert = TestCertificates.writePem(temp.resolve("cert.pem"), own.certificate());
    Path key = TestCertificates.writePem(temp.resolve("key.pem"), own.keys().getPrivate());

    TlsMaterial material = TlsMaterial.userSupplied(cert, key);

    assertThat(material.caCertificate()).isNull();
    assertThat(material.certificateChain()).isEqualTo(cert.toAbsolutePath());
    assertThat(material.privateKey()).isEqualTo(key.toAbsolutePath());
  }

  @Test
  void acceptsAnRsaKeyInPkcs1FormAndCertificateAndKeyInOneFile() throws Exception {
    SelfSigned own = TestCertificates.selfSigned("hub.example.test", "RSA");
    Path both = TestCertificates.writePem(temp.resolve("both.pem"), own.keys(), own.certificate());
    assertThat(Files.readString(both)).contains("-----BEGIN RSA PRIVATE KEY-----");

    assertThat(TlsMaterial.userSupplied(both, both).privateKey()).isEqualTo(both.toAbsolutePath());
  }

  @Test
  void rejectsAMissingCertificateFileByName() throws Exception {
    Path key = TestCertificates.writePem(temp.resolve("key.pem"), ecIdentity().keys().getPrivate());
    Path missing = temp.resolve("missing-cert.pem");

    assertThatThrownBy(() -> TlsMaterial.userSupplied(missing, key))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(missing.toString())
        .hasMessageContaining("does not exist");
  }

  @Test
  void rejectsAMissingKeyFileByName() throws Exception {
    Path cert = TestCertificates.writePem(temp.resolve("cert.pem"), ecIdentity().certificate());
    Path missing = temp.resolve("missing-key.pem");

    assertThatThrownBy(() -> TlsMaterial.userSupplied(cert, missing))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(missing.toString());
  }

  @Test
  void rejectsACertificateFileWithoutCertificates() throws Exception {
    SelfSigned own = ecIdentity();
    Path key = TestCertificates.writePem(temp.resolve("key.pem"), own.keys().getPrivate());
    Path notPem = Files.writeString(temp.resolve("notes.txt"), "not a certificate\n");

    assertThatThrownBy(() -> TlsMaterial.userSupplied(key, key))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no certificate in " + key);
    assertThatThrownBy(() -> TlsMaterial.userSupplied(notPem, key))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(notPem.toString());
  }

  @Test
  void rejectsAKeyFileWithoutAPrivateKey() throws Exception {
    Path cert = TestCertificates.writePem(temp.resolve("cert.pem"), ecIdentity().certificate());

    assertThatThrownBy(() -> TlsMaterial.userSupplied(cert, cert))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no private key in " + cert);
  }

  @Test
  void rejectsAKeyThatBelongsToAnotherCertificate() throws Exception {
    Path cert = TestCertificates.writePem(temp.resolve("cert.pem"), ecIdentity().certificate());
    Path key = TestCertificates.writePem(temp.resolve("key.pem"), ecIdentity().keys().getPrivate());

    assertThatThrownBy(() -> TlsMaterial.userSupplied(cert, key))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(key.toString())
        .hasMessageContaining("does not belong to the first certificate in " + cert);
  }

  @Test
  void rejectsAnEncryptedKeyWithAHowTo() throws Exception {
    SelfSigned own = ecIdentity();
    Path cert = TestCertificates.writePem(temp.resolve("cert.pem"), own.certificate());
    Path key =
        TestCertificates.writePem(
            temp.resolve("key.pem"),
            new JcaPKCS8Generator(
                    own.keys().getPrivate(),
                    new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC)
                        .setProvider(new BouncyCastleProvider())
                        .setPassword("secret".toCharArray())
                        .build())
                .generate());

    assertThatThrownBy(() -> TlsMaterial.userSupplied(cert, key))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(key + " is encrypted")
        .hasMessageContaining("openssl pkey");
  }

  @Test
  void acceptsTheFilesOfTheLocalCa() {
    TlsMaterial local = LocalCertificateAuthority.ensure(temp.resolve("tls"), "localhost");

    TlsMaterial own = TlsMaterial.userSupplied(local.certificateChain(), local.privateKey());

    assertThat(own).isEqualTo(new TlsMaterial(null, local.certificateChain(), local.privateKey()));
  }

  private static SelfSigned ecIdentity() throws Exception {
    return TestCertificates.selfSigned("hub.example.test", "EC");
  }
}
