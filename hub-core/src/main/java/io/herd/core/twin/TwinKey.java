package io.herd.core.twin;

/** Names a device twin ({@code moduleId} null) or a module twin. */
public record TwinKey(String deviceId, String moduleId) {
  public static TwinKey device(String deviceId) {
    return new TwinKey(deviceId, null);
  }

  public static TwinKey module(String deviceId, String moduleId) {
    return new TwinKey(deviceId, moduleId);
  }

  public boolean isModule() {
    return moduleId != null;
  }

  @Override
  public String toString() {
    return moduleId == null ? deviceId : deviceId + "/" + moduleId;
  }
}
