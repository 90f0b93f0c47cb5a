package io.herd.query.lex;

import io.herd.query.QuerySyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns the whole query text into tokens, the last one {@link TokenType#EOF}. Keywords are
 * case-insensitive; identifiers may start with {@code $} ({@code $metadata}, {@code $version});
 * strings take single or double quotes with the escapes {@code \' \" \\ \/ \b \f \n \r \t
 * &#92;uXXXX}; numbers are decimal (with fraction and exponent) or {@code 0x} hexadecimal.
 * Bracket-quoted names {@code [[id]]} become identifiers.
 */
public final class Lexer {
  private static final Map<String, TokenType> KEYWORDS =
      Map.ofEntries(
          Map.entry("SELECT", TokenType.SELECT),
          Map.entry("TOP", TokenType.TOP),
          Map.entry("FROM", TokenType.FROM),
          Map.entry("WHERE", TokenType.WHERE),
          Map.entry("GROUP", TokenType.GROUP),
          Map.entry("BY", TokenType.BY),
          Map.entry("AS", TokenType.AS),
          Map.entry("AND", TokenType.AND),
          Map.entry("OR", TokenType.OR),
          Map.entry("NOT", TokenType.NOT),
          Map.entry("IN", TokenType.IN),
          Map.entry("NIN", TokenType.NIN),
          Map.entry("TRUE", TokenType.TRUE),
          Map.entry("FALSE", TokenType.FALSE),
          Map.entry("NULL", TokenType.NULL),
          Map.entry("UNDEFINED", TokenType.UNDEFINED));

  private final String src;
  private int pos;

  private Lexer(String src) {
    this.src = src;
  }

  public static List<Token> tokenize(String src) {
    return new Lexer(src).run();
  }

  private List<Token> run() {
    List<Token> out = new ArrayList<>();
    while (true) {
      while (pos < src.length() && Character.isWhitespace(src.charAt(pos))) {
        pos++;
      }
      if (pos >= src.length()) {
        out.add(new Token(TokenType.EOF, "", pos));
        return out;
      }
      out.add(next());
    }
  }

  private Token next() {
    int start = pos;
    char c = src.charAt(pos);
    if (c == '\'' || c == '"') {
      return string(c);
    }
    if (Character.isDigit(c) || (c == '.' && pos + 1 < src.length() && isDigit(pos + 1))) {
      return number();
    }
    if (Character.isLetter(c) || c == '_' || c == '$') {
      pos++;
      while (pos < src.length()) {
        char d = src.charAt(pos);
        if (!(Character.isLetterOrDigit(d) || d == '_' || d == '$')) {
          break;
        }
        pos++;
      }
      String word = src.substring(start, pos);
      TokenType kw = KEYWORDS.get(word.toUpperCase(Locale.ROOT));
      return new Token(kw == null ? TokenType.IDENT : kw, word, start);
    }
    if (c == '[' && src.startsWith("[[", pos)) {
      int end = src.indexOf("]]", pos + 2);
      if (end < 0) {
        throw new QuerySyntaxException(start, "expected ']]' to close the bracket-quoted name");
      }
      pos = end + 2;
      return new Token(TokenType.IDENT, src.substring(start + 2, end), start);
    }
    pos++;
    return switch (c) {
      case '*' -> new Token(TokenType.STAR, "*", start);
      case ',' -> new Token(TokenType.COMMA, ",", start);
      case '.' -> new Token(TokenType.DOT, ".", start);
      case '(' -> new Token(TokenType.LPAREN, "(", start);
      case ')' -> new Token(TokenType.RPAREN, ")", start);
      case '[' -> new Token(TokenType.LBRACKET, "[", start);
      case ']' -> new Token(TokenType.RBRACKET, "]", start);
      case '+' -> new Token(TokenType.PLUS, "+", start);
      case '-' -> new Token(TokenType.MINUS, "-", start);
      case '/' -> new Token(TokenType.SLASH, "/", start);
      case '%' -> new Token(TokenType.PERCENT, "%", start);
      case '=' -> new Token(TokenType.EQ, "=", start);
      case '!' -> {
        if (pos < src.length() && src.charAt(pos) == '=') {
          pos++;
          yield new Token(TokenType.NE, "!=", start);
        }
        throw new QuerySyntaxException(start, "expected '!=' (use NOT for negation), found '!'");
      }
      case '<' -> {
        if (pos < src.length() && src.charAt(pos) == '=') {
          pos++;
          yield new Token(TokenType.LE, "<=", start);
        }
        if (pos < src.length() && src.charAt(pos) == '>') {
          pos++;
          yield new Token(TokenType.NE, "<>", start);
        }
        yield new Token(TokenType.LT, "<", start);
      }
      case '>' -> {
        if (pos < src.length() && src.charAt(pos) == '=') {
          pos++;
          yield new Token(TokenType.GE, ">=", start);
        }
        yield new Token(TokenType.GT, ">", start);
      }
      default ->
          throw new QuerySyntaxException(
              start, "expected a name, literal or operator, found '" + c + "'");
    };
  }

  private boolean isDigit(int i) {
    return Character.isDigit(src.charAt(i));
  }

  private Token number() {
    int start = pos;
    if (src.startsWith("0x", pos) || src.startsWith("0X", pos)) {
      pos += 2;
      while (pos < src.length() && Character.digit(src.charAt(pos), 16) >= 0) {
        pos++;
      }
      if (pos == start + 2) {
        throw new QuerySyntaxException(pos, "expected hexadecimal digits after '0x'");
      }
    } else {
      while (pos < src.length() && isDigit(pos)) {
        pos++;
      }
      if (pos < src.length() && src.charAt(pos) == '.') {
        pos++;
        while (pos < src.length() && isDigit(pos)) {
          pos++;
        }
      }
      if (pos < src.length() && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
        int e = pos++;
        if (pos < src.length() && (src.charAt(pos) == '+' || src.charAt(pos) == '-')) {
          pos++;
        }
        if (pos >= src.length() || !isDigit(pos)) {
          throw new QuerySyntaxException(e, "expected digits in the exponent");
        }
        while (pos < src.length() && isDigit(pos)) {
          pos++;
        }
      }
    }
    if (pos < src.length() && (Character.isLetter(src.charAt(pos)) || src.charAt(pos) == '_')) {
      throw new QuerySyntaxException(
          start, "expected a number, found '" + src.substring(start, pos + 1) + "'");
    }
    return new Token(TokenType.NUMBER, src.substring(start, pos), start);
  }

  private Token string(char quote) {
    int start = pos++;
    StringBuilder sb = new StringBuilder();
    while (true) {
      if (pos >= src.length()) {
        throw new QuerySyntaxException(
            start, "expected a closing " + quote + " for the string that starts here");
      }
      char c = src.charAt(pos++);
      if (c == quote) {
        return new Token(TokenType.STRING, sb.toString(), start);
      }
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      if (pos >= src.length()) {
        continue; // reported as unterminated on the next turn
      }
      int esc = pos - 1;
      char e = src.charAt(pos++);
      switch (e) {
        case '\'', '"', '\\', '/' -> sb.append(e);
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'u' -> {
          if (pos + 4 > src.length()) {
            throw new QuerySyntaxException(esc, "expected four hex digits after \\u");
          }
          int v = 0;
          for (int i = 0; i < 4; i++) {
            int d = Character.digit(src.charAt(pos + i), 16);
            if (d < 0) {
              throw new QuerySyntaxException(esc, "expected four hex digits after \\u");
            }
            v = v * 16 + d;
          }
          pos += 4;
          sb.append((char) v);
        }
        default ->
            throw new QuerySyntaxException(
                esc, "expected an escape (\\' \\\" \\\\ \\n \\t \\uXXXX), found '\\" + e + "'");
      }
    }
  }
}
