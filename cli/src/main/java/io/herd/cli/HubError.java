package io.herd.cli;

import io.herd.core.ErrorCode;
import io.vertx.core.json.JsonObject;

/**
 * An error the hub answered with: IoT Hub's error code name and six-digit number, and the message
 * (azure-iothub-wire.md §5.1, §5.2). Printed as {@code error: Name (number): message}; exit 1.
 */
final class HubError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int httpStatus;
  private final String codeName;
  private final int code;

  HubError(int httpStatus, String codeName, int code, String message) {
    super(message);
    this.httpStatus = httpStatus;
    this.codeName = codeName;
    this.code = code;
  }

  int httpStatus() {
    return httpStatus;
  }

  String codeName() {
    return codeName;
  }

  int code() {
    return code;
  }

  /** The line printed for it. */
  String describe() {
    return "error: " + codeName + " (" + code + "): " + getMessage();
  }

  /**
   * Reads an error response: the name from the {@code iothub-errorcode} header or the body's {@code
   * Message} ({@code ErrorCode:Name;text}, or the newer JSON-in-a-string form), the number from the
   * body's {@code errorCode} or else from the name, the message from what follows the name.
   */
  static HubError of(int status, String headerCode, String body) {
    String name = headerCode;
    Integer number = null;
    String message = null;
    JsonObject json = null;
    try {
      json = body == null || body.isBlank() ? null : new JsonObject(body);
    } catch (RuntimeException e) {
      // not JSON: the text itself is the message
    }
    if (json != null) {
      Object n = json.getValue("errorCode");
      if (n instanceof Number num) {
        number = num.intValue();
      } else if (n instanceof String s && name == null) {
        name = s;
      }
      String m = json.getString("Message", json.getString("message"));
      if (m != null && m.startsWith("ErrorCode:")) {
        int semi = m.indexOf(';');
        String named = m.substring("ErrorCode:".length(), semi < 0 ? m.length() : semi);
        name = name == null ? named : name;
        message = semi < 0 ? "" : m.substring(semi + 1);
      } else if (m != null && m.startsWith("{")) {
        try {
          JsonObject inner = new JsonObject(m);
          if (inner.getValue("errorCode") instanceof Number num) {
            number = num.intValue();
          }
          message = inner.getString("message", m);
        } catch (RuntimeException e) {
          message = m;
        }
      } else {
        message = m;
      }
    } else if (body != null && !body.isBlank()) {
      message = body.strip();
    }
    if (number == null) {
      number = code(name, status);
    }
    if (name == null) {
      name = genericName(number);
    }
    if (message == null || message.isBlank()) {
      message = "HTTP " + status;
    }
    return new HubError(status, name, number, message);
  }

  /** The six-digit number of a code name IoT Hub uses, else the HTTP status times 1000. */
  static int code(String name, int httpStatus) {
    for (ErrorCode c : ErrorCode.values()) {
      if (c.wireName().equals(name)) {
        return c.code();
      }
    }
    return httpStatus * 1000;
  }

  /** The name of a known number, else IoT Hub's generic name for the HTTP status. */
  private static String genericName(int number) {
    for (ErrorCode c : ErrorCode.values()) {
      if (c.code() == number) {
        return c.wireName();
      }
    }
    for (ErrorCode c : ErrorCode.values()) {
      if (c.httpStatus() == number / 1000 && c.wireName().startsWith("Generic")) {
        return c.wireName();
      }
    }
    return "HttpStatus" + number / 1000;
  }
}
