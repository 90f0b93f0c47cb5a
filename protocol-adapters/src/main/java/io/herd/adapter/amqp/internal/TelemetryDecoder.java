package io.herd.adapter.amqp.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.herd.core.Timestamps;
import io.herd.core.amqp.AmqpConstructors;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * Reads a device's telemetry message straight from its bytes, for the shape the Azure SDKs send
 * (wire §3.4): an optional header and delivery annotations (skipped), the properties, the
 * application properties with scalar values, and one data section. The result is what {@link
 * AmqpMessages#systemProperties}, {@link AmqpMessages#applicationProperties} and {@link
 * AmqpMessages#body} give for the same message decoded by proton-j, without its objects: the body
 * is copied once. Any other shape (message annotations, an AMQP value body, several data sections,
 * a footer, an unusual type) returns null and is left to proton-j, as is malformed input.
 */
final class TelemetryDecoder {
  /** Thrown inside to give up; the caller falls back to proton-j. */
  private static final class Unsupported extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unsupported() {
      super(null, null, false, false);
    }
  }

  private static final Unsupported UNSUPPORTED = new Unsupported();

  private final byte[] b;
  private int pos;

  private TelemetryDecoder(byte[] b) {
    this.b = b;
  }

  /** The message of {@code encoded}; null when proton-j should decode it. */
  static AmqpMessages.Telemetry decode(byte[] encoded) {
    try {
      return new TelemetryDecoder(encoded).message();
    } catch (Unsupported | IndexOutOfBoundsException e) {
      return null;
    }
  }

  private AmqpMessages.Telemetry message() {
    Map<String, String> system = new LinkedHashMap<>(16);
    Map<String, String> app = Map.of();
    byte[] body = null;
    while (pos < b.length) {
      switch (descriptor()) {
        case 0x70: // header
        case 0x71: // delivery annotations
          skip();
          break;
        case 0x73:
          properties(system);
          break;
        case 0x74:
          app = applicationProperties(system);
          break;
        case 0x75:
          if (body != null) {
            throw UNSUPPORTED;
          }
          body = binary(u8());
          break;
        default:
          throw UNSUPPORTED;
      }
    }
    return new AmqpMessages.Telemetry(system, app, body == null ? new byte[0] : body);
  }

  /** The properties section (AMQP 1.0 §3.2.4) by IoT Hub's names, as {@link AmqpMessages}. */
  private void properties(Map<String, String> system) {
    int n = list();
    for (int i = 0; i < n; i++) {
      switch (i) {
        case 0:
          put(system, "message-id", id());
          break;
        case 1:
          {
            int c = u8();
            if (c != 0x40) {
              put(system, "user-id", new String(binary(c), UTF_8));
            }
            break;
          }
        case 2:
          put(system, "to", string(u8()));
          break;
        case 5:
          put(system, "correlation-id", id());
          break;
        case 6:
          put(system, "content-type", symbol(u8()));
          break;
        case 7:
          put(system, "content-encoding", symbol(u8()));
          break;
        case 8:
          {
            int c = u8();
            if (c == 0x83) {
              system.put("absolute-expiry-time", Timestamps.format(Instant.ofEpochMilli(u64())));
            } else if (c != 0x40) {
              throw UNSUPPORTED;
            }
            break;
          }
        default:
          skip();
      }
    }
  }

  /** The application properties in order; {@code iothub-outputname} goes to the system ones. */
  private Map<String, String> applicationProperties(Map<String, String> system) {
    int c = u8();
    int n;
    if (c == 0x40) {
      return Map.of();
    } else if (c == 0xc1) {
      u8();
      n = u8();
    } else if (c == 0xd1) {
      u32();
      n = u32();
    } else {
      throw UNSUPPORTED;
    }
    if (n % 2 != 0) {
      throw UNSUPPORTED;
    }
    Map<String, String> app = new LinkedHashMap<>(Math.max(4, n));
    for (int i = 0; i < n; i += 2) {
      String key = string(u8());
      if (key == null) {
        throw UNSUPPORTED;
      }
      int v = u8();
      String value = v == 0x40 ? null : value(v);
      if (key.equals("iothub-outputname")) {
        if (value != null) {
          system.put(key, value);
        }
      } else {
        app.put(key, value == null ? "" : value);
      }
    }
    return app;
  }

  /** A message or correlation id as {@link AmqpMessages#idText}; null for null. */
  private String id() {
    int c = u8();
    switch (c) {
      case 0x40:
        return null;
      case 0x98:
        return new UUID(u64(), u64()).toString();
      case 0x44:
      case 0x53:
      case 0x80:
        return Long.toUnsignedString(unsigned(c));
      case 0xa0:
      case 0xb0:
        return new String(binary(c), UTF_8);
      default:
        return string(c);
    }
  }

  /** A scalar as {@link AmqpMessages#valueText} writes it (not null). */
  private String value(int c) {
    switch (c) {
      case 0x41:
        return "true";
      case 0x42:
        return "false";
      case 0x56:
        return u8() == 0 ? "false" : "true";
      case 0x43:
      case 0x44:
      case 0x50:
      case 0x52:
      case 0x53:
      case 0x60:
      case 0x70:
      case 0x80:
        return Long.toUnsignedString(unsigned(c));
      case 0x51:
        return Integer.toString((byte) u8());
      case 0x61:
        return Integer.toString((short) u16());
      case 0x54:
        return Integer.toString((byte) u8());
      case 0x71:
        return Integer.toString(u32());
      case 0x55:
        return Long.toString((byte) u8());
      case 0x81:
        return Long.toString(u64());
      case 0x72:
        return Float.toString(Float.intBitsToFloat(u32()));
      case 0x82:
        return Double.toString(Double.longBitsToDouble(u64()));
      case 0x83:
        return Timestamps.format(Instant.ofEpochMilli(u64()));
      case 0x98:
        return new UUID(u64(), u64()).toString();
      case 0xa0:
      case 0xb0:
        return new String(binary(c), UTF_8);
      case 0xa3:
      case 0xb3:
        return symbol(c);
      default:
        return string(c);
    }
  }

  private long unsigned(int c) {
    switch (c) {
      case 0x43:
      case 0x44:
        return 0;
      case 0x50:
      case 0x52:
      case 0x53:
        return u8();
      case 0x60:
        return u16();
      case 0x70:
        return u32() & 0xFFFF_FFFFL;
      case 0x80:
        return u64();
      default:
        throw UNSUPPORTED;
    }
  }

  /** A string (null for null); anything else is left to proton-j. */
  private String string(int c) {
    switch (c) {
      case 0x40:
        return null;
      case 0xa1:
        return text(u8());
      case 0xb1:
        return text(length());
      default:
        throw UNSUPPORTED;
    }
  }

  private String symbol(int c) {
    switch (c) {
      case 0x40:
        return null;
      case 0xa3:
        return text(u8());
      case 0xb3:
        return text(length());
      default:
        throw UNSUPPORTED;
    }
  }

  private byte[] binary(int c) {
    int n;
    if (c == 0xa0) {
      n = u8();
    } else if (c == 0xb0) {
      n = length();
    } else {
      throw UNSUPPORTED;
    }
    byte[] out = Arrays.copyOfRange(b, pos, check(n));
    pos += n;
    return out;
  }

  private String text(int n) {
    String s = new String(b, pos, n, UTF_8);
    pos = check(n);
    return s;
  }

  /** The end of the next {@code n} bytes, which must be there. */
  private int check(int n) {
    if (n < 0 || n > b.length - pos) {
      throw UNSUPPORTED;
    }
    return pos + n;
  }

  private int length() {
    int n = u32();
    if (n < 0) {
      throw UNSUPPORTED;
    }
    return n;
  }

  /** A section's descriptor: a small ulong or a ulong. */
  private int descriptor() {
    if (u8() != 0x00) {
      throw UNSUPPORTED;
    }
    int c = u8();
    if (c == 0x53) {
      return u8();
    }
    if (c == 0x80) {
      long d = u64();
      if (d < 0 || d > 0xff) {
        throw UNSUPPORTED;
      }
      return (int) d;
    }
    throw UNSUPPORTED;
  }

  /** A list's element count. */
  private int list() {
    int c = u8();
    switch (c) {
      case 0x40:
      case 0x45:
        return 0;
      case 0xc0:
        u8();
        return u8();
      case 0xd0:
        u32();
        return u32();
      default:
        throw UNSUPPORTED;
    }
  }

  /** Skips one value of any type (AMQP 1.0 §1.6: the constructor tells the width). */
  private void skip() {
    int c = u8();
    if (c == 0x00) {
      skip();
      skip();
      return;
    }
    int width = AmqpConstructors.width(c);
    if (width == AmqpConstructors.SIZE_IN_ONE_BYTE) {
      width = u8();
    } else if (width == AmqpConstructors.SIZE_IN_FOUR_BYTES) {
      width = length();
    } else if (width == AmqpConstructors.NOT_PRIMITIVE) {
      throw UNSUPPORTED;
    }
    pos = check(width);
  }

  private static void put(Map<String, String> map, String key, String value) {
    if (value != null) {
      map.put(key, value);
    }
  }

  private int u8() {
    return b[pos++] & 0xff;
  }

  private int u16() {
    return (u8() << 8) | u8();
  }

  private int u32() {
    return (u16() << 16) | u16();
  }

  private long u64() {
    return ((long) u32() << 32) | (u32() & 0xFFFF_FFFFL);
  }
}
