package io.herd.query.lex;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LexerTest {
  @Test
  void keywordsAreCaseInsensitiveAndKeepOffsets() {
    List<Token> tokens = Lexer.tokenize("select Top 5 * From devices");
    assertThat(tokens)
        .extracting(Token::type)
        .containsExactly(
            TokenType.SELECT,
            TokenType.TOP,
            TokenType.NUMBER,
            TokenType.STAR,
            TokenType.FROM,
            TokenType.IDENT,
            TokenType.EOF);
    assertThat(tokens).extracting(Token::offset).containsExactly(0, 7, 11, 13, 15, 20, 27);
  }

  @Test
  void readsDollarNamesOperatorsAndNumbers() {
    List<Token> tokens = Lexer.tokenize("$metadata <> != <= >= 0x1F 1.5e3 .5");
    assertThat(tokens)
        .extracting(Token::type)
        .containsExactly(
            TokenType.IDENT,
            TokenType.NE,
            TokenType.NE,
            TokenType.LE,
            TokenType.GE,
            TokenType.NUMBER,
            TokenType.NUMBER,
            TokenType.NUMBER,
            TokenType.EOF);
    assertThat(tokens.get(0).text()).isEqualTo("$metadata");
    assertThat(tokens.get(5).text()).isEqualTo("0x1F");
  }

  @Test
  void unescapesStringsInEitherQuote() {
    List<Token> tokens = Lexer.tokenize("'it\\'s' \"say \\\"hi\\\"\" '\\u00e9\\n'");
    assertThat(tokens.subList(0, 3))
        .extracting(Token::text)
        .containsExactly("it's", "say \"hi\"", "é\n");
  }

  @Test
  void bracketQuotedNamesAreIdentifiers() {
    List<Token> tokens = Lexer.tokenize("configurations.[[my-config]].status");
    assertThat(tokens.get(2)).isEqualTo(new Token(TokenType.IDENT, "my-config", 15));
  }
}
