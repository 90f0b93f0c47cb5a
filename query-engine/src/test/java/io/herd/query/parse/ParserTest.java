package io.herd.query.parse;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.query.ast.Expr;
import io.herd.query.ast.Query;
import org.junit.jupiter.api.Test;

class ParserTest {
  @Test
  void bindsOperatorsByPrecedence() {
    assertThat(Parser.parseCondition("NOT a = 1 OR b = 2 AND c + 2 * 3 > 4").toString())
        .isEqualTo("((NOT (a = 1)) OR ((b = 2) AND ((c + (2 * 3)) > 4)))");
  }

  @Test
  void collectsChainsOfAndAndOrIntoOneNode() {
    Expr e = Parser.parseCondition("a = 1 AND b = 2 AND c = 3");
    assertThat(e)
        .isInstanceOfSatisfying(Expr.Logical.class, l -> assertThat(l.operands()).hasSize(3));
  }

  @Test
  void parsesTheWholeQueryShape() {
    Query q =
        Parser.parse(
            "SELECT TOP 10 properties.reported.temp AS t, COUNT() AS n FROM devices.modules"
                + " WHERE tags.x IN ['a', \"b\"] GROUP BY properties.reported.temp");
    assertThat(q.top()).isEqualTo(10);
    assertThat(q.from()).isEqualTo(Query.Source.MODULES);
    assertThat(q.select()).hasSize(2);
    assertThat(q.select().get(0).alias()).isEqualTo("t");
    assertThat(q.toString())
        .isEqualTo(
            "SELECT TOP 10 properties.reported.temp AS t, COUNT() AS n FROM devices.modules"
                + " WHERE (tags.x IN ['a', 'b']) GROUP BY properties.reported.temp");
  }

  @Test
  void typesLiterals() {
    assertThat(Parser.parseCondition("a = -3").toString()).isEqualTo("(a = -3)");
    Expr.In in = (Expr.In) Parser.parseCondition("a IN [1, 1.5, 0x10, true, null, undefined]");
    assertThat(in.items())
        .extracting(i -> ((Expr.Literal) i).value())
        .containsExactly(1L, 1.5, 16L, true, Expr.Null.NULL, null);
  }

  @Test
  void keywordsMayBePropertyNamesAfterADot() {
    assertThat(Parser.parseCondition("tags.in = tags.select").toString())
        .isEqualTo("(tags.in = tags.select)");
  }

  @Test
  void recordsOffsetsOfExpressions() {
    Expr.Logical l = (Expr.Logical) Parser.parseCondition("a = 1 AND  b = 2");
    assertThat(l.operands().get(1).offset()).isEqualTo(11);
  }
}
