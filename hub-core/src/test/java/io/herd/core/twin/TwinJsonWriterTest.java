package io.herd.core.twin;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** {@link TwinJsonWriter} writes the bytes the encoded {@link TwinJson#twin} tree gives. */
class TwinJsonWriterTest {
  private static final String[] STRINGS = {
    "",
    "x",
    "it's",
    "quote\"d",
    "back\\slash",
    "tab\tand\nnew\rline",
    "\u0001\u001f\u007f",
    "caf\u00e9",
    "\u20ac",
    "\ud83d\ude00 emoji",
    "lone \ud800 surrogate",
    "/slash",
    "$dollar"
  };
  private static final Object[] NUMBERS = {
    0L, 7L, -1L, 123_456_789_012L, Long.MIN_VALUE, 0.5, -0.0, 1.0e-7, 1.0e21, 3.0, 9.99e300
  };

  @Provide
  Arbitrary<Twin> twins() {
    return Arbitraries.randomValue(TwinJsonWriterTest::twin);
  }

  private static Twin twin(Random r) {
    TwinKey key =
        r.nextBoolean()
            ? TwinKey.device(pick(r, STRINGS) + "d")
            : TwinKey.module("d" + r.nextInt(9), pick(r, STRINGS) + "m");
    TwinIdentity id =
        new TwinIdentity(
            "gen",
            r.nextBoolean() ? null : "MTAw",
            r.nextBoolean() ? "enabled" : "disabled",
            r.nextBoolean() ? null : Instant.ofEpochSecond(1_700_000_000L + r.nextInt(), 123_400),
            r.nextBoolean() ? "Connected" : "Disconnected",
            r.nextBoolean() ? null : Instant.parse("2025-06-07T08:09:10.1234567Z"),
            r.nextInt(50),
            "sas",
            r.nextBoolean() ? null : "AB12",
            null,
            r.nextBoolean() ? null : pick(r, STRINGS),
            r.nextBoolean());
    return new Twin(
        key,
        1 + r.nextInt(1000),
        node(r, 3, false),
        node(r, 3, true),
        1 + r.nextInt(100),
        node(r, 2, false),
        1 + r.nextInt(100),
        id);
  }

  private static String pick(Random r, String[] a) {
    return a[r.nextInt(a.length)];
  }

  private static TwinNode node(Random r, int depth, boolean versions) {
    TwinNode.Builder b = new TwinNode.Builder(versions);
    long t = r.nextInt(3) == 0 ? 0 : Ticks.of(Instant.parse("2026-11-27T14:12:53.3905909Z"));
    for (int i = r.nextInt(5); i > 0; i--) {
      b.put(pick(r, STRINGS) + i, value(r, depth, versions), t + r.nextInt(2), r.nextInt(9));
    }
    return b.self(t, r.nextInt(9)).build();
  }

  private static Object value(Random r, int depth) {
    return value(r, depth, false);
  }

  private static Object value(Random r, int depth, boolean versions) {
    return switch (r.nextInt(depth > 0 ? 6 : 5)) {
      case 0 -> NUMBERS[r.nextInt(NUMBERS.length)];
      case 1 -> pick(r, STRINGS);
      case 2 -> r.nextBoolean();
      case 3 ->
          TwinArray.of(
              NUMBERS[r.nextInt(NUMBERS.length)],
              null,
              pick(r, STRINGS),
              TwinArray.of(true),
              new TwinNode.Builder(false).put("k", 1L, 0, 0).build());
      case 4 -> (long) r.nextInt(100);
      default -> node(r, depth - 1, versions);
    };
  }

  @Property(tries = 2000)
  void writesWhatTheEncodedTreeGives(@ForAll("twins") Twin t) {
    Buffer expected = TwinJson.twin(t).toBuffer();
    Buffer actual = new TwinJsonWriter(16).twin(t).toBuffer();
    assertThat(actual.toString()).isEqualTo(expected.toString());
    assertThat(actual).isEqualTo(expected);
  }

  @Property(tries = 200)
  void pagesAreArraysOfTwins(@ForAll("twins") Twin a, @ForAll("twins") Twin b) {
    TwinJsonWriter w = new TwinJsonWriter(64);
    w.raw('[').twin(a).raw(',').twin(b).raw(']');
    assertThat(w.toBuffer())
        .isEqualTo(TwinJson.writeArray(List.of(a, b)))
        .isEqualTo(new JsonArray().add(TwinJson.twin(a)).add(TwinJson.twin(b)).toBuffer());
  }
}
