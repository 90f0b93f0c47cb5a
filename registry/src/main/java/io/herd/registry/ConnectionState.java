package io.herd.registry;

/** Whether a device has a live MQTT or AMQP connection. */
public enum ConnectionState {
  CONNECTED("Connected"),
  DISCONNECTED("Disconnected");

  private final String wire;

  ConnectionState(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  public static ConnectionState parse(String value) {
    return "Connected".equalsIgnoreCase(value) ? CONNECTED : DISCONNECTED;
  }
}
