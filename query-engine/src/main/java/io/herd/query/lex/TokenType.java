package io.herd.query.lex;

/** Kinds of tokens; keywords are recognised case-insensitively by the lexer. */
public enum TokenType {
  IDENT,
  STRING,
  NUMBER,
  // keywords
  SELECT,
  TOP,
  FROM,
  WHERE,
  GROUP,
  BY,
  AS,
  AND,
  OR,
  NOT,
  IN,
  NIN,
  TRUE,
  FALSE,
  NULL,
  UNDEFINED,
  // punctuation and operators
  STAR,
  COMMA,
  DOT,
  LPAREN,
  RPAREN,
  LBRACKET,
  RBRACKET,
  EQ,
  NE,
  LT,
  LE,
  GT,
  GE,
  PLUS,
  MINUS,
  SLASH,
  PERCENT,
  EOF
}
