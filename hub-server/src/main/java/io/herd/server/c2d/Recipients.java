package io.herd.server.c2d;

import io.herd.adapter.common.CloudToDeviceMessage;
import io.herd.adapter.common.DeliveryOutcome;
import io.vertx.core.Future;

/** The devices as the queues see them: the registry for identities, the sessions for delivery. */
public interface Recipients {

  /** The device's generation, null when there is no such device. */
  String generationId(String deviceId);

  /** The number of pending messages of a device changed (cloudToDeviceMessageCount). */
  void pendingChanged(String deviceId, int count);

  /**
   * The device's current connection, compared by identity to tell a reconnect from the same
   * connection; null when the device is not connected.
   */
  Object connection(String deviceId);

  /** Sends a message; completes with how the device settled it. */
  Future<DeliveryOutcome> deliver(String deviceId, CloudToDeviceMessage message);
}
