package io.herd.registry;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

/**
 * A device identity as the registry holds it: immutable, replaced whole on every change.
 *
 * @param version hub-wide change sequence number of the last change; the etag derives from it
 * @param generationId changes when a device is deleted and created again under the same id
 */
public record Device(
    String deviceId,
    String generationId,
    long version,
    DeviceStatus status,
    String statusReason,
    Instant statusUpdatedTime,
    ConnectionState connectionState,
    Instant connectionStateUpdatedTime,
    Instant lastActivityTime,
    int cloudToDeviceMessageCount,
    Authentication authentication,
    boolean iotEdge,
    String deviceScope,
    List<String> parentScopes) {

  public Device {
    parentScopes = parentScopes == null ? List.of() : List.copyOf(parentScopes);
  }

  /** The etag as IoT Hub shows it: base64 of the decimal version. */
  public String etag() {
    return etagOf(version);
  }

  public static String etagOf(long version) {
    return Base64.getEncoder()
        .encodeToString(Long.toString(version).getBytes(StandardCharsets.US_ASCII));
  }

  /** A copy with other connection fields; the version (and so the etag) stays. */
  public Device withConnection(
      ConnectionState state, Instant stateUpdatedTime, Instant lastActivity) {
    return withMemoryFields(state, stateUpdatedTime, lastActivity, cloudToDeviceMessageCount);
  }

  /** A copy with another number of pending cloud-to-device messages; the etag stays. */
  public Device withCloudToDeviceMessageCount(int count) {
    return withMemoryFields(connectionState, connectionStateUpdatedTime, lastActivityTime, count);
  }

  /** The fields the registry keeps in memory only change without a new version. */
  private Device withMemoryFields(
      ConnectionState state, Instant stateUpdatedTime, Instant lastActivity, int c2dCount) {
    return new Device(
        deviceId,
        generationId,
        version,
        status,
        statusReason,
        statusUpdatedTime,
        state,
        stateUpdatedTime,
        lastActivity,
        c2dCount,
        authentication,
        iotEdge,
        deviceScope,
        parentScopes);
  }

  public boolean enabled() {
    return status == DeviceStatus.ENABLED;
  }
}
