package io.herd.query.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.query.QuerySyntaxException;
import io.herd.query.parse.Parser;
import org.junit.jupiter.api.Test;

class BinderTest {
  @Test
  void spellsSystemFieldsAndFunctionsCanonically() {
    assertThat(
            Binder.bindCondition(
                    Parser.parseCondition("DEVICEID = 'a' AND starts_with(Tags.x, 'b')"))
                .toString())
        .isEqualTo("((deviceId = 'a') AND STARTSWITH(tags.x, 'b'))");
  }

  @Test
  void keepsPropertyNamesAsWritten() {
    assertThat(
            Binder.bindCondition(Parser.parseCondition("properties.Reported.Temp = 1")).toString())
        .isEqualTo("(properties.reported.Temp = 1)");
  }

  @Test
  void rejectsWrongArityAtTheCall() {
    assertThatThrownBy(
            () -> Binder.bindCondition(Parser.parseCondition("tags.a = 1 OR SUBSTRING(tags.a, 1)")))
        .isInstanceOfSatisfying(
            QuerySyntaxException.class,
            e -> {
              assertThat(e.offset()).isEqualTo(14);
              assertThat(e.expected()).isEqualTo("expected 3 arguments for SUBSTRING, found 2");
            });
  }

  @Test
  void requiresGroupKeysOrAggregatesInGroupedSelects() {
    assertThatThrownBy(
            () -> Binder.bind(Parser.parse("SELECT tags.a, COUNT() FROM devices GROUP BY tags.b")))
        .isInstanceOf(QuerySyntaxException.class)
        .hasMessage(
            "at offset 7: expected an aggregate or a GROUP BY key in the select list, found 'tags.a'");
    assertThat(
            Binder.bind(Parser.parse("SELECT Tags.b, COUNT() FROM devices GROUP BY tags.b"))
                .toString())
        .isEqualTo("SELECT tags.b, COUNT() FROM devices GROUP BY tags.b");
  }
}
