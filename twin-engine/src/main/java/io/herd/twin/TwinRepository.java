package io.herd.twin;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinKey;
import io.vertx.core.Future;
import java.util.Collection;
import java.util.function.Consumer;

/** Durable storage of twins, written in groups by the twin engine. */
public interface TwinRepository {

  /** A stored twin before its identity is attached. */
  record StoredTwin(TwinKey key, String generationId, long version, byte[] state) {}

  /** Streams every stored twin to {@code sink}, possibly from several threads at once. */
  Future<Void> loadAll(Consumer<StoredTwin> sink);

  /**
   * Commits upserts and deletions in one transaction.
   *
   * @param deletedDevices devices whose twins (device and modules) all go
   */
  Future<Void> write(
      Collection<Twin> upserts, Collection<TwinKey> deletes, Collection<String> deletedDevices);
}
