package io.herd.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The columns of a listing for {@code --output table|csv}: twins and jobs get a chosen set, other
 * rows (projections, aggregates, {@code devices.jobs}) their own keys in order of appearance.
 */
final class Columns {
  private Columns() {}

  record Column(String name, Function<JsonObject, Object> value) {
    String text(JsonObject row) {
      return Columns.text(value.apply(row));
    }
  }

  static List<Column> choose(String itemType, JsonArray rows) {
    if ("twin".equals(itemType)) {
      return twin(rows);
    }
    if ("jobResponse".equals(itemType)) {
      return job();
    }
    Set<String> keys = new LinkedHashSet<>();
    for (Object r : rows) {
      if (r instanceof JsonObject o) {
        keys.addAll(o.fieldNames());
      }
    }
    List<Column> out = new ArrayList<>();
    for (String k : keys) {
      out.add(new Column(k, o -> o.getValue(k)));
    }
    if (out.isEmpty() && !rows.isEmpty()) {
      // Rows that are not objects, e.g. SELECT VALUE: one column of the values themselves.
      out.add(new Column("value", o -> o.getValue("value")));
    }
    return out;
  }

  /** Device (and module) twins: identity, connection, and tags and properties without metadata. */
  private static List<Column> twin(JsonArray rows) {
    List<Column> c = new ArrayList<>();
    c.add(new Column("deviceId", o -> o.getValue("deviceId")));
    boolean modules = false;
    for (Object r : rows) {
      modules |= r instanceof JsonObject o && o.getValue("moduleId") != null;
    }
    if (modules) {
      c.add(new Column("moduleId", o -> o.getValue("moduleId")));
    }
    c.add(new Column("status", o -> o.getValue("status")));
    c.add(new Column("connectionState", o -> o.getValue("connectionState")));
    c.add(new Column("lastActivityTime", o -> o.getValue("lastActivityTime")));
    c.add(new Column("cloudToDeviceMessageCount", o -> o.getValue("cloudToDeviceMessageCount")));
    c.add(new Column("tags", o -> o.getValue("tags")));
    c.add(new Column("desired", o -> properties(o, "desired")));
    c.add(new Column("reported", o -> properties(o, "reported")));
    return c;
  }

  /** Jobs: what and how far; times and the rest are in {@code jobs show}. */
  private static List<Column> job() {
    return List.of(
        new Column("jobId", o -> o.getValue("jobId")),
        new Column("type", o -> o.getValue("type")),
        new Column("status", o -> o.getValue("status")),
        new Column("devices", o -> statistic(o, "deviceCount")),
        new Column("succeeded", o -> statistic(o, "succeededCount")),
        new Column("failed", o -> statistic(o, "failedCount")),
        new Column("pending", o -> statistic(o, "pendingCount")),
        new Column("startTime", o -> o.getValue("startTime")),
        new Column("queryCondition", o -> o.getValue("queryCondition")));
  }

  private static Object statistic(JsonObject job, String field) {
    JsonObject s = job.getJsonObject("deviceJobStatistics");
    return s == null ? null : s.getValue(field);
  }

  /**
   * {@code properties.desired} or {@code .reported} without {@code $metadata} and {@code $version}.
   */
  static JsonObject properties(JsonObject twin, String section) {
    JsonObject p = twin.getJsonObject("properties");
    JsonObject s = p == null ? null : p.getJsonObject(section);
    return s == null ? null : withoutMetadata(s);
  }

  /** A copy without the {@code $metadata} and {@code $version} keys at any level. */
  static JsonObject withoutMetadata(JsonObject o) {
    JsonObject out = new JsonObject();
    for (Map.Entry<String, Object> e : o) {
      if (e.getKey().equals("$metadata") || e.getKey().equals("$version")) {
        continue;
      }
      Object v = e.getValue();
      out.put(e.getKey(), v instanceof JsonObject j ? withoutMetadata(j) : v);
    }
    return out;
  }

  /** A value as one cell: strings as they are, objects and arrays as compact JSON, null empty. */
  static String text(Object v) {
    if (v == null) {
      return "";
    }
    if (v instanceof JsonObject o) {
      return o.encode();
    }
    if (v instanceof JsonArray a) {
      return a.encode();
    }
    return v.toString();
  }

  /**
   * A single object as {@code field, value} pairs: nested objects flattened into dotted paths,
   * {@code $metadata} left out, arrays as compact JSON.
   */
  static List<List<String>> flatten(JsonObject o) {
    List<List<String>> out = new ArrayList<>();
    flatten(o, "", out);
    return out;
  }

  private static void flatten(JsonObject o, String prefix, List<List<String>> out) {
    for (Map.Entry<String, Object> e : o) {
      if (e.getKey().equals("$metadata")) {
        continue;
      }
      String path = prefix + e.getKey();
      if (e.getValue() instanceof JsonObject j && !j.isEmpty()) {
        flatten(j, path + ".", out);
      } else {
        out.add(List.of(path, text(e.getValue())));
      }
    }
  }
}
