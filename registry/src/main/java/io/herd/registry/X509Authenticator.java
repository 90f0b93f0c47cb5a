package io.herd.registry;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.registry.internal.X509Certificates;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertStore;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXCertPathBuilderResult;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/**
 * Authenticates a device or module by the client certificate it presented in the TLS handshake, as
 * IoT Hub does for the identity's {@code authentication.type}:
 *
 * <ul>
 *   <li>{@code selfSigned}: the SHA-1 or SHA-256 thumbprint of the leaf certificate equals the
 *       primary or secondary thumbprint (hex, any case), and the leaf is within its validity
 *       period. The certificate need not be self-signed; its thumbprint is what is trusted.
 *   <li>{@code certificateAuthority}: the leaf, with any intermediates the client sent, builds a
 *       PKIX path to a registered CA certificate ({@link CertificateAuthorities}); no revocation
 *       checking. The leaf and the registered CA must be within their validity periods, the leaf
 *       may not restrict its extended key usage to anything but client authentication, and its
 *       subject CN must be the device id. A module's CN must be {@code deviceId/moduleId}: a bare
 *       module id is not accepted, because then one device's module certificate would also
 *       authenticate the same module name on every other device under that CA.
 * </ul>
 *
 * The identity must exist; a device must be enabled, and so must a module's device. Nothing is
 * cached: every connect sees the current registry and CA snapshot, both read from memory without
 * waiting, and a PKIX path build costs well under a millisecond for the short chains devices send.
 *
 * <p>Possession of the leaf's private key is the TLS layer's to prove: pass only the chain of a
 * completed handshake ({@code SSLSession.getPeerCertificates()}).
 */
public final class X509Authenticator {
  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  private static final String ANY_EXTENDED_KEY_USAGE = "2.5.29.37.0";

  private final DeviceRegistry registry;
  private final CertificateAuthorities authorities;
  private final Clock clock;

  public X509Authenticator(
      DeviceRegistry registry, CertificateAuthorities authorities, Clock clock) {
    this.registry = registry;
    this.authorities = authorities;
    this.clock = clock;
  }

  /**
   * Authenticates {@code deviceId} (or its module {@code moduleId}) by {@code chain}.
   *
   * @param moduleId null to authenticate the device itself
   * @param chain the client's certificates, leaf first, as the TLS handshake received them
   * @return the authenticated identity
   * @throws HubException 401 IotHubUnauthorizedAccess saying why; the message names the identity
   *     and is meant for logs, the client should see only the protocol's "not authorized"
   */
  public X509Identity authenticate(String deviceId, String moduleId, List<X509Certificate> chain) {
    String who =
        moduleId == null
            ? "device '" + deviceId + "'"
            : "module '" + deviceId + "/" + moduleId + "'";
    Device device =
        registry.find(deviceId).orElseThrow(() -> unauthorized(who + " is not registered"));
    Authentication auth;
    if (moduleId == null) {
      auth = device.authentication();
    } else {
      auth =
          registry
              .findModule(deviceId, moduleId)
              .orElseThrow(() -> unauthorized(who + " is not registered"))
              .authentication();
    }
    if (!device.enabled()) {
      throw unauthorized("device '" + deviceId + "' is disabled");
    }
    if (chain == null || chain.isEmpty() || chain.get(0) == null) {
      throw unauthorized(who + " presented no client certificate");
    }
    if (auth == null) {
      throw unauthorized(who + " has no credentials");
    }
    X509Certificate leaf = chain.get(0);
    Instant now = clock.instant();
    switch (auth.type()) {
      case SELF_SIGNED -> {
        checkThumbprint(who, leaf, auth);
        checkValidity(who + "'s certificate", leaf, now);
        return new X509Identity(
            deviceId, moduleId, AuthenticationType.SELF_SIGNED, null, notAfter(leaf));
      }
      case CERTIFICATE_AUTHORITY -> {
        checkCommonName(who, leaf, moduleId == null ? deviceId : deviceId + "/" + moduleId);
        checkValidity(who + "'s certificate", leaf, now);
        checkClientAuthUsage(who, leaf);
        String ca = checkChain(who, leaf, chain, now);
        return new X509Identity(
            deviceId, moduleId, AuthenticationType.CERTIFICATE_AUTHORITY, ca, notAfter(leaf));
      }
      case SAS -> throw unauthorized(who + " uses SAS keys, not an X.509 certificate");
      default ->
          throw unauthorized(who + " has no credentials of its own (authentication type none)");
    }
  }

  private static void checkThumbprint(String who, X509Certificate leaf, Authentication auth) {
    String sha1 = X509Certificates.sha1Thumbprint(leaf);
    String sha256 = X509Certificates.sha256Thumbprint(leaf);
    for (String registered : new String[] {auth.primaryThumbprint(), auth.secondaryThumbprint()}) {
      if (registered != null
          && (registered.equalsIgnoreCase(sha1) || registered.equalsIgnoreCase(sha256))) {
        return;
      }
    }
    throw unauthorized(
        who
            + "'s certificate thumbprint "
            + sha1
            + " (SHA-1) matches neither registered thumbprint");
  }

  private static void checkCommonName(String who, X509Certificate leaf, String expected) {
    List<String> names = X509Certificates.commonNames(leaf);
    if (names.size() != 1 || !names.get(0).equals(expected)) {
      throw unauthorized(
          who
              + "'s certificate subject '"
              + leaf.getSubjectX500Principal().getName()
              + "' must have exactly one CN, equal to '"
              + expected
              + "'");
    }
  }

  private static void checkValidity(String what, X509Certificate c, Instant now) {
    try {
      c.checkValidity(Date.from(now));
    } catch (CertificateExpiredException e) {
      throw unauthorized(what + " expired at " + notAfter(c));
    } catch (CertificateNotYetValidException e) {
      throw unauthorized(what + " is not valid before " + c.getNotBefore().toInstant());
    }
  }

  private static void checkClientAuthUsage(String who, X509Certificate leaf) {
    List<String> usages;
    try {
      usages = leaf.getExtendedKeyUsage();
    } catch (CertificateParsingException e) {
      throw unauthorized(who + "'s certificate has an unreadable extended key usage");
    }
    if (usages != null
        && !usages.contains(CLIENT_AUTH)
        && !usages.contains(ANY_EXTENDED_KEY_USAGE)) {
      throw unauthorized(
          who
              + "'s certificate is not for client authentication (extended key usage "
              + usages
              + ")");
    }
  }

  /** Builds a path from the leaf to a registered CA and returns that CA's name. */
  private String checkChain(
      String who, X509Certificate leaf, List<X509Certificate> chain, Instant now) {
    CaSnapshot trusted = authorities.snapshot();
    if (trusted.isEmpty()) {
      throw unauthorized(
          who + " needs a CA-signed certificate, but no CA certificate is registered");
    }
    PKIXCertPathBuilderResult result;
    try {
      X509CertSelector target = new X509CertSelector();
      target.setCertificate(leaf);
      PKIXBuilderParameters params = new PKIXBuilderParameters(trusted.anchors(), target);
      params.setRevocationEnabled(false);
      params.setDate(Date.from(now));
      // The client's chain may be out of order or carry extras; the builder picks what it needs.
      params.addCertStore(
          CertStore.getInstance("Collection", new CollectionCertStoreParameters(chain)));
      result = (PKIXCertPathBuilderResult) CertPathBuilder.getInstance("PKIX").build(params);
    } catch (CertPathBuilderException e) {
      throw unauthorized(
          who
              + "'s certificate (issuer '"
              + leaf.getIssuerX500Principal().getName()
              + "') does not chain to a registered CA certificate: "
              + e.getMessage());
    } catch (GeneralSecurityException e) {
      throw new HubException(ErrorCode.SERVER_ERROR, "PKIX validation unavailable", e);
    }
    X509Certificate anchor = result.getTrustAnchor().getTrustedCert();
    String name = trusted.registrationOf(anchor).map(CaCertificate::name).orElse("?");
    // PKIX does not check a trust anchor's own validity period.
    checkValidity("the registered CA certificate '" + name + "'", anchor, now);
    return name;
  }

  private static Instant notAfter(X509Certificate c) {
    return c.getNotAfter().toInstant();
  }

  private static HubException unauthorized(String reason) {
    return new HubException(ErrorCode.IOT_HUB_UNAUTHORIZED_ACCESS, "Unauthorized: " + reason);
  }
}
