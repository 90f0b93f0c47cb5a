package io.herd.core;

/**
 * Validation of device and module ids: case-sensitive, 1 to 128 characters of {@code
 * [A-Za-z0-9-:.+%_#*?!(),=@;$']} (azure-iothub-wire.md §5.3).
 */
public final class Ids {
  public static final int MAX_LENGTH = 128;
  private static final boolean[] ALLOWED = new boolean[128];

  static {
    for (char c = 'a'; c <= 'z'; c++) {
      ALLOWED[c] = true;
    }
    for (char c = 'A'; c <= 'Z'; c++) {
      ALLOWED[c] = true;
    }
    for (char c = '0'; c <= '9'; c++) {
      ALLOWED[c] = true;
    }
    for (char c : "-:.+%_#*?!(),=@;$'".toCharArray()) {
      ALLOWED[c] = true;
    }
  }

  private Ids() {}

  /** Whether {@code id} is a valid device or module id. */
  public static boolean isValid(String id) {
    return problem(id) == null;
  }

  /**
   * Returns the id when valid.
   *
   * @param what the field name used in the error message, e.g. {@code deviceId}
   * @throws HubException {@link ErrorCode#ARGUMENT_INVALID} naming the field and the offending
   *     character
   */
  public static String require(String what, String id) {
    String problem = problem(id);
    if (problem != null) {
      throw HubException.badRequest(what + " " + problem);
    }
    return id;
  }

  private static String problem(String id) {
    if (id == null || id.isEmpty()) {
      return "is missing";
    }
    if (id.length() > MAX_LENGTH) {
      return "is longer than " + MAX_LENGTH + " characters";
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (c >= 128 || !ALLOWED[c]) {
        return "'"
            + id
            + "' has a character that is not allowed at position "
            + i
            + " (allowed: A-Z a-z 0-9 - : . + % _ # * ? ! ( ) , = @ ; $ ')";
      }
    }
    return null;
  }
}
