package io.herd.server.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.IPAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A certificate authority kept in a directory, so {@code herd serve} has TLS without set-up.
 *
 * <p>The first {@link #ensure} creates an EC P-256 CA ({@value #CA_CERT_FILE}, valid 10 years) and
 * a server certificate it signed ({@value #SERVER_CERT_FILE}: leaf then CA, valid 825 days, Apple's
 * ceiling for TLS server certificates) with SANs {@code localhost}, {@code 127.0.0.1}, {@code ::1}
 * and the host name. Later calls reuse the files; the server certificate alone is re-issued, from
 * the same CA, when the host name is not among its SANs or it expires within 30 days, so clients
 * that trust {@value #CA_CERT_FILE} keep working. Keys are unencrypted PKCS#8 with mode 0600, the
 * directory has mode 0700, and every file is replaced atomically.
 */
public final class LocalCertificateAuthority {
  public static final String CA_CERT_FILE = "ca.pem";
  public static final String CA_KEY_FILE = "ca-key.pem";
  public static final String SERVER_CERT_FILE = "server.pem";
  public static final String SERVER_KEY_FILE = "server-key.pem";

  static final Duration CA_VALIDITY = Duration.ofDays(3650);
  static final Duration SERVER_VALIDITY = Duration.ofDays(825);
  static final Duration RENEW_BEFORE = Duration.ofDays(30);
  // Back-dating tolerates clients whose clocks run a little behind ours.
  private static final Duration BACKDATE = Duration.ofHours(1);

  private static final Logger LOG = LoggerFactory.getLogger(LocalCertificateAuthority.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String LOCK_FILE = ".lock";
  private static final Set<PosixFilePermission> OWNER_ONLY_DIR =
      PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> OWNER_ONLY_FILE =
      PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> PUBLIC_FILE =
      PosixFilePermissions.fromString("rw-r--r--");
  private static final String DNS_LABEL = "[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?";
  private static final Pattern DNS_NAME =
      Pattern.compile("(?=.{1,253}$)" + DNS_LABEL + "(\\." + DNS_LABEL + ")*");

  private LocalCertificateAuthority() {}

  /**
   * Creates or reuses the CA and server certificate in {@code tlsDir}.
   *
   * @param hostName the name clients connect to; a DNS name, or an IP literal (IPv6 with or without
   *     brackets) which becomes an IP SAN
   * @throws IllegalArgumentException when {@code hostName} is neither a DNS name nor an IP literal
   * @throws IllegalStateException when {@value #CA_CERT_FILE} is unreadable, or the server
   *     certificate must be re-issued but the CA key is missing or does not match the CA
   * @throws UncheckedIOException when the directory or its files cannot be read or written
   */
  public static TlsMaterial ensure(Path tlsDir, String hostName) {
    return ensure(tlsDir, hostName, Clock.systemUTC());
  }

  // Synchronized because a FileLock is per process: it keeps other processes out, not threads.
  static synchronized TlsMaterial ensure(Path tlsDir, String hostName, Clock clock) {
    San host = San.ofHost(hostName);
    try {
      createPrivateDirectory(tlsDir);
      // Two processes sharing a data directory must not each create a CA; closing the channel
      // releases the lock.
      try (FileChannel lockChannel =
          FileChannel.open(
              tlsDir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        lockChannel.lock();
        return ensureLocked(tlsDir, host, clock.instant());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot set up TLS files in " + tlsDir, e);
    }
  }

  private static TlsMaterial ensureLocked(Path dir, San host, Instant now) throws IOException {
    Path caCertFile = dir.resolve(CA_CERT_FILE);
    Path caKeyFile = dir.resolve(CA_KEY_FILE);
    Path serverCertFile = dir.resolve(SERVER_CERT_FILE);
    Path serverKeyFile = dir.resolve(SERVER_KEY_FILE);

    X509Certificate ca = Files.exists(caCertFile) ? readCaCertificate(caCertFile) : null;
    PrivateKey caKey = null;
    if (ca == null || expiresWithin(ca, now, RENEW_BEFORE)) {
      if (ca != null) {
        LOG.warn(
            "replacing expiring local CA, clients must trust the new one [path: {}, not-after: {}]",
            caCertFile,
            ca.getNotAfter().toInstant());
      }
      KeyPair keys = generateKeyPair();
      ca = createCaCertificate(keys, now);
      caKey = keys.getPrivate();
      // Key before certificate: a crash in between leaves no ca.pem, so the next start begins anew.
      writeAtomically(caKeyFile, Pem.encode(caKey), OWNER_ONLY_FILE);
      writeAtomically(caCertFile, Pem.encode(ca), PUBLIC_FILE);
      LOG.info(
          "created local CA [path: {}, not-after: {}]", caCertFile, ca.getNotAfter().toInstant());
    }

    List<San> sans = requiredSans(host);
    String reason = reissueReason(serverCertFile, serverKeyFile, ca, sans, now);
    if (reason != null) {
      if (caKey == null) {
        caKey = readCaKey(caKeyFile, ca, reason);
      }
      KeyPair keys = generateKeyPair();
      X509Certificate leaf = createServerCertificate(keys, host, sans, ca, caKey, now);
      // Key before certificate: a crash in between leaves a mismatched pair, which is re-issued.
      writeAtomically(serverKeyFile, Pem.encode(keys.getPrivate()), OWNER_ONLY_FILE);
      writeAtomically(serverCertFile, Pem.encode(leaf) + Pem.encode(ca), PUBLIC_FILE);
      LOG.info(
          "issued server certificate [path: {}, sans: {}, not-after: {}, reason: {}]",
          serverCertFile,
          sans,
          leaf.getNotAfter().toInstant(),
          reason);
    }
    return new TlsMaterial(
        caCertFile.toAbsolutePath(),
        serverCertFile.toAbsolutePath(),
        serverKeyFile.toAbsolutePath());
  }

  /** Why the server certificate must be (re-)issued, or {@code null} when it can be reused. */
  private static String reissueReason(
      Path certFile, Path keyFile, X509Certificate ca, List<San> sans, Instant now) {
    if (!Files.exists(certFile) || !Files.exists(keyFile)) {
      return "no server certificate yet";
    }
    X509Certificate leaf;
    PrivateKey key;
    try {
      leaf = readFirstCertificate(certFile);
      key = Pem.readPrivateKey(keyFile);
    } catch (IllegalArgumentException e) {
      return "unreadable: " + e.getMessage();
    }
    if (!isSignedBy(leaf, ca)) {
      return "issued by another CA";
    }
    if (expiresWithin(leaf, now, RENEW_BEFORE)) {
      return "expires at " + leaf.getNotAfter().toInstant();
    }
    Set<San> present = sansOf(leaf);
    for (San san : sans) {
      if (!present.contains(san)) {
        return san + " missing from the SANs";
      }
    }
    if (!Pem.matches(key, leaf.getPublicKey())) {
      return "key does not match certificate";
    }
    return null;
  }

  private static X509Certificate readCaCertificate(Path caCertFile) {
    try {
      return readFirstCertificate(caCertFile);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          e.getMessage()
              + "; restore it, or delete "
              + caCertFile.getParent()
              + " to create a new CA that clients must then trust",
          e);
    }
  }

  private static PrivateKey readCaKey(Path caKeyFile, X509Certificate ca, String reason) {
    String cannot =
        "cannot issue a server certificate (" + reason + ") because the local CA key " + caKeyFile;
    String remedy =
        "; restore it, or delete "
            + caKeyFile.getParent()
            + " to create a new CA that clients must then trust";
    if (!Files.exists(caKeyFile)) {
      throw new IllegalStateException(cannot + " is missing" + remedy);
    }
    PrivateKey key = Pem.readPrivateKey(caKeyFile);
    if (!Pem.matches(key, ca.getPublicKey())) {
      throw new IllegalStateException(cannot + " does not match " + CA_CERT_FILE + remedy);
    }
    return key;
  }

  private static X509Certificate createCaCertificate(KeyPair keys, Instant now) {
    BigInteger serial = newSerial();
    X500Name name =
        new X500NameBuilder(BCStyle.INSTANCE)
            .addRDN(BCStyle.O, "Herd")
            // The serial prefix tells one installation's CA from another's in a trust store.
            .addRDN(BCStyle.CN, "Herd local CA " + serial.toString(16).substring(0, 8))
            .build();
    Instant notBefore = now.minus(BACKDATE);
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            name,
            serial,
            Date.from(notBefore),
            Date.from(notBefore.plus(CA_VALIDITY)),
            name,
            keys.getPublic());
    try {
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      // Path length 0: this CA signs server certificates only, never another CA.
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      builder.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      builder.addExtension(
          Extension.subjectKeyIdentifier,
          false,
          utils.createSubjectKeyIdentifier(keys.getPublic()));
    } catch (CertIOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot build the CA certificate", e);
    }
    return sign(builder, keys.getPrivate());
  }

  private static X509Certificate createServerCertificate(
      KeyPair keys, San host, List<San> sans, X509Certificate ca, PrivateKey caKey, Instant now) {
    X500Name subject =
        new X500NameBuilder(BCStyle.INSTANCE)
            .addRDN(BCStyle.O, "Herd")
            .addRDN(BCStyle.CN, host.value())
            .build();
    Instant notBefore = now.minus(BACKDATE);
    Instant notAfter = notBefore.plus(SERVER_VALIDITY);
    if (notAfter.isAfter(ca.getNotAfter().toInstant())) {
      notAfter = ca.getNotAfter().toInstant();
    }
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            ca, newSerial(), Date.from(notBefore), Date.from(notAfter), subject, keys.getPublic());
    try {
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      // digitalSignature alone suits an EC key: (EC)DHE key exchange never encrypts with it.
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      builder.addExtension(
          Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      builder.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(sans.stream().map(San::toGeneralName).toArray(GeneralName[]::new)));
      builder.addExtension(
          Extension.subjectKeyIdentifier,
          false,
          utils.createSubjectKeyIdentifier(keys.getPublic()));
      builder.addExtension(
          Extension.authorityKeyIdentifier,
          false,
          utils.createAuthorityKeyIdentifier(ca.getPublicKey()));
    } catch (CertIOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot build the server certificate", e);
    }
    return sign(builder, caKey);
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signingKey) {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(
              builder.build(
                  new JcaContentSignerBuilder(Pem.signatureAlgorithm(signingKey))
                      .build(signingKey)));
    } catch (OperatorCreationException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign certificate", e);
    }
  }

  private static KeyPair generateKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate an EC P-256 key pair", e);
    }
  }

  // 159 random bits: positive, unpredictable and within RFC 5280's 20-octet limit.
  private static BigInteger newSerial() {
    return new BigInteger(159, RANDOM).setBit(158);
  }

  private static List<San> requiredSans(San host) {
    Set<San> sans = new LinkedHashSet<>();
    sans.add(San.dns("localhost"));
    sans.add(San.ip("127.0.0.1"));
    sans.add(San.ip("::1"));
    sans.add(host);
    return List.copyOf(sans);
  }

  private static Set<San> sansOf(X509Certificate certificate) {
    Set<San> sans = new LinkedHashSet<>();
    try {
      Collection<List<?>> names = certificate.getSubjectAlternativeNames();
      if (names != null) {
        for (List<?> name : names) {
          int type = (Integer) name.get(0);
          if (type == GeneralName.dNSName) {
            sans.add(San.dns((String) name.get(1)));
          } else if (type == GeneralName.iPAddress) {
            sans.add(San.ip((String) name.get(1)));
          }
        }
      }
    } catch (CertificateParsingException e) {
      // Unreadable SANs count as none, so the certificate is re-issued.
    }
    return sans;
  }

  private static boolean isSignedBy(X509Certificate certificate, X509Certificate issuer) {
    if (!certificate.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
      return false;
    }
    try {
      certificate.verify(issuer.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static boolean expiresWithin(X509Certificate certificate, Instant now, Duration window) {
    return certificate.getNotAfter().toInstant().isBefore(now.plus(window));
  }

  private static X509Certificate readFirstCertificate(Path file) {
    List<X509Certificate> certificates = Pem.readCertificates(file);
    if (certificates.isEmpty()) {
      throw new IllegalArgumentException("no certificate in " + file);
    }
    return certificates.get(0);
  }

  private static boolean isPosix(Path path) {
    return path.getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  private static void createPrivateDirectory(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    Path parent = dir.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try {
      if (isPosix(dir)) {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
        // Set again: the mode given at creation is narrowed by the umask.
        Files.setPosixFilePermissions(dir, OWNER_ONLY_DIR);
      } else {
        Files.createDirectory(dir);
      }
    } catch (FileAlreadyExistsException e) {
      // Another process created it first.
    }
  }

  /** Writes via a temporary file in the same directory so readers never see a partial file. */
  private static void writeAtomically(Path target, String content, Set<PosixFilePermission> mode)
      throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    // createTempFile makes the file 0600 on POSIX, so a key is never readable by others.
    Path temp = Files.createTempFile(dir, "." + target.getFileName() + "-", ".tmp");
    try {
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        ByteBuffer bytes = ByteBuffer.wrap(content.getBytes(StandardCharsets.US_ASCII));
        while (bytes.hasRemaining()) {
          channel.write(bytes);
        }
        channel.force(true);
      }
      if (isPosix(temp)) {
        Files.setPosixFilePermissions(temp, mode);
      }
      try {
        Files.move(
            temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /** One subject alternative name, normalised so that equal names compare equal. */
  private record San(boolean ip, String value) {
    static San dns(String name) {
      return new San(false, name.toLowerCase(Locale.ROOT));
    }

    static San ip(String literal) {
      try {
        // A literal is parsed without any name lookup.
        return new San(true, InetAddress.getByName(literal).getHostAddress());
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException("invalid IP address " + literal, e);
      }
    }

    static San ofHost(String hostName) {
      if (hostName == null || hostName.isBlank()) {
        throw new IllegalArgumentException("host name is empty");
      }
      String name = hostName.strip();
      if (name.startsWith("[") && name.endsWith("]")) {
        name = name.substring(1, name.length() - 1);
      }
      if (IPAddress.isValid(name)) {
        return ip(name);
      }
      name = name.toLowerCase(Locale.ROOT);
      if (name.endsWith(".")) {
        name = name.substring(0, name.length() - 1);
      }
      if (!DNS_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "host name '" + hostName + "' is neither a DNS name nor an IP address");
      }
      return dns(name);
    }

    GeneralName toGeneralName() {
      return new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, value);
    }

    @Override
    public String toString() {
      return (ip ? "IP:" : "DNS:") + value;
    }
  }
}
