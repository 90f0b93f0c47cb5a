package io.herd.server.c2d;

import io.vertx.core.Future;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;

/** Where the queues and feedback records are kept durably. */
public interface CloudToDeviceStore {

  /** Calls {@code sink} with every pending message in enqueue order; returns the highest seq. */
  Future<Long> loadAll(Consumer<QueuedMessage> sink);

  /** Applies the changes in order, all or none. */
  Future<Void> apply(List<QueueChange> changes);

  /** Removes feedback records created before {@code before} that nobody read. */
  Future<Void> expireFeedback(Instant before);

  /** Removes and returns up to {@code max} feedback records, oldest first. */
  Future<List<Feedback>> takeFeedback(int max);
}
