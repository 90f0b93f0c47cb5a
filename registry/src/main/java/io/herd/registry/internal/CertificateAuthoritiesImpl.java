package io.herd.registry.internal;

import io.herd.core.ErrorCode;
import io.herd.core.Etags;
import io.herd.core.HubException;
import io.herd.registry.CaCertificate;
import io.herd.registry.CaSnapshot;
import io.herd.registry.CertificateAuthorities;
import io.herd.registry.CertificateStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * CA certificates in an immutable {@link CaSnapshot}, written through to a {@link
 * CertificateStore}. Changes run one at a time on the owner context (they are rare), so a new
 * snapshot always starts from the latest one.
 */
public final class CertificateAuthoritiesImpl implements CertificateAuthorities {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,128}");

  /** One key for every name: changes are serialised hub-wide, which keeps snapshots simple. */
  private static final List<String> ALL = List.of("*");

  private final Context owner;
  private final CertificateStore store;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final KeyLocks locks = new KeyLocks();
  private volatile CaSnapshot snapshot;

  private CertificateAuthoritiesImpl(
      Context owner, CertificateStore store, Clock clock, CaSnapshot loaded) {
    this.owner = owner;
    this.store = store;
    this.clock = clock;
    this.snapshot = loaded;
  }

  public static Future<CertificateAuthoritiesImpl> open(
      Vertx vertx, CertificateStore store, Clock clock) {
    Context owner = vertx.getOrCreateContext();
    return store
        .load()
        .map(all -> new CertificateAuthoritiesImpl(owner, store, clock, CaSnapshot.of(all)));
  }

  @Override
  public Future<CaCertificate> put(String name, String pem, String ifMatch) {
    X509Certificate certificate;
    try {
      checkName(name);
      certificate = X509Certificates.parseOne(pem);
      X509Certificates.checkCa(certificate, clock.instant());
    } catch (HubException e) {
      return Future.failedFuture(e);
    }
    return exclusive(
        () -> {
          CaCertificate current = snapshot.find(name).orElse(null);
          if (!Etags.isWildcard(ifMatch)
              && (current == null || !Etags.matches(ifMatch, current.etag()))) {
            return Future.failedFuture(etagMismatch(name, ifMatch));
          }
          CaCertificate twin = registeredElsewhere(name, certificate);
          if (twin != null) {
            return Future.failedFuture(
                new HubException(
                    ErrorCode.GENERIC_CONFLICT,
                    "This certificate is already registered as '" + twin.name() + "'"));
          }
          // The database keeps microseconds; what a reload shows must equal what put returned.
          Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
          CaCertificate next =
              CaCertificate.of(
                  name, certificate, current == null ? now : current.created(), now, newEtag());
          return OwnerContext.follow(owner, store.put(next))
              .map(
                  v -> {
                    snapshot = snapshot.with(next);
                    return next;
                  });
        });
  }

  @Override
  public Future<CaCertificate> get(String name) {
    return snapshot
        .find(name)
        .map(Future::succeededFuture)
        .orElseGet(() -> Future.failedFuture(notFound(name)));
  }

  @Override
  public List<CaCertificate> list() {
    return List.copyOf(snapshot.all());
  }

  @Override
  public Future<Void> delete(String name, String ifMatch) {
    return exclusive(
        () -> {
          CaCertificate current = snapshot.find(name).orElse(null);
          if (current == null) {
            return Future.failedFuture(notFound(name));
          }
          if (!Etags.matches(ifMatch, current.etag())) {
            return Future.failedFuture(etagMismatch(name, ifMatch));
          }
          return OwnerContext.follow(owner, store.delete(name))
              .onSuccess(v -> snapshot = snapshot.without(name));
        });
  }

  @Override
  public CaSnapshot snapshot() {
    return snapshot;
  }

  private <T> Future<T> exclusive(Supplier<Future<T>> op) {
    return OwnerContext.call(owner, () -> locks.holding(ALL, op));
  }

  /** The certificate registered under another name with the same DER form, or null. */
  private CaCertificate registeredElsewhere(String name, X509Certificate certificate) {
    String sha256 = X509Certificates.sha256Thumbprint(certificate);
    for (CaCertificate c : snapshot.all()) {
      if (!c.name().equals(name) && c.sha256Thumbprint().equals(sha256)) {
        return c;
      }
    }
    return null;
  }

  private String newEtag() {
    byte[] bytes = new byte[8];
    random.nextBytes(bytes);
    return Base64.getEncoder().encodeToString(bytes);
  }

  private static void checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw HubException.badRequest(
          "Certificate name must be 1 to 128 letters, digits, '-', '.' or '_', but is '"
              + name
              + "'");
    }
  }

  private static HubException notFound(String name) {
    return new HubException(ErrorCode.GENERIC_NOT_FOUND, "Certificate '" + name + "' not found");
  }

  private static HubException etagMismatch(String name, String ifMatch) {
    return HubException.preconditionFailed(
        "ETag " + ifMatch + " does not match the current etag of certificate '" + name + "'");
  }
}
