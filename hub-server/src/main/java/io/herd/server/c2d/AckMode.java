package io.herd.server.c2d;

import io.herd.core.HubException;
import java.util.Locale;

/** Which feedback the sender of a cloud-to-device message asked for ({@code iothub-ack}). */
public enum AckMode {
  NONE,
  POSITIVE,
  NEGATIVE,
  FULL;

  /** The value as IoT Hub spells it: {@code none}, {@code positive}, ... */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Whether a completed message leaves a Success record. */
  public boolean onSuccess() {
    return this == POSITIVE || this == FULL;
  }

  /** Whether an expired, rejected or over-delivered message leaves a record. */
  public boolean onFailure() {
    return this == NEGATIVE || this == FULL;
  }

  /** Parses a wire value, case-insensitively; null means none. */
  public static AckMode parse(String s) {
    if (s == null) {
      return NONE;
    }
    for (AckMode m : values()) {
      if (m.wire().equalsIgnoreCase(s)) {
        return m;
      }
    }
    throw HubException.badRequest(
        "ack must be one of none, positive, negative, full; got '" + s + "'");
  }
}
