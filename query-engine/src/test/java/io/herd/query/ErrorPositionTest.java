package io.herd.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ErrorPositionTest {
  static Stream<Arguments> badQueries() {
    return Stream.of(
        Arguments.of(
            "SELECT * FROM devices WHERE tags.x = 1 AND",
            42,
            "expected an expression after 'AND', found end of query"),
        Arguments.of(
            "SELECT * FROM devices WHERE tags.x = 'abc",
            37,
            "expected a closing ' for the string that starts here"),
        Arguments.of("SELECT * FORM devices", 9, "expected FROM or ',' after '*', found 'FORM'"),
        Arguments.of(
            "SELECT * FROM things",
            14,
            "expected devices, devices.modules or devices.jobs after 'FROM', found 'things'"),
        Arguments.of(
            "SELECT * FROM devices.twins", 22, "expected modules or jobs after '.', found 'twins'"),
        Arguments.of(
            "SELECT * FROM devices WHERE FOO(deviceId)",
            28,
            "expected a known function (IS_DEFINED, STARTSWITH, LOWER, ABS, ARRAY_CONTAINS, ...),"
                + " found 'FOO'"),
        Arguments.of(
            "SELECT * FROM devices WHERE STARTSWITH(deviceId)",
            28,
            "expected 2 arguments for STARTSWITH, found 1"),
        Arguments.of(
            "SELECT * FROM devices WHERE deviceId = 'a' AND foo.bar = 1",
            47,
            "expected a twin field (deviceId, moduleId, status, connectionState, lastActivityTime,"
                + " tags.*, properties.desired.*, properties.reported.*, ...), found 'foo.bar'"),
        Arguments.of(
            "SELECT * FROM devices WHERE (tags.a = 1",
            39,
            "expected ')' to close the '(' at offset 28 after '1', found end of query"),
        Arguments.of(
            "SELECT * FROM devices WHERE tags.a IN 'x'",
            38,
            "expected '[' to start the list after 'IN', found string 'x'"),
        Arguments.of(
            "SELECT * FROM devices WHERE tags.a IN [1, 2",
            43,
            "expected ',' or ']' to close the list at offset 38 after '2', found end of query"),
        Arguments.of(
            "SELECT deviceId, COUNT() FROM devices",
            7,
            "expected an aggregate or a GROUP BY key in the select list, found 'deviceId'"),
        Arguments.of(
            "SELECT * FROM devices WHERE COUNT() > 1",
            28,
            "expected an aggregate such as COUNT() only at the top of a select list item"),
        Arguments.of(
            "SELECT * FROM devices WHERE deviceId = 'a' deviceId",
            43,
            "expected an operator, GROUP BY or end of query after 'a', found 'deviceId'"),
        Arguments.of(
            "SELECT * FROM devices WHERE tags.x ! 1",
            35,
            "expected '!=' (use NOT for negation), found '!'"),
        Arguments.of(
            "SELECT TOP x * FROM devices", 11, "expected a whole number after 'TOP', found 'x'"),
        Arguments.of(
            "SELECT * FROM devices WHERE properties.foo = 1",
            28,
            "expected desired or reported after 'properties.', found 'foo'"),
        Arguments.of(
            "SELECT * FROM devices WHERE tags.x = 'a\\q'",
            39,
            "expected an escape (\\' \\\" \\\\ \\n \\t \\uXXXX), found '\\q'"),
        Arguments.of(
            "SELECT * FROM devices WHERE tags.x = 12abc", 37, "expected a number, found '12a'"),
        Arguments.of(
            "SELECT * FROM devices WHERE properties.reported.$metadata.temp = 1",
            28,
            "expected $lastUpdated at the end of a $metadata path"),
        Arguments.of("", 0, "expected SELECT, found end of query"));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("badQueries")
  void reportsWhereAndWhat(String query, int offset, String expected) {
    assertThatThrownBy(() -> QueryEngine.compile(query))
        .isInstanceOfSatisfying(
            QuerySyntaxException.class,
            e -> {
              assertThat(e.expected()).isEqualTo(expected);
              assertThat(e.offset()).isEqualTo(offset);
              assertThat(e.getMessage()).isEqualTo("at offset " + offset + ": " + expected);
            });
  }

  @Test
  void rejectsQueriesOverTheLengthLimitAtTheLimit() {
    String ok = "SELECT * FROM devices WHERE deviceId = '" + "x".repeat(8192 - 41) + "'";
    assertThat(ok).hasSize(8192);
    assertThat(QueryEngine.compile(ok)).isNotNull();

    String tooLong = ok + " ";
    assertThatThrownBy(() -> QueryEngine.compile(tooLong))
        .isInstanceOfSatisfying(
            QuerySyntaxException.class,
            e -> {
              assertThat(e.offset()).isEqualTo(8192);
              assertThat(e.expected())
                  .isEqualTo("expected at most 8192 characters, found a query of 8193");
            });
  }

  @Test
  void deviceJobQueriesNameTheJobFieldsTheyMayUse() {
    assertThatThrownBy(
            () -> QueryEngine.compile("SELECT * FROM devices.jobs WHERE tags.site = 'x'"))
        .isInstanceOfSatisfying(
            QuerySyntaxException.class,
            e -> {
              assertThat(e.offset()).isEqualTo(33);
              assertThat(e.expected()).contains("expected a devices.jobs field (deviceId, jobId");
            });
  }
}
