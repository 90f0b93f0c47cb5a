package io.herd.registry.internal;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Per-key mutual exclusion for asynchronous operations, used only from the registry's own context
 * (so it needs no synchronisation). Waiters are served first come, first served per key: a later
 * waiter never overtakes an earlier one that wants any of the same keys.
 */
final class KeyLocks {
  private record Waiter(Collection<String> keys, Promise<Void> granted) {}

  private final Set<String> held = new HashSet<>();
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

  Future<Void> acquire(Collection<String> keys) {
    if (waiters.isEmpty() && none(held, keys)) {
      held.addAll(keys);
      return Future.succeededFuture();
    }
    Promise<Void> p = Promise.promise();
    waiters.add(new Waiter(keys, p));
    return p.future();
  }

  void release(Collection<String> keys) {
    held.removeAll(keys);
    List<Promise<Void>> grants = new ArrayList<>();
    Set<String> blocked = new HashSet<>();
    for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (none(held, w.keys()) && none(blocked, w.keys())) {
        held.addAll(w.keys());
        grants.add(w.granted());
        it.remove();
      } else {
        blocked.addAll(w.keys());
      }
    }
    // Completed after the scan: a continuation may acquire or release again.
    grants.forEach(Promise::complete);
  }

  /** Runs {@code op} holding {@code keys}, releasing them when its future completes. */
  <T> Future<T> holding(Collection<String> keys, Supplier<Future<T>> op) {
    return acquire(keys)
        .compose(
            granted -> {
              Future<T> f;
              try {
                f = op.get();
              } catch (RuntimeException e) {
                f = Future.failedFuture(e);
              }
              return f.andThen(ar -> release(keys));
            });
  }

  int waiting() {
    return waiters.size();
  }

  private static boolean none(Set<String> set, Collection<String> keys) {
    if (set.isEmpty()) {
      return true;
    }
    for (String k : keys) {
      if (set.contains(k)) {
        return false;
      }
    }
    return true;
  }
}
