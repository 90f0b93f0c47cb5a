package io.herd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutputTest {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final List<String> warnings = new ArrayList<>();

  private Output output(Output.Format f) {
    return new Output(
        f, new PrintStream(bytes, true, StandardCharsets.UTF_8), () -> 200, warnings::add);
  }

  private String printed() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private static JsonObject twin(String id, String site) {
    return new JsonObject(
        "{\"deviceId\":\""
            + id
            + "\",\"etag\":\"AAAAAAAAAAE=\",\"status\":\"enabled\",\"connectionState\":\"Connected\","
            + "\"lastActivityTime\":\"2026-01-01T00:00:00Z\",\"cloudToDeviceMessageCount\":0,"
            + "\"tags\":{\"site\":\""
            + site
            + "\"},\"properties\":{\"desired\":{\"fw\":\"1.2\",\"$metadata\":{},\"$version\":2},"
            + "\"reported\":{\"$metadata\":{},\"$version\":1}}}");
  }

  @Test
  void jsonListingsAreOneArrayWithARowPerLineAcrossPages() {
    Output.Rows rows = output(Output.Format.JSON).rows();
    rows.page(new JsonArray().add(new JsonObject().put("a", 1)), "raw");
    rows.page(new JsonArray().add(new JsonObject().put("a", 2)).add(3), "raw");
    rows.end();
    assertThat(printed()).isEqualTo("[\n{\"a\":1},\n{\"a\":2},\n3\n]\n");
    assertThat(new JsonArray(printed())).hasSize(3);
  }

  @Test
  void anEmptyJsonListingIsAnEmptyArray() {
    Output.Rows rows = output(Output.Format.JSON).rows();
    rows.page(new JsonArray(), "twin");
    rows.end();
    assertThat(printed()).isEqualTo("[]\n");
  }

  @Test
  void twinsPrintAsChosenColumnsWithoutMetadata() {
    Output.Rows rows = output(Output.Format.CSV).rows();
    rows.page(new JsonArray().add(twin("d1", "b1")).add(twin("d,2", "b2")), "twin");
    rows.end();
    assertThat(printed())
        .isEqualTo(
            "deviceId,status,connectionState,lastActivityTime,cloudToDeviceMessageCount,tags,desired,reported\n"
                + "d1,enabled,Connected,2026-01-01T00:00:00Z,0,\"{\"\"site\"\":\"\"b1\"\"}\",\"{\"\"fw\"\":\"\"1.2\"\"}\",{}\n"
                + "\"d,2\",enabled,Connected,2026-01-01T00:00:00Z,0,\"{\"\"site\"\":\"\"b2\"\"}\",\"{\"\"fw\"\":\"\"1.2\"\"}\",{}\n");
  }

  @Test
  void rawRowsTakeTheirColumnsFromTheFirstPageAndWarnOfNewKeysLater() {
    Output.Rows rows = output(Output.Format.TABLE).rows();
    rows.page(
        new JsonArray()
            .add(new JsonObject().put("deviceId", "d1").put("n", 5))
            .add(new JsonObject().put("deviceId", "device-two").put("extra", true)),
        "raw");
    rows.page(new JsonArray().add(new JsonObject().put("deviceId", "d3").put("late", 1)), "raw");
    rows.end();
    assertThat(printed())
        .isEqualTo("deviceId    n  extra\n" + "d1          5\n" + "device-two     true\n" + "d3\n");
    assertThat(warnings).singleElement().asString().contains("'late'");
    assertThat(rows.count()).isEqualTo(3);
  }

  @Test
  void aSingleObjectIsFlattenedForTablesAndPrettyForJson() {
    JsonObject o =
        new JsonObject()
            .put("deviceId", "d1")
            .put("tags", new JsonObject().put("site", "b1").put("list", new JsonArray().add(1)))
            .put("empty", new JsonObject())
            .put(
                "properties",
                new JsonObject()
                    .put(
                        "desired",
                        new JsonObject()
                            .put("$metadata", new JsonObject().put("x", 1))
                            .put("$version", 3)));
    output(Output.Format.TABLE).object(o);
    assertThat(printed())
        .isEqualTo(
            "deviceId                     d1\n"
                + "tags.site                    b1\n"
                + "tags.list                    [1]\n"
                + "empty                        {}\n"
                + "properties.desired.$version  3\n");
    bytes.reset();
    output(Output.Format.JSON).object(o);
    assertThat(new JsonObject(printed())).isEqualTo(o);
  }
}
