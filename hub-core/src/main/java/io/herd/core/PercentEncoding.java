package io.herd.core;

import static java.nio.charset.StandardCharsets.UTF_8;

/** Percent-encoding of URL parts. */
public final class PercentEncoding {
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private PercentEncoding() {}

  /**
   * Everything but RFC 3986's unreserved characters ({@code A-Z a-z 0-9 - _ . ~}) as {@code %XX}
   * (upper-case hex) of its UTF-8 bytes: safe in a path segment and in a query value (device ids
   * may hold {@code # ? % +}).
   */
  public static String unreserved(String s) {
    return encode(s, false);
  }

  /** As {@link #unreserved}, but {@code /} stays: a path of segments, such as a blob name. */
  public static String path(String s) {
    return encode(s, true);
  }

  private static String encode(String s, boolean keepSlash) {
    StringBuilder sb = new StringBuilder(s.length() + 16);
    for (byte b : s.getBytes(UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '_'
          || c == '.'
          || c == '~'
          || (keepSlash && c == '/')) {
        sb.append((char) c);
      } else {
        sb.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
      }
    }
    return sb.toString();
  }
}
