package io.herd.registry;

import io.herd.registry.internal.X509Certificates;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The registered CA certificates at one moment, immutable, for verification on any thread without
 * waiting: a change to the registry makes a new snapshot and leaves this one as it was.
 */
public final class CaSnapshot {
  private static final CaSnapshot EMPTY = new CaSnapshot(Map.of(), Map.of());

  private final Map<String, CaCertificate> byName;
  private final Map<X509Certificate, CaCertificate> byCertificate;
  private final Set<TrustAnchor> anchors;

  private CaSnapshot(
      Map<String, CaCertificate> byName, Map<X509Certificate, CaCertificate> byCertificate) {
    this.byName = byName;
    this.byCertificate = byCertificate;
    Set<TrustAnchor> a = new HashSet<>();
    byCertificate.keySet().forEach(c -> a.add(new TrustAnchor(c, null)));
    this.anchors = Collections.unmodifiableSet(a);
  }

  public static CaSnapshot empty() {
    return EMPTY;
  }

  /** A snapshot of {@code certificates}, whose PEM must parse (as it does once registered). */
  public static CaSnapshot of(Collection<CaCertificate> certificates) {
    Map<String, CaCertificate> names = new TreeMap<>();
    Map<X509Certificate, CaCertificate> certs = new HashMap<>();
    for (CaCertificate c : certificates) {
      names.put(c.name(), c);
      // X509Certificate equality is equality of the DER encoding.
      certs.put(X509Certificates.parseOne(c.pem()), c);
    }
    return new CaSnapshot(Collections.unmodifiableMap(names), Collections.unmodifiableMap(certs));
  }

  /** This snapshot with {@code certificate} added or replacing the one of the same name. */
  public CaSnapshot with(CaCertificate certificate) {
    Map<String, CaCertificate> names = new TreeMap<>(byName);
    names.put(certificate.name(), certificate);
    return of(names.values());
  }

  /** This snapshot without the certificate named {@code name}. */
  public CaSnapshot without(String name) {
    Map<String, CaCertificate> names = new TreeMap<>(byName);
    names.remove(name);
    return of(names.values());
  }

  public Optional<CaCertificate> find(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** All certificates, ordered by name. */
  public Collection<CaCertificate> all() {
    return byName.values();
  }

  /** The certificates as PKIX trust anchors. */
  public Set<TrustAnchor> anchors() {
    return anchors;
  }

  /** The registered certificate that {@code anchor} was made from, if any. */
  public Optional<CaCertificate> registrationOf(X509Certificate anchor) {
    return Optional.ofNullable(byCertificate.get(anchor));
  }

  public boolean isEmpty() {
    return byName.isEmpty();
  }
}
