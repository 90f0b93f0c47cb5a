package io.herd.server.c2d;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** A store in memory that records what it was asked to apply; commits can be held back. */
final class FakeStore implements CloudToDeviceStore {
  final List<QueueChange> applied = new CopyOnWriteArrayList<>();
  final List<QueuedMessage> initial = new ArrayList<>();
  final List<Promise<Void>> held = new CopyOnWriteArrayList<>();
  final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
  volatile boolean hold;

  @Override
  public Future<Long> loadAll(Consumer<QueuedMessage> sink) {
    initial.forEach(sink);
    return Future.succeededFuture(initial.stream().mapToLong(QueuedMessage::seq).max().orElse(0));
  }

  @Override
  public Future<Void> apply(List<QueueChange> changes) {
    batchSizes.add(changes.size());
    if (hold) {
      Promise<Void> p = Promise.promise();
      held.add(p);
      return p.future().onSuccess(v -> applied.addAll(changes));
    }
    applied.addAll(changes);
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> expireFeedback(java.time.Instant before) {
    return Future.succeededFuture();
  }

  @Override
  public Future<List<Feedback>> takeFeedback(int max) {
    return Future.succeededFuture(feedback());
  }

  List<Feedback> feedback() {
    List<Feedback> out = new ArrayList<>();
    for (QueueChange c : applied) {
      if (c instanceof QueueChange.AddFeedback f) {
        out.add(f.feedback());
      }
    }
    return out;
  }

  <T extends QueueChange> List<T> changes(Class<T> kind) {
    List<T> out = new ArrayList<>();
    for (QueueChange c : applied) {
      if (kind.isInstance(c)) {
        out.add(kind.cast(c));
      }
    }
    return out;
  }
}
