package io.herd.registry.pg;

import io.herd.core.pg.ParallelLoad;
import io.herd.core.pg.Statements;
import io.herd.registry.Device;
import io.herd.registry.IdentityChange;
import io.herd.registry.IdentityCodec;
import io.herd.registry.IdentityStore;
import io.herd.registry.Module;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;

/** Identities in PostgreSQL: batched upserts and deletes, streamed loading. */
public final class PgIdentityStore implements IdentityStore {
  private static final int FETCH = 5_000;

  private static final String DELETE_DEVICES =
      "DELETE FROM registry_devices WHERE device_id = ANY($1::text[])";
  private static final String UPSERT_MODULES =
      "INSERT INTO registry_modules (device_id, module_id, version, doc)"
          + " SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[])"
          + " ON CONFLICT (device_id, module_id) DO UPDATE"
          + " SET version = excluded.version, doc = excluded.doc";
  private static final String DELETE_MODULE =
      "DELETE FROM registry_modules WHERE device_id = $1 AND module_id = $2";

  private final Pool pool;

  public PgIdentityStore(Pool pool) {
    this.pool = pool;
  }

  @Override
  public Future<Long> loadAll(Consumer<Device> devices, Consumer<Module> modules) {
    AtomicLong max = new AtomicLong();
    return ParallelLoad.stream(
            pool,
            DeviceRows.SELECT,
            DeviceRows::device,
            d -> {
              max.accumulateAndGet(d.version(), Math::max);
              devices.accept(d);
            })
        .compose(
            x ->
                ParallelLoad.stream(
                    pool,
                    "SELECT version, doc FROM registry_modules",
                    row -> new Object[] {row.getLong(0), row.getString(1)},
                    r -> {
                      long v = (Long) r[0];
                      max.accumulateAndGet(v, Math::max);
                      modules.accept(
                          IdentityCodec.moduleFromStored(new JsonObject((String) r[1]), v));
                    }))
        .map(x -> max.get());
  }

  @Override
  public Future<Void> apply(List<IdentityChange> changes) {
    List<Device> puts = new ArrayList<>();
    List<String> deleteIds = new ArrayList<>();
    List<String> modDevices = new ArrayList<>();
    List<String> modIds = new ArrayList<>();
    List<Long> modVersions = new ArrayList<>();
    List<String> modDocs = new ArrayList<>();
    List<Tuple> moduleDeletes = new ArrayList<>();
    for (IdentityChange c : changes) {
      if (c instanceof IdentityChange.PutDevice p) {
        puts.add(p.device());
      } else if (c instanceof IdentityChange.DeleteDevice d) {
        deleteIds.add(d.deviceId());
      } else if (c instanceof IdentityChange.PutModule p) {
        modDevices.add(p.module().deviceId());
        modIds.add(p.module().moduleId());
        modVersions.add(p.module().version());
        modDocs.add(IdentityCodec.toJson(p.module()).encode());
      } else if (c instanceof IdentityChange.DeleteModule d) {
        moduleDeletes.add(Tuple.of(d.deviceId(), d.moduleId()));
      }
    }
    List<Function<SqlClient, Future<?>>> steps = new ArrayList<>();
    if (!deleteIds.isEmpty()) {
      steps.add(
          c -> c.preparedQuery(DELETE_DEVICES).execute(Tuple.of(deleteIds.toArray(new String[0]))));
    }
    if (!puts.isEmpty()) {
      Tuple columns = DeviceRows.tuple(puts);
      steps.add(c -> c.preparedQuery(DeviceRows.UPSERT).execute(columns));
    }
    if (!modIds.isEmpty()) {
      steps.add(
          c ->
              c.preparedQuery(UPSERT_MODULES)
                  .execute(
                      Tuple.of(
                          modDevices.toArray(new String[0]),
                          modIds.toArray(new String[0]),
                          modVersions.toArray(new Long[0]),
                          modDocs.toArray(new String[0]))));
    }
    if (!moduleDeletes.isEmpty()) {
      steps.add(c -> c.preparedQuery(DELETE_MODULE).executeBatch(moduleDeletes));
    }
    return Statements.atomically(pool, steps);
  }
}
