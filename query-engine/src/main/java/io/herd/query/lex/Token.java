package io.herd.query.lex;

/**
 * One token: its kind, its text (for strings the unescaped value, for identifiers the name as
 * written) and where it starts in the query.
 */
public record Token(TokenType type, String text, int offset) {
  /** How the token reads in an error message. */
  public String describe() {
    return switch (type) {
      case EOF -> "end of query";
      case STRING -> "string '" + text + "'";
      case NUMBER -> "number " + text;
      case IDENT -> "'" + text + "'";
      default -> "'" + text + "'";
    };
  }
}
