package io.herd.registry;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** An in-memory CertificateStore that can be told to fail, for unit tests. */
public final class FakeCertificateStore implements CertificateStore {
  public final Map<String, CaCertificate> rows = new ConcurrentHashMap<>();
  public volatile boolean failNext;

  @Override
  public Future<List<CaCertificate>> load() {
    return Future.succeededFuture(new ArrayList<>(rows.values()));
  }

  @Override
  public Future<Void> put(CaCertificate certificate) {
    if (failNext) {
      failNext = false;
      return Future.failedFuture(new IllegalStateException("disk on fire"));
    }
    rows.put(certificate.name(), certificate);
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> delete(String name) {
    rows.remove(name);
    return Future.succeededFuture();
  }
}
