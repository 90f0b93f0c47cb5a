package io.herd.core.pg;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import java.util.List;
import java.util.function.Function;

/** Runs a group of statements as one atomic change. */
public final class Statements {
  private Statements() {}

  /**
   * Runs {@code steps} in order, all or nothing. A single statement commits atomically on its own,
   * so it skips the transaction's extra round trips.
   */
  public static Future<Void> atomically(Pool pool, List<Function<SqlClient, Future<?>>> steps) {
    if (steps.isEmpty()) {
      return Future.succeededFuture();
    }
    if (steps.size() == 1) {
      return steps.get(0).apply(pool).mapEmpty();
    }
    return pool.withTransaction(
        conn -> {
          Future<?> chain = Future.succeededFuture();
          for (Function<SqlClient, Future<?>> step : steps) {
            chain = chain.compose(x -> step.apply(conn));
          }
          return chain.mapEmpty();
        });
  }
}
