package io.herd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class TableLayoutTest {
  private static final List<String> HEADERS = List.of("deviceId", "status", "tags");
  private static final List<List<String>> ROWS =
      List.of(
          List.of("dev1", "enabled", "{\"site\":\"b1\",\"floor\":2,\"note\":\"a long tag value\"}"),
          List.of("device-2", "disabled", "{}"));

  @Test
  void columnsAreAsWideAsTheirWidestCellWhenTheyFit() {
    List<String> lines = TableLayout.render(HEADERS, ROWS, 200);
    assertThat(lines)
        .containsExactly(
            "deviceId  status    tags",
            "dev1      enabled   {\"site\":\"b1\",\"floor\":2,\"note\":\"a long tag value\"}",
            "device-2  disabled  {}");
  }

  @Test
  void theRightmostColumnsGiveWayFirstAndCutCellsEndInAnEllipsis() {
    List<String> lines = TableLayout.render(HEADERS, ROWS, 30);
    assertThat(lines).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(30));
    assertThat(lines.get(1)).isEqualTo("dev1      enabled   {\"site\":\"…");
    assertThat(lines.get(2)).isEqualTo("device-2  disabled  {}");
  }

  @Test
  void columnsShrinkNoFurtherThanEightCharactersThenLinesAreCut() {
    List<String> headers = List.of("deviceId", "cloudToDeviceMessageCount", "x");
    List<List<String>> rows = List.of(List.of("a-rather-long-device-id", "12345", "v"));
    List<String> lines = TableLayout.render(headers, rows, 21);
    assertThat(lines).containsExactly("deviceId  cloudTo…  x", "a-rathe…  12345     v");
    // Narrower than the columns at their floors: lines end at the edge.
    assertThat(TableLayout.render(headers, rows, 10)).containsExactly("deviceId …", "a-rathe… …");
  }

  @Test
  void cellsAreOnOneLineAndLinesHaveNoTrailingBlanks() {
    assertThat(TableLayout.oneLine("a\nb\tc\r")).isEqualTo("a b c ");
    List<String> lines =
        TableLayout.render(List.of("a", "b"), List.of(List.of("long value", "")), 80);
    assertThat(lines).containsExactly("a           b", "long value");
  }
}
