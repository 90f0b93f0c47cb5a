package io.herd.registry.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.core.pg.SchemaMigrator;
import io.herd.registry.AccessPolicies;
import io.herd.registry.Authentication;
import io.herd.registry.AuthenticationType;
import io.herd.registry.BulkOperation;
import io.herd.registry.Device;
import io.herd.registry.DeviceRegistry;
import io.herd.registry.DeviceSpec;
import io.herd.registry.DeviceStatus;
import io.herd.registry.ImportMode;
import io.herd.registry.ModuleSpec;
import io.herd.testkit.TestPostgres;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PgRegistryIT {
  private static Vertx vertx;
  private static Pool pool;

  @BeforeAll
  static void setUp() {
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().connectingTo(TestPostgres.freshDatabase()).using(vertx).build();
    assertThat(Future.await(SchemaMigrator.migrate(pool, RegistrySchema.migrations())))
        .isEqualTo(RegistrySchema.migrations().size());
  }

  @AfterAll
  static void tearDown() {
    Future.await(pool.close());
    Future.await(vertx.close());
  }

  private static DeviceSpec spec(String id, Authentication auth) {
    return new DeviceSpec(id, DeviceStatus.ENABLED, null, auth, false, null, List.of());
  }

  @Test
  void migrationsRunOnceAndRejectAnEditedScript() {
    assertThat(Future.await(SchemaMigrator.migrate(pool, RegistrySchema.migrations()))).isZero();
    List<io.herd.core.pg.Migration> edited = new ArrayList<>(RegistrySchema.migrations());
    edited.set(
        0, new io.herd.core.pg.Migration("registry", 1, "identities", "SELECT 1; -- edited"));
    assertThatThrownBy(() -> Future.await(SchemaMigrator.migrate(pool, edited)))
        .hasMessageContaining("was changed after it was applied");
  }

  @Test
  void everyKindOfIdentitySurvivesAReload() {
    DeviceRegistry registry = Future.await(DeviceRegistry.open(vertx, new PgIdentityStore(pool)));
    Device sas = Future.await(registry.create(spec("pg-sas", null)));
    Device x509 =
        Future.await(
            registry.create(
                spec(
                    "pg-x509",
                    new Authentication(
                        AuthenticationType.SELF_SIGNED,
                        null,
                        null,
                        "AB".repeat(20),
                        "CD".repeat(20)))));
    Device ca =
        Future.await(
            registry.create(
                spec(
                    "pg-ca",
                    new Authentication(
                        AuthenticationType.CERTIFICATE_AUTHORITY, null, null, null, null))));
    Device disabled =
        Future.await(
            registry.update(
                new DeviceSpec(
                    "pg-sas", DeviceStatus.DISABLED, "lost", null, false, null, List.of()),
                "*"));
    var module = Future.await(registry.createModule(new ModuleSpec("pg-ca", "m1", "edge", null)));
    List<BulkOperation> bulk = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      bulk.add(new BulkOperation(ImportMode.CREATE, spec("pg-bulk-" + i, null), null, null));
    }
    assertThat(Future.await(registry.bulk(bulk)).isSuccessful()).isTrue();
    Future.await(registry.delete("pg-bulk-7", "*"));

    DeviceRegistry reloaded = Future.await(DeviceRegistry.open(vertx, new PgIdentityStore(pool)));
    assertThat(reloaded.find("pg-sas")).contains(disabled);
    assertThat(reloaded.find("pg-x509")).contains(x509);
    assertThat(reloaded.find("pg-ca")).contains(ca);
    assertThat(reloaded.findModule("pg-ca", "m1")).contains(module);
    assertThat(reloaded.find("pg-bulk-7")).isEmpty();
    assertThat(reloaded.find("pg-bulk-99")).isPresent();
    assertThat(reloaded.statistics().disabledDeviceCount()).isEqualTo(1);
    assertThat(disabled.version()).isGreaterThan(sas.version());

    Device later = Future.await(reloaded.create(spec("pg-later", null)));
    assertThat(later.version()).isGreaterThan(reloaded.find("pg-bulk-99").orElseThrow().version());

    Future.await(reloaded.delete("pg-ca", "*"));
    DeviceRegistry third = Future.await(DeviceRegistry.open(vertx, new PgIdentityStore(pool)));
    assertThat(third.findModule("pg-ca", "m1")).as("modules go with their device").isEmpty();
  }

  @Test
  void builtInPoliciesAreCreatedOnceAndKeepTheirKeys() {
    AccessPolicies first = Future.await(AccessPolicies.open(new PgPolicyStore(pool)));
    AccessPolicies second = Future.await(AccessPolicies.open(new PgPolicyStore(pool)));
    assertThat(first.all()).hasSize(5);
    assertThat(second.find("iothubowner")).isEqualTo(first.find("iothubowner"));
    assertThat(second.find("REGISTRYREAD")).isPresent();
  }
}
