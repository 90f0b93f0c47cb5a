package io.herd.query;

/**
 * A query that cannot be compiled: where it went wrong (a 0-based character offset into the query
 * text) and what was expected there. The REST layer maps it to 400 with this message.
 */
public final class QuerySyntaxException extends RuntimeException {
  private final int offset;
  private final String expected;

  public QuerySyntaxException(int offset, String expected) {
    super("at offset " + offset + ": " + expected);
    this.offset = offset;
    this.expected = expected;
  }

  public int offset() {
    return offset;
  }

  /** What was expected at {@link #offset()}, in words. */
  public String expected() {
    return expected;
  }
}
