package io.herd.core;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.function.Supplier;

/** Running work on the context that owns some state, from any thread. */
public final class Contexts {
  private Contexts() {}

  /**
   * Runs {@code op} on {@code owner} and completes with its future; an exception it throws fails
   * the future instead of escaping.
   */
  public static <T> Future<T> on(Context owner, Supplier<Future<T>> op) {
    Promise<T> p = Promise.promise();
    owner.runOnContext(
        v -> {
          try {
            op.get().onComplete(p);
          } catch (RuntimeException e) {
            p.fail(e);
          }
        });
    return p.future();
  }
}
