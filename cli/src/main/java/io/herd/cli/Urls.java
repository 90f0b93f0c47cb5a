package io.herd.cli;

import java.nio.charset.StandardCharsets;

/** Percent-encoding of path segments and query values. */
final class Urls {
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private Urls() {}

  /**
   * Everything but RFC 3986's unreserved characters ({@code A-Z a-z 0-9 - _ . ~}) as {@code %XX} of
   * its UTF-8 bytes: safe in a path segment and in a query value (device ids may hold {@code # ? %
   * +}).
   */
  static String encode(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 8);
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '_'
          || c == '.'
          || c == '~') {
        sb.append((char) c);
      } else {
        sb.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
      }
    }
    return sb.toString();
  }
}
