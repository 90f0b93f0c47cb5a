package io.herd.registry.internal;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.function.Supplier;

/**
 * Hops between a component's owner context, where its state changes, and the caller's context, so
 * that state touched only by the owner needs no locks and callers see results on their own thread.
 */
final class OwnerContext {
  private OwnerContext() {}

  /**
   * Runs {@code op} on {@code owner} and completes the returned future on the caller's context (at
   * once when the caller has none or is the owner). An exception from {@code op} fails the future.
   */
  static <T> Future<T> call(Context owner, Supplier<Future<T>> op) {
    Context caller = Vertx.currentContext();
    Promise<T> result = Promise.promise();
    owner.runOnContext(
        v -> {
          Future<T> f;
          try {
            f = op.get();
          } catch (RuntimeException e) {
            f = Future.failedFuture(e);
          }
          f.onComplete(
              ar -> {
                if (caller == null || caller == owner) {
                  result.handle(ar);
                } else {
                  caller.runOnContext(x -> result.handle(ar));
                }
              });
        });
    return result.future();
  }

  /** {@code f}, completed on {@code owner} whichever thread completed it. */
  static <T> Future<T> follow(Context owner, Future<T> f) {
    Promise<T> p = Promise.promise();
    f.onComplete(
        ar -> {
          if (Vertx.currentContext() == owner) {
            p.handle(ar);
          } else {
            owner.runOnContext(v -> p.handle(ar));
          }
        });
    return p.future();
  }
}
