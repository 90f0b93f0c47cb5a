package io.herd.query;

/** A query that is valid but asks for something Herd does not run yet (such as devices.jobs). */
public final class QueryNotSupportedException extends RuntimeException {
  private final int offset;

  public QueryNotSupportedException(int offset, String message) {
    super("at offset " + offset + ": " + message);
    this.offset = offset;
  }

  public int offset() {
    return offset;
  }
}
