package io.herd.registry;

import io.herd.registry.internal.DeviceRegistryImpl;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The identity registry: devices and their modules. Reads come from memory on any thread; changes
 * are serialised per identity and acknowledged only after the {@link IdentityStore} committed them,
 * so what a read returns is always durable.
 *
 * <p>{@code ifMatch} arguments take an etag with or without quotes (also {@code W/"..."}); null,
 * {@code *} and {@code "*"} match anything.
 */
public interface DeviceRegistry {

  /** Loads every identity from {@code store} and returns the ready registry. */
  static Future<DeviceRegistry> open(Vertx vertx, IdentityStore store) {
    return DeviceRegistryImpl.open(vertx, store).map(r -> r);
  }

  Optional<Device> find(String deviceId);

  /** Fails with DeviceNotFound when there is no such device. */
  Future<Device> get(String deviceId);

  /** Up to {@code top} devices, in no particular order. */
  List<Device> list(int top);

  /** Fails with DeviceAlreadyExists when the id is taken. */
  Future<Device> create(DeviceSpec spec);

  /** Fails with DeviceNotFound, or PreconditionFailed when the etag does not match. */
  Future<Device> update(DeviceSpec spec, String ifMatch);

  /** Deletes the device with its modules. */
  Future<Void> delete(String deviceId, String ifMatch);

  /** Applies up to 100 operations; per-entry failures are reported, not thrown. */
  Future<BulkResult> bulk(List<BulkOperation> operations);

  Optional<Module> findModule(String deviceId, String moduleId);

  Future<Module> getModule(String deviceId, String moduleId);

  /** Fails with DeviceNotFound when the device does not exist. */
  Future<List<Module>> listModules(String deviceId);

  Future<Module> createModule(ModuleSpec spec);

  Future<Module> updateModule(ModuleSpec spec, String ifMatch);

  Future<Void> deleteModule(String deviceId, String moduleId, String ifMatch);

  RegistryStatistics statistics();

  /**
   * Records that a device ({@code moduleId} null) or module connected or disconnected, and makes
   * that its last activity too. Memory only: connections do not outlive the process, so after a
   * restart every identity starts Disconnected. Listeners see the identity with the new state.
   * Unknown identities are ignored.
   */
  void connectionChanged(String deviceId, String moduleId, ConnectionState state, Instant at);

  /** Records activity of a connected device or module (lastActivityTime); memory only. */
  void activity(String deviceId, String moduleId, Instant at);

  /**
   * Records how many cloud-to-device messages wait for a device (cloudToDeviceMessageCount); memory
   * only, the queue that owns the messages sets it at start-up and on every change. Listeners see
   * the device with the new count. Unknown devices are ignored.
   */
  void cloudToDeviceMessageCountChanged(String deviceId, int count);

  /** Calls the consumers with every identity (a snapshot, any order). */
  void forEachIdentity(Consumer<Device> devices, Consumer<Module> modules);

  /**
   * Registers a listener for committed changes, called on the registry's context in commit order
   * (after the change is visible), so dependants such as the twin engine follow the registry.
   */
  void onChange(Consumer<IdentityChange> listener);

  /** Number of identities (devices and modules). */
  long size();
}
