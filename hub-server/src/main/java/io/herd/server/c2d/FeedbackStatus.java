package io.herd.server.c2d;

/** The outcome a feedback record reports, with IoT Hub's status code and description. */
public enum FeedbackStatus {
  SUCCESS("Success", "Success"),
  EXPIRED("Expired", "Message expired"),
  DELIVERY_COUNT_EXCEEDED("DeliveryCountExceeded", "Message delivery count exceeded"),
  /** Not reachable over MQTT, which cannot reject; kept for AMQP and HTTP devices. */
  REJECTED("Rejected", "Message rejected");

  private final String wire;
  private final String description;

  FeedbackStatus(String wire, String description) {
    this.wire = wire;
    this.description = description;
  }

  public String wire() {
    return wire;
  }

  public String description() {
    return description;
  }

  public static FeedbackStatus fromWire(String s) {
    for (FeedbackStatus f : values()) {
      if (f.wire.equals(s)) {
        return f;
      }
    }
    throw new IllegalArgumentException("unknown feedback status " + s);
  }
}
