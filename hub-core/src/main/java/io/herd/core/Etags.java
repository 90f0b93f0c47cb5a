package io.herd.core;

/**
 * {@code If-Match} handling. Node's SDKs always quote ({@code "*"}, {@code "etag"}), C# may not,
 * proxies may add {@code W/}; all of them mean the same.
 */
public final class Etags {
  private Etags() {}

  /** The bare etag: {@code W/"abc"} and {@code "abc"} become {@code abc}; null stays null. */
  public static String strip(String etag) {
    if (etag == null) {
      return null;
    }
    String e = etag.trim();
    if (e.startsWith("W/")) {
      e = e.substring(2);
    }
    if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
      e = e.substring(1, e.length() - 1);
    }
    return e;
  }

  /** Whether an {@code If-Match} value matches {@code current}; absent and {@code *} match all. */
  public static boolean matches(String ifMatch, String current) {
    String wanted = strip(ifMatch);
    return wanted == null || wanted.isEmpty() || "*".equals(wanted) || wanted.equals(current);
  }

  /** Whether the value is absent or the wildcard. */
  public static boolean isWildcard(String ifMatch) {
    String wanted = strip(ifMatch);
    return wanted == null || wanted.isEmpty() || "*".equals(wanted);
  }
}
