package io.herd.twin.pg;

import io.herd.core.pg.ParallelLoad;
import io.herd.core.pg.Statements;
import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinCodec;
import io.herd.core.twin.TwinKey;
import io.herd.twin.TwinRepository;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/** Twins in PostgreSQL: one multi-row upsert per group commit, streamed loading. */
public final class PgTwinRepository implements TwinRepository {
  private static final int FETCH = 2_000;
  private static final String UPSERT =
      "INSERT INTO twins (device_id, module_id, generation, version, state)"
          + " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::bytea[])"
          + " ON CONFLICT (device_id, module_id) DO UPDATE SET generation = excluded.generation,"
          + " version = excluded.version, state = excluded.state";
  private static final String DELETE =
      "DELETE FROM twins t USING unnest($1::text[], $2::text[]) AS d(device_id, module_id)"
          + " WHERE t.device_id = d.device_id AND t.module_id = d.module_id";
  private static final String DELETE_DEVICES =
      "DELETE FROM twins WHERE device_id = ANY($1::text[])";

  private final Pool pool;

  public PgTwinRepository(Pool pool) {
    this.pool = pool;
  }

  @Override
  public Future<Void> loadAll(Consumer<StoredTwin> sink) {
    return ParallelLoad.stream(
        pool,
        "SELECT device_id, module_id, generation, version, state FROM twins",
        row ->
            new StoredRow(
                row.getString(0),
                row.getString(1),
                row.getString(2),
                row.getLong(3),
                row.getBuffer(4).getBytes()),
        r ->
            sink.accept(
                new StoredTwin(
                    new TwinKey(r.deviceId(), r.moduleId().isEmpty() ? null : r.moduleId()),
                    r.generation(),
                    r.version(),
                    r.state())));
  }

  private record StoredRow(
      String deviceId, String moduleId, String generation, long version, byte[] state) {}

  @Override
  public Future<Void> write(
      Collection<Twin> upserts, Collection<TwinKey> deletes, Collection<String> deletedDevices) {
    List<Function<SqlClient, Future<?>>> steps = new ArrayList<>();
    if (!deletedDevices.isEmpty()) {
      String[] ids = deletedDevices.toArray(new String[0]);
      steps.add(c -> c.preparedQuery(DELETE_DEVICES).execute(Tuple.of(ids)));
    }
    if (!deletes.isEmpty()) {
      String[] devices = new String[deletes.size()];
      String[] modules = new String[deletes.size()];
      int i = 0;
      for (TwinKey k : deletes) {
        devices[i] = k.deviceId();
        modules[i] = k.moduleId() == null ? "" : k.moduleId();
        i++;
      }
      steps.add(c -> c.preparedQuery(DELETE).execute(Tuple.of(devices, (Object) modules)));
    }
    if (!upserts.isEmpty()) {
      int n = upserts.size();
      String[] devices = new String[n];
      String[] modules = new String[n];
      String[] generations = new String[n];
      Long[] versions = new Long[n];
      Buffer[] states = new Buffer[n];
      int i = 0;
      for (Twin t : upserts) {
        devices[i] = t.key().deviceId();
        modules[i] = t.key().moduleId() == null ? "" : t.key().moduleId();
        generations[i] = t.identity().generationId();
        versions[i] = t.version();
        states[i] = Buffer.buffer(TwinCodec.encode(t));
        i++;
      }
      steps.add(
          c ->
              c.preparedQuery(UPSERT)
                  .execute(Tuple.of(devices, modules, generations, versions, states)));
    }
    return Statements.atomically(pool, steps);
  }
}
