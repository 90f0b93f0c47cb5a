package io.herd.twin;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinCodec;
import io.herd.core.twin.TwinKey;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/** A TwinRepository in memory that can fail or hold commits, for engine tests. */
public final class FakeTwinRepository implements TwinRepository {
  public final Map<TwinKey, StoredTwin> rows = new ConcurrentHashMap<>();
  public final List<Integer> writeSizes = new ArrayList<>();
  public volatile boolean failNext;
  public volatile boolean hold;
  public final List<Promise<Void>> held = new ArrayList<>();

  @Override
  public Future<Void> loadAll(Consumer<StoredTwin> sink) {
    rows.values().forEach(sink);
    return Future.succeededFuture();
  }

  @Override
  public synchronized Future<Void> write(
      Collection<Twin> upserts, Collection<TwinKey> deletes, Collection<String> deletedDevices) {
    if (failNext) {
      failNext = false;
      return Future.failedFuture(new IllegalStateException("disk full"));
    }
    writeSizes.add(upserts.size());
    List<Twin> ups = new ArrayList<>(upserts);
    List<TwinKey> dels = new ArrayList<>(deletes);
    List<String> devs = new ArrayList<>(deletedDevices);
    Runnable apply =
        () -> {
          devs.forEach(d -> rows.keySet().removeIf(k -> k.deviceId().equals(d)));
          dels.forEach(rows::remove);
          ups.forEach(
              t ->
                  rows.put(
                      t.key(),
                      new StoredTwin(
                          t.key(), t.identity().generationId(), t.version(), TwinCodec.encode(t))));
        };
    if (hold) {
      Promise<Void> p = Promise.promise();
      held.add(p);
      return p.future().onSuccess(v -> apply.run());
    }
    apply.run();
    return Future.succeededFuture();
  }

  public synchronized void release() {
    hold = false;
    held.forEach(Promise::complete);
    held.clear();
  }
}
