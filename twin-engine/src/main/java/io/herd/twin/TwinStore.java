package io.herd.twin;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinIdentity;
import io.herd.core.twin.TwinKey;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Every twin, hot in memory. Reads return immutable snapshots from any thread; every change runs on
 * the twin's shard, is committed to storage in a group with others, and is acknowledged (the Future
 * completes) only after that commit. Changes to one twin are linearizable.
 */
public interface TwinStore {

  /** The committed twin, if the identity has one. */
  Optional<Twin> find(TwinKey key);

  /**
   * Makes sure a twin exists for an identity: creates an empty one (nothing to store yet), or
   * replaces one left from an earlier identity of another generation, or refreshes the identity
   * fields of the existing one.
   */
  Future<Twin> ensure(TwinKey key, TwinIdentity identity);

  /** A service-side update: tags and desired properties. Fails with PreconditionFailed on etag. */
  Future<Twin> update(TwinKey key, TwinUpdate update);

  /** A device-side update of reported properties; returns the twin after it. */
  Future<Twin> patchReported(TwinKey key, JsonObject patch);

  /** Changes the registry fields kept in the twin; memory only (the registry stores them). */
  Future<Void> updateIdentity(TwinKey key, TwinIdentity identity);

  /** Removes one twin. */
  Future<Void> remove(TwinKey key);

  /** Removes a device's twin and all its module twins. */
  Future<Void> removeDevice(String deviceId);

  /** Calls {@code action} with a snapshot of every twin; lock-free, may run long. */
  void forEach(Consumer<Twin> action);

  long size();

  /** Changes of one twin. */
  Subscription subscribe(TwinKey key, Consumer<TwinChange> listener);

  /**
   * Changes of every twin, delivered on the twin's shard after the change is committed and before
   * the change's Future completes.
   */
  Subscription subscribeAll(Consumer<TwinChange> listener);

  /** Stops a subscription. */
  interface Subscription extends AutoCloseable {
    @Override
    void close();
  }
}
