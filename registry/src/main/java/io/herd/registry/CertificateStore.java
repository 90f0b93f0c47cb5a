package io.herd.registry;

import io.vertx.core.Future;
import java.util.List;

/** Durable storage of the registered CA certificates. */
public interface CertificateStore {
  Future<List<CaCertificate>> load();

  /** Inserts the certificate or replaces the one of the same name. */
  Future<Void> put(CaCertificate certificate);

  Future<Void> delete(String name);
}
