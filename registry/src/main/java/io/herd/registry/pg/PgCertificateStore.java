package io.herd.registry.pg;

import io.herd.registry.CaCertificate;
import io.herd.registry.CertificateStore;
import io.herd.registry.internal.X509Certificates;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/** Registered CA certificates in PostgreSQL, one row each. */
public final class PgCertificateStore implements CertificateStore {
  private final Pool pool;

  public PgCertificateStore(Pool pool) {
    this.pool = pool;
  }

  @Override
  public Future<List<CaCertificate>> load() {
    return pool.query(
            "SELECT name, pem, etag, created_at, updated_at FROM registry_ca_certificates")
        .execute()
        .map(
            rows -> {
              List<CaCertificate> out = new ArrayList<>();
              for (Row r : rows) {
                out.add(
                    CaCertificate.of(
                        r.getString(0),
                        X509Certificates.parseOne(r.getString(1)),
                        instant(r.getOffsetDateTime(3)),
                        instant(r.getOffsetDateTime(4)),
                        r.getString(2)));
              }
              return out;
            });
  }

  @Override
  public Future<Void> put(CaCertificate c) {
    return pool.preparedQuery(
            "INSERT INTO registry_ca_certificates (name, pem, etag, created_at, updated_at)"
                + " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO UPDATE"
                + " SET pem = excluded.pem, etag = excluded.etag,"
                + " created_at = excluded.created_at, updated_at = excluded.updated_at")
        .execute(Tuple.of(c.name(), c.pem(), c.etag(), offset(c.created()), offset(c.updated())))
        .mapEmpty();
  }

  @Override
  public Future<Void> delete(String name) {
    return pool.preparedQuery("DELETE FROM registry_ca_certificates WHERE name = $1")
        .execute(Tuple.of(name))
        .mapEmpty();
  }

  private static OffsetDateTime offset(Instant t) {
    return t.atOffset(ZoneOffset.UTC);
  }

  private static Instant instant(OffsetDateTime t) {
    return t.toInstant();
  }
}
