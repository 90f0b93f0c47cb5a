package io.herd.core.twin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.core.HubException;
import io.herd.core.twin.TwinPatch.Section;
import io.vertx.core.json.JsonObject;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TwinPatchTest {
  private static final long T1 = 1_000_000_000L;
  private static final long T2 = 2_000_000_000L;

  private static TwinNode desired(String json) {
    return TwinPatch.replace(new JsonObject(json), Section.DESIRED, T1, 1);
  }

  static Stream<Arguments> mergeCases() {
    return Stream.of(
        Arguments.of("{\"a\":1}", "{\"b\":2}", "{\"a\":1,\"b\":2}"),
        Arguments.of("{\"a\":1,\"b\":2}", "{\"a\":null}", "{\"b\":2}"),
        Arguments.of(
            "{\"a\":{\"x\":1,\"y\":2}}",
            "{\"a\":{\"y\":null,\"z\":3}}",
            "{\"a\":{\"x\":1,\"z\":3}}"),
        Arguments.of("{\"a\":[1,2,3]}", "{\"a\":[4]}", "{\"a\":[4]}"),
        Arguments.of("{\"a\":1}", "{\"a\":{\"b\":true}}", "{\"a\":{\"b\":true}}"),
        Arguments.of("{\"a\":{\"b\":1}}", "{\"a\":\"flat\"}", "{\"a\":\"flat\"}"),
        Arguments.of("{\"a\":1}", "{\"missing\":null}", "{\"a\":1}"),
        Arguments.of(
            "{}", "{\"n\":1.5,\"s\":\"x\",\"b\":false}", "{\"b\":false,\"n\":1.5,\"s\":\"x\"}"),
        Arguments.of("{\"a\":1}", "{\"$version\":9,\"$metadata\":{}}", "{\"a\":1}"),
        Arguments.of("{}", "{\"arr\":[{\"k\":1},null,[2]]}", "{\"arr\":[{\"k\":1},null,[2]]}"));
  }

  @ParameterizedTest(name = "{0} + {1} = {2}")
  @MethodSource("mergeCases")
  void mergePatchSemantics(String base, String patch, String expected) {
    TwinNode merged = TwinPatch.merge(desired(base), new JsonObject(patch), Section.DESIRED, T2, 2);
    assertThat(TwinJson.values(merged)).isEqualTo(new JsonObject(expected));
  }

  @Test
  void metadataMarksWhatChangedAndItsAncestors() {
    TwinNode base = desired("{\"a\":{\"x\":1,\"y\":2},\"b\":3}");
    TwinNode merged =
        TwinPatch.merge(base, new JsonObject("{\"a\":{\"y\":5}}"), Section.DESIRED, T2, 2);
    JsonObject section = TwinJson.section(merged, 2);
    JsonObject meta = section.getJsonObject("$metadata");
    String t1 = io.herd.core.Timestamps.format(Ticks.toInstant(T1));
    String t2 = io.herd.core.Timestamps.format(Ticks.toInstant(T2));
    assertThat(meta.getString("$lastUpdated")).isEqualTo(t2);
    assertThat(meta.getLong("$lastUpdatedVersion")).isEqualTo(2);
    assertThat(meta.getJsonObject("b").getString("$lastUpdated")).isEqualTo(t1);
    assertThat(meta.getJsonObject("b").getLong("$lastUpdatedVersion")).isEqualTo(1);
    assertThat(meta.getJsonObject("a").getString("$lastUpdated")).isEqualTo(t2);
    assertThat(meta.getJsonObject("a").getJsonObject("x").getLong("$lastUpdatedVersion"))
        .isEqualTo(1);
    assertThat(meta.getJsonObject("a").getJsonObject("y").getLong("$lastUpdatedVersion"))
        .isEqualTo(2);
    assertThat(section.getLong("$version")).isEqualTo(2);
  }

  @Test
  void reportedMetadataHasNoVersions() {
    TwinNode reported =
        TwinPatch.merge(
            TwinNode.EMPTY, new JsonObject("{\"fw\":\"1.0\"}"), Section.REPORTED, T1, 3);
    JsonObject meta = TwinJson.section(reported, 3).getJsonObject("$metadata");
    assertThat(meta.getJsonObject("fw").fieldNames()).containsExactly("$lastUpdated");
    assertThat(meta.containsKey("$lastUpdatedVersion")).isFalse();
  }

  @Test
  void binaryStorageFormRoundTripsEverything() {
    TwinNode node =
        desired(
            "{\"a\":{\"b\":{\"c\":\"deep\"}},\"n\":-4503599627370496,\"d\":0.25,\"t\":true,"
                + "\"arr\":[1,\"two\",{\"three\":3},[4.5]]}");
    node = TwinPatch.merge(node, new JsonObject("{\"a\":{\"e\":1}}"), Section.DESIRED, T2, 7);
    TwinNode tags =
        TwinPatch.replace(
            new JsonObject("{\"t\":{\"u\":[{\"p\":{\"q\":1}}]}}"), Section.TAGS, T1, 0);
    TwinNode reported =
        TwinPatch.replace(new JsonObject("{\"fw\":\"1.0\",\"x\":null}"), Section.REPORTED, T2, 4);
    Twin twin = new Twin(TwinKey.device("d"), 9, tags, node, 7, reported, 4, null);
    Twin back = TwinCodec.decode(twin.key(), 9, TwinCodec.encode(twin), null);
    assertThat(back).isEqualTo(twin);
    assertThat(TwinJson.section(back.desired(), 7)).isEqualTo(TwinJson.section(node, 7));
  }

  static Stream<Arguments> badPatches() {
    return Stream.of(
        Arguments.of("{\"a.b\":1}", "'.', '$', spaces"),
        Arguments.of("{\"$x\":1}", "'.', '$', spaces"),
        Arguments.of("{\"a b\":1}", "'.', '$', spaces"),
        Arguments.of("{\"ok\":{\"x$y\":1}}", "properties.desired.ok.x$y"),
        Arguments.of("{\"c\\u0001\":1}", "control"),
        Arguments.of("{\"big\":4503599627370496}", "outside the integer range"),
        Arguments.of("{\"s\":\"" + "x".repeat(4097) + "\"}", "limit of 4096 bytes"),
        Arguments.of("{\"" + "k".repeat(1025) + "\":1}", "limit of 1024 bytes"),
        Arguments.of(nested(12), "deeper than the limit of 10"));
  }

  /** {@code depth} keys deep: the patch's own braces plus {@code depth - 1} nested objects. */
  private static String nested(int depth) {
    return "{\"l\":".repeat(depth) + "1" + "}".repeat(depth);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badPatches")
  void invalidPatchesNameThePathAndTheLimit(String patch, String message) {
    assertThatThrownBy(
            () -> TwinPatch.merge(TwinNode.EMPTY, new JsonObject(patch), Section.DESIRED, T1, 1))
        .isInstanceOf(HubException.class)
        .hasMessageContaining(message);
  }

  @Test
  void tenLevelsOfObjectsAreAllowed() {
    TwinNode n =
        TwinPatch.merge(TwinNode.EMPTY, new JsonObject(nested(11)), Section.DESIRED, T1, 1);
    assertThat(TwinPatch.sizeOf(n)).isEqualTo(11 + 8);
  }

  @Test
  void sectionSizeLimitsApplyToTheResult() {
    String value = "v".repeat(4000);
    TwinNode tags = TwinNode.EMPTY;
    tags =
        TwinPatch.merge(
            tags, new JsonObject().put("a", value).put("b", value), Section.TAGS, T1, 0);
    TwinNode full = tags;
    assertThatThrownBy(
            () -> TwinPatch.merge(full, new JsonObject().put("c", value), Section.TAGS, T2, 0))
        .hasMessageContaining("'tags' would be")
        .hasMessageContaining("over the limit of 8192");
    // Removing makes room again.
    TwinNode smaller = TwinPatch.merge(full, new JsonObject().putNull("a"), Section.TAGS, T2, 0);
    assertThat(TwinPatch.sizeOf(smaller)).isEqualTo(4001);
  }

  @Test
  void sizeCountsKeysStringsNumbersAndBooleansLikeIotHub() {
    TwinNode n =
        TwinPatch.merge(
            TwinNode.EMPTY,
            new JsonObject("{\"ab\":\"\u00e9\",\"n\":1,\"b\":true,\"o\":{\"x\":2.5}}"),
            Section.REPORTED,
            T1,
            1);
    // ab:2+2, n:1+8, b:1+4, o:1+(x:1+8)
    assertThat(TwinPatch.sizeOf(n)).isEqualTo(4 + 9 + 5 + 10);
  }

  @Test
  void fastTimestampFormatAgreesWithTheFormatter() {
    java.util.Random r = new java.util.Random(7);
    for (int i = 0; i < 10_000; i++) {
      long ticks = Math.floorMod(r.nextLong(), 4_000_000_000L * 10_000_000L);
      assertThat(Ticks.format(ticks))
          .isEqualTo(io.herd.core.Timestamps.format(Ticks.toInstant(ticks)));
    }
  }

  @Test
  void streamingRenderEqualsTheTreeRender() {
    TwinNode d = desired("{\"a\":{\"b\":[1,{\"c\":2.5}],\"s\":\"x\"},\"t\":true,\"n\":null}");
    TwinNode tags = TwinPatch.replace(new JsonObject("{\"k\":\"v\"}"), Section.TAGS, T1, 0);
    TwinIdentity id =
        new TwinIdentity(
            "g", "MQ==", "enabled", null, "Disconnected", null, 3, "sas", null, null, "", true);
    for (TwinKey key : new TwinKey[] {TwinKey.device("d"), TwinKey.module("d", "m")}) {
      Twin t = new Twin(key, 5, tags, d, 2, TwinNode.EMPTY, 1, id);
      assertThat(new JsonObject(TwinJson.write(t))).isEqualTo(TwinJson.twin(t));
    }
  }
}
