package io.herd.registry;

/** One durable change handed to the {@link IdentityStore}. */
public sealed interface IdentityChange {
  record PutDevice(Device device) implements IdentityChange {}

  /** Removes the device and all its modules. */
  record DeleteDevice(String deviceId) implements IdentityChange {}

  record PutModule(Module module) implements IdentityChange {}

  record DeleteModule(String deviceId, String moduleId) implements IdentityChange {}
}
