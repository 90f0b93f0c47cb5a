package io.herd.adapter.common;

import io.herd.core.twin.TwinKey;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;

/**
 * One live, authenticated device connection of any protocol, as the service side reaches it. Each
 * method may be called from any thread; the link does its work on its own connection's context.
 */
public interface DeviceLink {
  DeviceIdentity identity();

  default TwinKey key() {
    return identity().key();
  }

  /** {@code mqtt}, {@code mqtt-ws}, {@code amqp}, ... */
  String protocol();

  /**
   * Sends a direct-method request and completes with the device's response. Fails with 404103
   * DeviceNotOnline when the device has not subscribed to methods, 504101 GatewayTimeout when it
   * does not answer in time.
   */
  Future<MethodResult> invokeMethod(String methodName, Buffer payload, Duration timeout);

  /**
   * Delivers a cloud-to-device message; completes with how the device settled it (MQTT PUBACK:
   * completed; AMQP: accepted, rejected or released). Fails with 404103 DeviceNotOnline when the
   * device has not subscribed to them or went away before settling.
   */
  Future<DeliveryOutcome> deliver(CloudToDeviceMessage message);

  /** Whether the device is subscribed to direct methods now; callable from any thread. */
  boolean acceptsMethods();

  /** Closes the connection because the same identity connected again. */
  void closeReplaced();
}
