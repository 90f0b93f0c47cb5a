package io.herd.core.pg;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies versioned migrations at start-up. All of it runs in one transaction under an advisory
 * lock, so hub processes starting together over one database apply each change exactly once, and a
 * failed change leaves the schema as it was.
 */
public final class SchemaMigrator {
  private static final Logger LOG = LoggerFactory.getLogger(SchemaMigrator.class);

  /** Arbitrary constant shared by every Herd process: "herd" in ASCII. */
  private static final long LOCK_KEY = 0x68657264L;

  private static final String HISTORY_DDL =
      "CREATE TABLE IF NOT EXISTS herd_schema_history ("
          + " component text NOT NULL,"
          + " version int NOT NULL,"
          + " description text NOT NULL,"
          + " checksum text NOT NULL,"
          + " applied_at timestamptz NOT NULL DEFAULT now(),"
          + " PRIMARY KEY (component, version))";

  private SchemaMigrator() {}

  /**
   * Applies the migrations not yet in the history; fails when an applied one was edited or when the
   * database holds a newer version than this build knows.
   *
   * @return how many migrations were applied
   */
  public static Future<Integer> migrate(Pool pool, List<Migration> migrations) {
    List<Migration> ordered = new ArrayList<>(migrations);
    ordered.sort(Comparator.comparing(Migration::component).thenComparingInt(Migration::version));
    return pool.withTransaction(conn -> migrate(conn, ordered));
  }

  private static Future<Integer> migrate(SqlConnection conn, List<Migration> ordered) {
    return conn.query("SELECT pg_advisory_xact_lock(" + LOCK_KEY + ")")
        .execute()
        // IF NOT EXISTS on an existing table raises a NOTICE; keep start-up logs quiet.
        .compose(v -> conn.query("SET LOCAL client_min_messages TO warning").execute())
        .compose(v -> conn.query(HISTORY_DDL).execute())
        .compose(
            v ->
                conn.query("SELECT component, version, checksum FROM herd_schema_history")
                    .execute())
        .compose(
            rows -> {
              Map<String, String> applied = new HashMap<>();
              Map<String, Integer> newest = new HashMap<>();
              for (Row row : rows) {
                String component = row.getString("component");
                int version = row.getInteger("version");
                applied.put(component + "/" + version, row.getString("checksum"));
                newest.merge(component, version, Math::max);
              }
              Map<String, Integer> known = new HashMap<>();
              ordered.forEach(m -> known.merge(m.component(), m.version(), Math::max));
              for (Map.Entry<String, Integer> e : newest.entrySet()) {
                Integer ours = known.get(e.getKey());
                if (ours != null && e.getValue() > ours) {
                  return Future.failedFuture(
                      new IllegalStateException(
                          "database schema of '"
                              + e.getKey()
                              + "' is at version "
                              + e.getValue()
                              + " but this Herd knows only up to "
                              + ours
                              + "; run a newer Herd"));
                }
              }
              Future<Integer> chain = Future.succeededFuture(0);
              for (Migration m : ordered) {
                String seen = applied.get(m.component() + "/" + m.version());
                if (seen != null) {
                  if (!seen.equals(m.checksum())) {
                    return Future.failedFuture(
                        new IllegalStateException(
                            "migration "
                                + m.component()
                                + " V"
                                + m.version()
                                + " was changed after it was applied"));
                  }
                  continue;
                }
                chain = chain.compose(n -> apply(conn, m).map(v -> n + 1));
              }
              return chain;
            });
  }

  private static Future<Void> apply(SqlConnection conn, Migration m) {
    LOG.info(
        "applying schema migration [component: {}, version: {}, description: {}]",
        m.component(),
        m.version(),
        m.description());
    return conn.query(m.sql())
        .execute()
        .compose(
            v ->
                conn.preparedQuery(
                        "INSERT INTO herd_schema_history (component, version, description, checksum)"
                            + " VALUES ($1, $2, $3, $4)")
                    .execute(Tuple.of(m.component(), m.version(), m.description(), m.checksum())))
        .mapEmpty();
  }
}
