package io.herd.simulator.internal;

import io.vertx.core.json.JsonObject;

/**
 * One connection of a simulated device to the hub, from connect to close, whatever the protocol: it
 * signs in with a SAS token, subscribes to desired-property notifications and direct methods, then
 * reads the twin (azure-iothub-wire.md §2.5: subscribe to desired first, then read the twin). It is
 * "online" once the twin arrived; what comes in afterwards goes to its {@link Listener}. A
 * connection is used once: the device opens a new one to reconnect. Owned by the device's event
 * loop; every method runs there.
 */
public interface DeviceConnection {

  /** Where a connection reports to; every call comes on the device's event loop. */
  interface Listener {
    /** Signed in (CONNACK accepted, put-token answered 200), {@code connectNanos} after start. */
    void onConnected(long connectNanos);

    /** Subscribed and the twin read: {@code {"desired": {...}, "reported": {...}}}. */
    void onOnline(JsonObject twinProperties);

    /**
     * The connection is closed; {@code reason} says why when it was not this side's {@link #close},
     * null otherwise. {@code failedConnect}: it never came online.
     */
    void onClosed(String reason, boolean failedConnect);

    /** The answer to the reported-properties patch {@code rid}: 204, or an error status. */
    void onTwinResponse(String rid, int status);

    void onDesired(long version, JsonObject patch);

    /** A method request; {@code payload} is its JSON body, or null when empty or not JSON. */
    void onMethod(String name, String rid, Object payload);

    /** The hub has the telemetry message {@code tag} (PUBACK, or the accepted disposition). */
    void onTelemetryAcked(int tag);

    /** The hub refused the telemetry message {@code tag} (a rejected or released disposition). */
    void onTelemetryRefused(int tag, String reason);
  }

  /**
   * Opens connections of one protocol to one hub. The connection calls {@code listener} only after
   * {@code open} returned, once its handshake is done or has failed.
   */
  @FunctionalInterface
  interface Opener {
    DeviceConnection open(String deviceId, String sasToken, Listener listener);
  }

  boolean isOnline();

  /** Sends a reported-properties patch with {@code rid}; the answer comes to the listener. */
  void report(String rid, JsonObject patch);

  /**
   * Sends a telemetry message (a JSON body) that the hub acknowledges with {@code tag} (1 ..
   * 65535); false when it was not sent: offline, or the hub gives no credit for it now.
   */
  boolean telemetry(byte[] body, int tag);

  /** Answers the direct method {@code rid}; an answer for an unknown rid is dropped. */
  void answer(String rid, int status, JsonObject payload);

  /** Keeps the connection alive where the protocol needs the client to (MQTT's PINGREQ). */
  void ping();

  /**
   * Puts a new SAS token to use on this connection; false when the protocol renews only by
   * reconnecting (MQTT), and then the caller reconnects.
   */
  boolean renew(String sasToken);

  /**
   * Closes the connection; {@code graceful} says goodbye first (DISCONNECT, AMQP close), otherwise
   * the socket just goes away, as when a device loses its network. The listener hears {@code
   * onClosed} with a null reason.
   */
  void close(boolean graceful);
}
