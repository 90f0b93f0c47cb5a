package io.herd.adapter.common;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The property bag at the end of IoT Hub MQTT topics (azure-iothub-wire.md §2.4): {@code
 * k1=v1&k2=v2}, percent-encoded. Decoding follows RFC 3986 (a {@code +} stays a plus) and keeps the
 * order; a bare {@code key} has a null value, {@code key=} an empty one.
 */
public final class PropertyBag {
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private PropertyBag() {}

  /**
   * Decodes a bag.
   *
   * @throws IllegalArgumentException when a percent escape is broken, saying where
   */
  public static Map<String, String> decode(String bag) {
    Map<String, String> out = new LinkedHashMap<>();
    if (bag == null || bag.isEmpty()) {
      return out;
    }
    int start = 0;
    while (start <= bag.length()) {
      int amp = bag.indexOf('&', start);
      int end = amp < 0 ? bag.length() : amp;
      if (end > start) {
        int eq = bag.indexOf('=', start);
        if (eq < 0 || eq > end) {
          out.put(percentDecode(bag, start, end), null);
        } else {
          out.put(percentDecode(bag, start, eq), percentDecode(bag, eq + 1, end));
        }
      }
      if (amp < 0) {
        break;
      }
      start = amp + 1;
    }
    return out;
  }

  /** Encodes a bag the way the Node SDK does ({@code encodeURIComponent} on keys and values). */
  public static String encode(Map<String, String> properties) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, String> e : properties.entrySet()) {
      if (sb.length() > 0) {
        sb.append('&');
      }
      percentEncode(sb, e.getKey());
      if (e.getValue() != null) {
        sb.append('=');
        percentEncode(sb, e.getValue());
      }
    }
    return sb.toString();
  }

  /** One key or value, encoded as {@code encodeURIComponent} does. */
  public static String encodeComponent(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 8);
    percentEncode(sb, s);
    return sb.toString();
  }

  static String percentDecode(String s, int from, int to) {
    int pct = s.indexOf('%', from);
    if (pct < 0 || pct >= to) {
      return s.substring(from, to);
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(to - from);
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 2 >= to) {
          throw new IllegalArgumentException("incomplete percent escape at offset " + i);
        }
        int hi = Character.digit(s.charAt(i + 1), 16);
        int lo = Character.digit(s.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw new IllegalArgumentException("invalid percent escape at offset " + i);
        }
        bytes.write(hi * 16 + lo);
        i += 2;
      } else {
        int cp = s.codePointAt(i);
        byte[] b = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
        bytes.write(b, 0, b.length);
        i += Character.charCount(cp) - 1;
      }
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  /** RFC 3986 unreserved characters plus those encodeURIComponent leaves alone. */
  private static boolean keep(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || "-_.!~*'()".indexOf(c) >= 0;
  }

  private static void percentEncode(StringBuilder sb, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80 && keep(c)) {
        sb.append(c);
        continue;
      }
      int cp = s.codePointAt(i);
      if (Character.charCount(cp) == 2) {
        i++;
      }
      for (byte b : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
        sb.append('%').append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
      }
    }
  }
}
