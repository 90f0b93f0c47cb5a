package io.herd.query.parse;

import io.herd.query.QuerySyntaxException;
import io.herd.query.ast.Expr;
import io.herd.query.ast.Expr.BinaryOp;
import io.herd.query.ast.Query;
import io.herd.query.lex.Lexer;
import io.herd.query.lex.Token;
import io.herd.query.lex.TokenType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Recursive-descent parser for the twin query language (azure-iothub-wire.md §6), one method per
 * precedence level, loosest first:
 *
 * <pre>
 * query      = "SELECT" [ "TOP" number ] selection "FROM" source
 *              [ "WHERE" expr ] [ "GROUP" "BY" expr { "," expr } ] EOF ;
 * selection  = "*" | projection { "," projection } ;
 * projection = expr [ "AS" name ] ;
 * source     = "devices" [ "." ( "modules" | "jobs" ) ] ;
 * expr       = or ;
 * or         = and { "OR" and } ;
 * and        = not { "AND" not } ;
 * not        = "NOT" not | comparison ;
 * comparison = additive [ ( "=" | "!=" | "&lt;&gt;" | "&lt;" | "&lt;=" | "&gt;" | "&gt;=" ) additive
 *                       | ( "IN" | "NIN" ) array ] ;
 * additive   = multiplicative { ( "+" | "-" ) multiplicative } ;
 * multiplicative = unary { ( "*" | "/" | "%" ) unary } ;
 * unary      = "-" unary | primary ;
 * primary    = literal | "(" expr ")" | array | name "(" [ expr { "," expr } ] ")" | path ;
 * array      = "[" [ expr { "," expr } ] "]" ;
 * path       = name { "." name } ;        (* after a dot, keywords are names too *)
 * literal    = string | number | "true" | "false" | "null" | "undefined" ;
 * </pre>
 *
 * Errors are {@link QuerySyntaxException}s at the offending token's offset.
 */
public final class Parser {
  /** IoT Hub's limit on the query text. */
  public static final int MAX_LENGTH = 8192;

  private final List<Token> tokens;
  private int pos;

  private Parser(List<Token> tokens) {
    this.tokens = tokens;
  }

  public static Query parse(String text) {
    if (text.length() > MAX_LENGTH) {
      throw new QuerySyntaxException(
          MAX_LENGTH,
          "expected at most " + MAX_LENGTH + " characters, found a query of " + text.length());
    }
    return new Parser(Lexer.tokenize(text)).query();
  }

  /** Parses a bare condition, as in a job's {@code queryCondition}. */
  public static Expr parseCondition(String text) {
    if (text.length() > MAX_LENGTH) {
      throw new QuerySyntaxException(
          MAX_LENGTH,
          "expected at most " + MAX_LENGTH + " characters, found a condition of " + text.length());
    }
    Parser p = new Parser(Lexer.tokenize(text));
    Expr e = p.expr();
    p.expect(TokenType.EOF, "end of query");
    return e;
  }

  private Query query() {
    expect(TokenType.SELECT, "SELECT");
    long top = -1;
    if (accept(TokenType.TOP)) {
      Token n = peek();
      if (n.type() != TokenType.NUMBER || !n.text().chars().allMatch(Character::isDigit)) {
        throw error("a whole number");
      }
      pos++;
      try {
        top = Long.parseLong(n.text());
      } catch (NumberFormatException e) {
        throw new QuerySyntaxException(n.offset(), "expected a smaller number after TOP");
      }
    }
    List<Query.Projection> select = new ArrayList<>();
    if (!accept(TokenType.STAR)) {
      do {
        Expr e = expr();
        String alias = null;
        if (accept(TokenType.AS)) {
          alias = name("an alias after AS");
        }
        select.add(new Query.Projection(e, alias));
      } while (accept(TokenType.COMMA));
    }
    expect(TokenType.FROM, "FROM or ','");
    Query.Source from = source();
    Expr where = null;
    if (accept(TokenType.WHERE)) {
      where = expr();
    }
    List<Expr> groupBy = new ArrayList<>();
    if (accept(TokenType.GROUP)) {
      expect(TokenType.BY, "BY");
      do {
        groupBy.add(expr());
      } while (accept(TokenType.COMMA));
    }
    if (peek().type() != TokenType.EOF) {
      throw error(
          where == null && groupBy.isEmpty()
              ? "WHERE, GROUP BY or end of query"
              : groupBy.isEmpty() ? "an operator, GROUP BY or end of query" : "end of query");
    }
    return new Query(top, select, from, where, groupBy);
  }

  private Query.Source source() {
    Token t = peek();
    if (t.type() != TokenType.IDENT || !t.text().equalsIgnoreCase("devices")) {
      throw error("devices, devices.modules or devices.jobs");
    }
    pos++;
    if (!accept(TokenType.DOT)) {
      return Query.Source.DEVICES;
    }
    Token sub = peek();
    String s = sub.text().toLowerCase(Locale.ROOT);
    if (sub.type() == TokenType.IDENT && s.equals("modules")) {
      pos++;
      return Query.Source.MODULES;
    }
    if (sub.type() == TokenType.IDENT && s.equals("jobs")) {
      pos++;
      return Query.Source.JOBS;
    }
    throw error("modules or jobs");
  }

  private Expr expr() {
    return or();
  }

  private Expr or() {
    return chain(TokenType.OR, this::and);
  }

  private Expr and() {
    return chain(TokenType.AND, this::not);
  }

  /** {@code operand { op operand }} as one n-ary AND/OR node, or the single operand. */
  private Expr chain(TokenType op, java.util.function.Supplier<Expr> operand) {
    Expr first = operand.get();
    if (peek().type() != op) {
      return first;
    }
    List<Expr> operands = new ArrayList<>();
    operands.add(first);
    while (accept(op)) {
      operands.add(operand.get());
    }
    return new Expr.Logical(op == TokenType.AND, operands, first.offset());
  }

  private Expr not() {
    Token t = peek();
    if (accept(TokenType.NOT)) {
      return new Expr.Unary(Expr.UnaryOp.NOT, not(), t.offset());
    }
    return comparison();
  }

  private Expr comparison() {
    Expr left = additive();
    Token t = peek();
    BinaryOp op =
        switch (t.type()) {
          case EQ -> BinaryOp.EQ;
          case NE -> BinaryOp.NE;
          case LT -> BinaryOp.LT;
          case LE -> BinaryOp.LE;
          case GT -> BinaryOp.GT;
          case GE -> BinaryOp.GE;
          default -> null;
        };
    if (op != null) {
      pos++;
      return new Expr.Binary(op, left, additive(), left.offset());
    }
    if (t.type() == TokenType.IN || t.type() == TokenType.NIN) {
      pos++;
      if (peek().type() != TokenType.LBRACKET) {
        throw error("'[' to start the list");
      }
      Expr.Array list = array();
      return new Expr.In(left, list.items(), t.type() == TokenType.NIN, left.offset());
    }
    return left;
  }

  private Expr additive() {
    Expr left = multiplicative();
    while (true) {
      TokenType t = peek().type();
      if (t != TokenType.PLUS && t != TokenType.MINUS) {
        return left;
      }
      pos++;
      left =
          new Expr.Binary(
              t == TokenType.PLUS ? BinaryOp.ADD : BinaryOp.SUB,
              left,
              multiplicative(),
              left.offset());
    }
  }

  private Expr multiplicative() {
    Expr left = unary();
    while (true) {
      TokenType t = peek().type();
      BinaryOp op =
          switch (t) {
            case STAR -> BinaryOp.MUL;
            case SLASH -> BinaryOp.DIV;
            case PERCENT -> BinaryOp.MOD;
            default -> null;
          };
      if (op == null) {
        return left;
      }
      pos++;
      left = new Expr.Binary(op, left, unary(), left.offset());
    }
  }

  private Expr unary() {
    Token t = peek();
    if (accept(TokenType.MINUS)) {
      Expr operand = unary();
      if (operand instanceof Expr.Literal l && l.value() instanceof Long n) {
        return new Expr.Literal(-n, t.offset());
      }
      if (operand instanceof Expr.Literal l && l.value() instanceof Double d) {
        return new Expr.Literal(-d, t.offset());
      }
      return new Expr.Unary(Expr.UnaryOp.NEG, operand, t.offset());
    }
    return primary();
  }

  private Expr primary() {
    Token t = peek();
    switch (t.type()) {
      case STRING:
        pos++;
        return new Expr.Literal(t.text(), t.offset());
      case NUMBER:
        pos++;
        return new Expr.Literal(number(t), t.offset());
      case TRUE:
        pos++;
        return new Expr.Literal(Boolean.TRUE, t.offset());
      case FALSE:
        pos++;
        return new Expr.Literal(Boolean.FALSE, t.offset());
      case NULL:
        pos++;
        return new Expr.Literal(Expr.Null.NULL, t.offset());
      case UNDEFINED:
        pos++;
        return new Expr.Literal(null, t.offset());
      case LPAREN:
        {
          pos++;
          Expr e = expr();
          expect(TokenType.RPAREN, "')' to close the '(' at offset " + t.offset());
          return e;
        }
      case LBRACKET:
        return array();
      case IDENT:
        {
          pos++;
          if (accept(TokenType.LPAREN)) {
            List<Expr> args = new ArrayList<>();
            if (!accept(TokenType.RPAREN)) {
              do {
                args.add(expr());
              } while (accept(TokenType.COMMA));
              expect(TokenType.RPAREN, "',' or ')' in the arguments of " + t.text());
            }
            return new Expr.Call(t.text(), args, t.offset());
          }
          List<String> segments = new ArrayList<>();
          segments.add(t.text());
          while (accept(TokenType.DOT)) {
            Token s = peek();
            if (s.type() == TokenType.IDENT || isKeyword(s.type())) {
              pos++;
              segments.add(s.text());
            } else {
              throw error("a property name");
            }
          }
          return new Expr.Path(segments, t.offset());
        }
      default:
        throw error("an expression");
    }
  }

  private static boolean isKeyword(TokenType t) {
    return t.ordinal() >= TokenType.SELECT.ordinal()
        && t.ordinal() <= TokenType.UNDEFINED.ordinal();
  }

  private Expr.Array array() {
    Token open = peek();
    expect(TokenType.LBRACKET, "'['");
    List<Expr> items = new ArrayList<>();
    if (!accept(TokenType.RBRACKET)) {
      do {
        items.add(expr());
      } while (accept(TokenType.COMMA));
      expect(TokenType.RBRACKET, "',' or ']' to close the list at offset " + open.offset());
    }
    return new Expr.Array(items, open.offset());
  }

  private static Object number(Token t) {
    String s = t.text();
    try {
      if (s.startsWith("0x") || s.startsWith("0X")) {
        return Long.parseLong(s.substring(2), 16);
      }
      if (s.indexOf('.') < 0 && s.indexOf('e') < 0 && s.indexOf('E') < 0) {
        try {
          return Long.parseLong(s);
        } catch (NumberFormatException tooBig) {
          return Double.parseDouble(s);
        }
      }
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      throw new QuerySyntaxException(t.offset(), "expected a number, found '" + s + "'");
    }
  }

  private String name(String what) {
    Token t = peek();
    if (t.type() == TokenType.IDENT || t.type() == TokenType.STRING) {
      pos++;
      return t.text();
    }
    throw error(what);
  }

  private Token peek() {
    return tokens.get(pos);
  }

  private boolean accept(TokenType type) {
    if (peek().type() == type) {
      pos++;
      return true;
    }
    return false;
  }

  private void expect(TokenType type, String what) {
    if (!accept(type)) {
      throw error(what);
    }
  }

  /** "expected X after 'prev', found Y" at the current token. */
  private QuerySyntaxException error(String what) {
    Token t = peek();
    String after = pos > 0 ? " after '" + tokens.get(pos - 1).text() + "'" : "";
    return new QuerySyntaxException(
        t.offset(), "expected " + what + after + ", found " + t.describe());
  }
}
