package io.herd.registry.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.core.pg.SchemaMigrator;
import io.herd.registry.CaCertificate;
import io.herd.registry.CertificateAuthorities;
import io.herd.testkit.TestPki;
import io.herd.testkit.TestPostgres;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PgCertificateStoreIT {
  private static Vertx vertx;
  private static Pool pool;

  @BeforeAll
  static void setUp() {
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().connectingTo(TestPostgres.freshDatabase()).using(vertx).build();
    Future.await(SchemaMigrator.migrate(pool, RegistrySchema.migrations()));
  }

  @AfterAll
  static void tearDown() {
    Future.await(pool.close());
    Future.await(vertx.close());
  }

  private static CertificateAuthorities open() {
    return Future.await(CertificateAuthorities.open(vertx, new PgCertificateStore(pool)));
  }

  @Test
  void certificatesSurviveReopenWithTheirTimesAndEtags() {
    CertificateAuthorities first = open();
    CaCertificate kept =
        Future.await(first.put("kept", TestPki.certificate("Kept Root").ca().build().pem(), null));
    CaCertificate replaced =
        Future.await(
            first.put("replaced", TestPki.certificate("Old Root").ca().build().pem(), null));
    replaced =
        Future.await(
            first.put(
                "replaced", TestPki.certificate("New Root").ca().build().pem(), replaced.etag()));
    CaCertificate gone =
        Future.await(first.put("gone", TestPki.certificate("Gone Root").ca().build().pem(), null));
    Future.await(first.delete("gone", gone.etag()));

    CertificateAuthorities second = open();
    assertThat(second.list()).containsExactly(kept, replaced);
    assertThat(second.get("replaced").result().subject()).contains("New Root");
    assertThat(second.snapshot().anchors()).hasSize(2);
    assertThat(second.snapshot().find("gone")).isEmpty();

    // The reopened registry carries on from what was stored: etags still guard changes.
    String staleEtag = gone.etag();
    assertThatThrownBy(
            () ->
                Future.await(
                    second.put("kept", TestPki.certificate("X").ca().build().pem(), staleEtag)))
        .hasMessageContaining("does not match");
    Future.await(second.delete("kept", kept.etag()));
    assertThat(open().list()).containsExactly(replaced);
  }
}
