package io.herd.adapter.common;

import io.herd.core.twin.TwinKey;

/**
 * Who an authenticated device connection is.
 *
 * @param moduleId null for a device connection
 * @param authMethod {@code sas} or {@code x509}
 */
public record DeviceIdentity(String deviceId, String moduleId, String authMethod) {
  public TwinKey key() {
    return moduleId == null ? TwinKey.device(deviceId) : TwinKey.module(deviceId, moduleId);
  }

  @Override
  public String toString() {
    return moduleId == null ? deviceId : deviceId + "/" + moduleId;
  }
}
