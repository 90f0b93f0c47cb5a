package io.herd.registry;

import io.herd.registry.internal.CertificateAuthoritiesImpl;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.List;

/**
 * The hub's registered X.509 CA certificates (IoT Hub's "certificates" resource). Reads come from
 * memory on any thread; changes are serialised and become visible only after the {@link
 * CertificateStore} committed them.
 *
 * <p>Herd has no proof-of-possession step: a certificate is verified (trusted) once registered, so
 * only principals with RegistryWrite may register one.
 *
 * <p>{@code ifMatch} takes an etag with or without quotes (also {@code W/"..."}); null, {@code *}
 * and {@code "*"} match anything, including no certificate at all.
 */
public interface CertificateAuthorities {

  /** Loads every certificate from {@code store} and returns the ready registry. */
  static Future<CertificateAuthorities> open(Vertx vertx, CertificateStore store) {
    return open(vertx, store, Clock.systemUTC());
  }

  static Future<CertificateAuthorities> open(Vertx vertx, CertificateStore store, Clock clock) {
    return CertificateAuthoritiesImpl.open(vertx, store, clock).map(c -> c);
  }

  /**
   * Registers a CA certificate or replaces the one of the same name.
   *
   * @param pem one certificate, PEM or the base64 of its DER form
   * @param ifMatch an etag the current certificate of that name must have; a specific etag when
   *     there is no such certificate fails too
   * @return fails with ArgumentInvalid (400) naming what is wrong with the name or certificate
   *     (unparsable, not a CA, expired), or PreconditionFailed (412)
   */
  Future<CaCertificate> put(String name, String pem, String ifMatch);

  /** Fails with GenericNotFound (404) when there is no such certificate. */
  Future<CaCertificate> get(String name);

  /** Every certificate, ordered by name. */
  List<CaCertificate> list();

  /** Fails with GenericNotFound (404), or PreconditionFailed (412) when the etag does not match. */
  Future<Void> delete(String name, String ifMatch);

  /** The current certificates, for synchronous verification; never null. */
  CaSnapshot snapshot();
}
