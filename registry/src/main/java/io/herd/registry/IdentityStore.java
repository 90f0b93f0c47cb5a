package io.herd.registry;

import io.vertx.core.Future;
import java.util.List;
import java.util.function.Consumer;

/** Durable storage of identities. The registry keeps everything in memory and writes through. */
public interface IdentityStore {

  /**
   * Streams every stored identity to the consumers, in no order and possibly from several threads
   * at once.
   *
   * @return the highest version seen, so new versions keep increasing across restarts
   */
  Future<Long> loadAll(Consumer<Device> devices, Consumer<Module> modules);

  /** Commits the changes atomically, in order. */
  Future<Void> apply(List<IdentityChange> changes);
}
