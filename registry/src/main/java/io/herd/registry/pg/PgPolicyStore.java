package io.herd.registry.pg;

import io.herd.registry.AccessPolicy;
import io.herd.registry.Permission;
import io.herd.registry.PolicyStore;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Collectors;

/** Shared access policies in PostgreSQL; rights stored as a comma-separated list. */
public final class PgPolicyStore implements PolicyStore {
  private final Pool pool;

  public PgPolicyStore(Pool pool) {
    this.pool = pool;
  }

  @Override
  public Future<List<AccessPolicy>> load() {
    return pool.query("SELECT name, rights, primary_key, secondary_key FROM hub_access_policies")
        .execute()
        .map(
            rows -> {
              List<AccessPolicy> out = new ArrayList<>();
              for (Row r : rows) {
                EnumSet<Permission> rights = EnumSet.noneOf(Permission.class);
                for (String p : r.getString(1).split(",")) {
                  if (!p.isBlank()) {
                    rights.add(Permission.parse(p));
                  }
                }
                out.add(new AccessPolicy(r.getString(0), rights, r.getString(2), r.getString(3)));
              }
              return out;
            });
  }

  @Override
  public Future<Void> insertMissing(List<AccessPolicy> policies) {
    List<Tuple> rows = new ArrayList<>();
    for (AccessPolicy p : policies) {
      String rights =
          p.permissions().stream().sorted().map(Permission::wire).collect(Collectors.joining(","));
      rows.add(Tuple.of(p.name(), rights, p.primaryKey(), p.secondaryKey()));
    }
    return pool.preparedQuery(
            "INSERT INTO hub_access_policies (name, rights, primary_key, secondary_key)"
                + " VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING")
        .executeBatch(rows)
        .mapEmpty();
  }
}
