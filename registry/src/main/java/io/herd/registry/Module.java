package io.herd.registry;

import java.time.Instant;

/** A module identity on a device; same rules as {@link Device}, own credentials. */
public record Module(
    String deviceId,
    String moduleId,
    String managedBy,
    String generationId,
    long version,
    ConnectionState connectionState,
    Instant connectionStateUpdatedTime,
    Instant lastActivityTime,
    int cloudToDeviceMessageCount,
    Authentication authentication) {

  public String etag() {
    return Device.etagOf(version);
  }

  /** A copy with other connection fields; the version (and so the etag) stays. */
  public Module withConnection(
      ConnectionState state, Instant stateUpdatedTime, Instant lastActivity) {
    return new Module(
        deviceId,
        moduleId,
        managedBy,
        generationId,
        version,
        state,
        stateUpdatedTime,
        lastActivity,
        cloudToDeviceMessageCount,
        authentication);
  }
}
