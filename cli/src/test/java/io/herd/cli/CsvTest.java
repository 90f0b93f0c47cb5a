package io.herd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CsvTest {
  @Test
  void quotesOnlyFieldsThatNeedIt() {
    assertThat(
            Csv.line(
                List.of("plain", "a,b", "say \"hi\"", "two\nlines", " padded", "", "{\"a\":1}")))
        .isEqualTo(
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" padded\",,\"{\"\"a\"\":1}\"");
  }

  @Test
  void parsesWhatItWrites() throws IOException {
    List<String> fields = List.of("x", "a,b", "say \"hi\"", "two\r\nlines", "", "{\"a\":1}");
    String text = Csv.line(fields) + "\n" + Csv.line(List.of("1", "2", "3", "4", "5", "6"));
    assertThat(parseAll(text)).containsExactly(fields, List.of("1", "2", "3", "4", "5", "6"));
  }

  @Test
  void acceptsCrlfAndSkipsBlankLines() throws IOException {
    assertThat(parseAll("a,b\r\n\r\n1,2\r\n\n3,\r\n"))
        .containsExactly(List.of("a", "b"), List.of("1", "2"), List.of("3", ""));
  }

  @Test
  void countsLinesAcrossQuotedLineBreaks() throws IOException {
    Csv.Parser p = new Csv.Parser(new StringReader("h\n\"a\nb\"\nc\n"));
    p.next();
    assertThat(p.line()).isEqualTo(2);
    p.next();
    assertThat(p.line()).isEqualTo(4);
  }

  @Test
  void refusesAnUnclosedQuoteAndTextAfterAClosingQuote() {
    assertThatThrownBy(() -> parseAll("a,\"b\n"))
        .hasMessageContaining("line 1")
        .hasMessageContaining("not closed");
    assertThatThrownBy(() -> parseAll("a,\"b\"c\n")).hasMessageContaining("after a closing quote");
  }

  private static List<List<String>> parseAll(String text) throws IOException {
    Csv.Parser p = new Csv.Parser(new StringReader(text));
    List<List<String>> out = new ArrayList<>();
    for (List<String> r = p.next(); r != null; r = p.next()) {
      out.add(r);
    }
    return out;
  }
}
