package io.herd.server.internal;

import io.herd.adapter.common.CloudToDeviceMessage;
import io.herd.adapter.common.DeliveryOutcome;
import io.herd.adapter.common.DeviceSessions;
import io.herd.core.twin.TwinKey;
import io.herd.registry.Device;
import io.herd.registry.DeviceRegistry;
import io.herd.server.c2d.Recipients;
import io.vertx.core.Future;

/** The cloud-to-device queues' view of devices: identities from the registry, links live. */
public final class SessionRecipients implements Recipients {
  private final DeviceRegistry registry;
  private final DeviceSessions sessions;

  public SessionRecipients(DeviceRegistry registry, DeviceSessions sessions) {
    this.registry = registry;
    this.sessions = sessions;
  }

  @Override
  public String generationId(String deviceId) {
    return registry.find(deviceId).map(Device::generationId).orElse(null);
  }

  @Override
  public void pendingChanged(String deviceId, int count) {
    registry.cloudToDeviceMessageCountChanged(deviceId, count);
  }

  @Override
  public Object connection(String deviceId) {
    return sessions.find(TwinKey.device(deviceId)).orElse(null);
  }

  @Override
  public Future<DeliveryOutcome> deliver(String deviceId, CloudToDeviceMessage message) {
    return sessions.deliver(TwinKey.device(deviceId), message);
  }
}
