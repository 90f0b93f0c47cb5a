package io.herd.query;

import io.herd.core.twin.Ticks;
import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinArray;
import io.herd.core.twin.TwinIdentity;
import io.herd.core.twin.TwinKey;
import io.herd.core.twin.TwinNode;
import java.time.Instant;
import java.util.List;

/** A small fixed fleet for golden files and executor tests. */
final class TestTwins {
  private TestTwins() {}

  static final long T1 = Ticks.of(Instant.parse("2024-01-02T03:04:05Z"));
  static final long T2 = Ticks.of(Instant.parse("2025-06-07T08:09:10Z"));

  /** A node from key/value pairs, every member last updated at T1 (version 2 when versioned). */
  static TwinNode build(boolean versions, Object... kv) {
    TwinNode.Builder b = new TwinNode.Builder(versions);
    for (int i = 0; i < kv.length; i += 2) {
      b.put((String) kv[i], kv[i + 1], T1, 2);
    }
    return b.self(T2, 3).build();
  }

  static TwinNode desired(Object... kv) {
    return build(true, kv);
  }

  static TwinNode node(Object... kv) {
    return build(false, kv);
  }

  static TwinIdentity identity(String status, String connection, String modelId, boolean edge) {
    return new TwinIdentity(
        "gen-1",
        "etag-1",
        status,
        Instant.parse("2024-01-01T00:00:00Z"),
        connection,
        connection.equals("Connected") ? Instant.parse("2025-06-07T08:09:10Z") : null,
        0,
        "sas",
        null,
        null,
        modelId,
        edge);
  }

  static Twin twin(
      TwinKey key, TwinNode tags, TwinNode desired, TwinNode reported, TwinIdentity id) {
    return new Twin(key, 4, tags, desired, 5, reported, 7, id);
  }

  /**
   * d1..d5 device twins and the module twin d1/m1:
   *
   * <pre>
   * d1  enabled  Connected     tags {city:Oslo, floor:3, building:{name:A}}  reported {temp:21.5, fw:1.2.0, online:true}
   * d2  disabled Disconnected  tags {city:Bergen, floor:1}                   reported {temp:18, fw:1.1.0}
   * d3  enabled  Disconnected  tags {city:Oslo, floor:'3'}                   reported {temp:'hot', arr:[1,2,3]}
   * d4  enabled  Connected     (no tags), modelId dtmi:herd:x;1, edge         reported {}
   * d5  enabled  Connected     tags {city:oslo, floor:7.5}                   reported {temp:30, fw:2.0.0}
   * d1/m1 enabled Connected    tags {city:Oslo}                              reported {temp:25}
   * </pre>
   */
  static List<Twin> fleet() {
    return List.of(
        twin(
            TwinKey.device("d1"),
            node("city", "Oslo", "floor", 3L, "building", node("name", "A")),
            desired("temp", 20L),
            node("temp", 21.5, "fw", "1.2.0", "online", true),
            identity("enabled", "Connected", null, false)),
        twin(
            TwinKey.device("d2"),
            node("city", "Bergen", "floor", 1L),
            desired("temp", 19L),
            node("temp", 18L, "fw", "1.1.0"),
            identity("disabled", "Disconnected", null, false)),
        twin(
            TwinKey.device("d3"),
            node("city", "Oslo", "floor", "3"),
            desired(),
            node("temp", "hot", "arr", TwinArray.of(1L, 2L, 3L)),
            identity("enabled", "Disconnected", null, false)),
        twin(
            TwinKey.device("d4"),
            TwinNode.EMPTY,
            desired(),
            TwinNode.EMPTY,
            identity("enabled", "Connected", "dtmi:herd:x;1", true)),
        twin(
            TwinKey.device("d5"),
            node("city", "oslo", "floor", 7.5),
            desired("temp", 30L),
            node("temp", 30L, "fw", "2.0.0"),
            identity("enabled", "Connected", null, false)),
        twin(
            TwinKey.module("d1", "m1"),
            node("city", "Oslo"),
            desired(),
            node("temp", 25L),
            identity("enabled", "Connected", null, false)));
  }
}
