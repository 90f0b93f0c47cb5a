package io.herd.cli;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Device files for {@code devices import} and {@code export}, in IoT Hub's import/export device
 * shape (azure-iothub-wire.md §5.7, one {@code ExportImportDevice} per JSON line: {@code id,
 * importMode, eTag, status, statusReason, authentication, capabilities, twinETag, tags,
 * properties.desired}), or CSV with one column per field ({@code tags.a.b} and {@code desired.x}
 * columns build nested objects).
 */
final class DeviceFiles {
  private DeviceFiles() {}

  enum Format {
    CSV,
    JSONL;

    /** By extension: {@code .csv} is CSV, anything else JSON lines. */
    static Format of(String fileName) {
      return fileName.toLowerCase(Locale.ROOT).endsWith(".csv") ? CSV : JSONL;
    }
  }

  /** The CSV columns besides {@code tags.*} and {@code desired.*}. */
  static final List<String> CSV_COLUMNS =
      List.of(
          "deviceId",
          "importMode",
          "eTag",
          "status",
          "statusReason",
          "authType",
          "primaryKey",
          "secondaryKey",
          "primaryThumbprint",
          "secondaryThumbprint",
          "iotEdge");

  /**
   * Reads every entry, each with {@code importMode} set ({@code defaultMode} where the file names
   * none).
   *
   * @throws IllegalArgumentException naming the line and what is wrong with it
   */
  static List<JsonObject> read(Reader in, Format format, String defaultMode) throws IOException {
    List<JsonObject> entries = format == Format.CSV ? readCsv(in) : readJsonLines(in);
    for (JsonObject e : entries) {
      if (e.getValue("importMode") == null) {
        e.put("importMode", defaultMode);
      }
    }
    return entries;
  }

  private static List<JsonObject> readJsonLines(Reader in) throws IOException {
    List<JsonObject> out = new ArrayList<>();
    BufferedReader r = new BufferedReader(in);
    String line;
    int n = 0;
    while ((line = r.readLine()) != null) {
      n++;
      if (line.isBlank()) {
        continue;
      }
      Object v;
      try {
        v = Json.decodeValue(line);
      } catch (DecodeException e) {
        throw new IllegalArgumentException("line " + n + ": not JSON: " + e.getMessage());
      }
      if (!(v instanceof JsonObject o)) {
        throw new IllegalArgumentException("line " + n + ": expected a JSON object per line");
      }
      Object id = o.getValue("id") != null ? o.getValue("id") : o.getValue("deviceId");
      if (!(id instanceof String) || ((String) id).isEmpty()) {
        throw new IllegalArgumentException("line " + n + ": no \"id\" (or \"deviceId\")");
      }
      JsonObject entry = new JsonObject().put("id", id);
      o.forEach(
          f -> {
            if (!f.getKey().equals("id") && !f.getKey().equals("deviceId")) {
              entry.put(f.getKey(), f.getValue());
            }
          });
      out.add(entry);
    }
    return out;
  }

  private static List<JsonObject> readCsv(Reader in) throws IOException {
    Csv.Parser p = new Csv.Parser(in);
    List<String> header = p.next();
    if (header == null) {
      return List.of();
    }
    for (int i = 0; i < header.size(); i++) {
      String h = header.get(i).strip();
      if (i == 0 && h.startsWith("\uFEFF")) {
        h = h.substring(1);
      }
      header.set(i, canonical(h));
    }
    if (!header.contains("deviceId")) {
      throw new IllegalArgumentException("line 1: the CSV header needs a deviceId (or id) column");
    }
    List<JsonObject> out = new ArrayList<>();
    while (true) {
      int line = p.line();
      List<String> row = p.next();
      if (row == null) {
        return out;
      }
      if (row.size() != header.size()) {
        throw new IllegalArgumentException(
            "line " + line + ": " + row.size() + " fields, the header has " + header.size());
      }
      out.add(fromCsv(header, row, line));
    }
  }

  /** A header name as {@link #fromCsv} knows it; unknown names are refused. */
  private static String canonical(String h) {
    if (h.startsWith("tags.") || h.startsWith("desired.")) {
      if (h.endsWith(".") || h.contains("..")) {
        throw new IllegalArgumentException("line 1: column '" + h + "' has an empty path segment");
      }
      return h;
    }
    switch (h.toLowerCase(Locale.ROOT)) {
      case "id":
      case "deviceid":
        return "deviceId";
      case "auth":
      case "authtype":
      case "authenticationtype":
        return "authType";
      case "edge":
        return "iotEdge";
      case "etag":
        return "eTag";
      default:
        for (String c : CSV_COLUMNS) {
          if (c.equalsIgnoreCase(h)) {
            return c;
          }
        }
        throw new IllegalArgumentException(
            "line 1: unknown column '"
                + h
                + "'; known are "
                + String.join(", ", CSV_COLUMNS)
                + ", tags.<path> and desired.<path>");
    }
  }

  /**
   * One CSV record as an import entry. Empty cells are left out. Under {@code tags.} and {@code
   * desired.} a cell that is a JSON number, {@code true}, {@code false}, {@code null}, object,
   * array or quoted string is that value; anything else is a string.
   */
  static JsonObject fromCsv(List<String> header, List<String> row, int line) {
    JsonObject e = new JsonObject();
    JsonObject auth = new JsonObject();
    for (int i = 0; i < header.size(); i++) {
      String h = header.get(i);
      String v = row.get(i);
      if (v.isEmpty()) {
        continue;
      }
      if (h.startsWith("tags.")) {
        put(e, "tags", h.substring("tags.".length()), value(v));
        continue;
      }
      if (h.startsWith("desired.")) {
        JsonObject props = e.getJsonObject("properties");
        if (props == null) {
          props = new JsonObject();
          e.put("properties", props);
        }
        put(props, "desired", h.substring("desired.".length()), value(v));
        continue;
      }
      switch (h) {
        case "deviceId":
          e.put("id", v);
          break;
        case "authType":
          auth.put("type", v);
          break;
        case "primaryKey":
        case "secondaryKey":
          sub(auth, "symmetricKey").put(h, v);
          break;
        case "primaryThumbprint":
        case "secondaryThumbprint":
          sub(auth, "x509Thumbprint").put(h, v);
          break;
        case "iotEdge":
          if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) {
            throw new IllegalArgumentException(
                "line " + line + ": iotEdge must be true or false, got '" + v + "'");
          }
          e.put("capabilities", new JsonObject().put("iotEdge", Boolean.parseBoolean(v)));
          break;
        default:
          e.put(h, v);
      }
    }
    if (e.getString("id") == null) {
      throw new IllegalArgumentException("line " + line + ": deviceId is empty");
    }
    if (!auth.isEmpty()) {
      if (auth.getValue("type") == null) {
        auth.put("type", auth.containsKey("x509Thumbprint") ? "selfSigned" : "sas");
      }
      e.put("authentication", auth);
    }
    return e;
  }

  private static JsonObject sub(JsonObject o, String field) {
    JsonObject s = o.getJsonObject(field);
    if (s == null) {
      s = new JsonObject();
      o.put(field, s);
    }
    return s;
  }

  private static void put(JsonObject root, String section, String dotted, Object value) {
    JsonObject o = sub(root, section);
    String[] path = dotted.split("\\.");
    for (int i = 0; i < path.length - 1; i++) {
      o = sub(o, path[i]);
    }
    o.put(path[path.length - 1], value);
  }

  private static Object value(String cell) {
    String s = cell.strip();
    if (s.isEmpty()) {
      return cell;
    }
    char c = s.charAt(0);
    boolean jsonish =
        c == '{'
            || c == '['
            || c == '"'
            || c == '-'
            || Character.isDigit(c)
            || s.equals("true")
            || s.equals("false")
            || s.equals("null");
    if (jsonish) {
      try {
        return Json.decodeValue(s);
      } catch (DecodeException e) {
        // not JSON after all: a string such as 2024-01-01 or -x
      }
    }
    return cell;
  }

  /**
   * One exported device: its identity (keys left out with {@code excludeKeys}) with the tags and
   * properties of its twin, without {@code $metadata} and {@code $version} so the line imports
   * again as it is.
   */
  static JsonObject exportLine(JsonObject identity, JsonObject twin, boolean excludeKeys) {
    JsonObject auth = identity.getJsonObject("authentication");
    if (auth != null && excludeKeys) {
      auth = auth.copy();
      JsonObject keys = auth.getJsonObject("symmetricKey");
      if (keys != null) {
        keys.putNull("primaryKey").putNull("secondaryKey");
      }
    }
    JsonObject line =
        new JsonObject()
            .put("id", identity.getString("deviceId"))
            .put("eTag", identity.getString("etag"))
            .put("status", identity.getString("status"))
            .put("statusReason", identity.getString("statusReason"))
            .put("authentication", auth)
            .put("capabilities", identity.getJsonObject("capabilities"));
    if (identity.getString("deviceScope") != null) {
      line.put("deviceScope", identity.getString("deviceScope"));
    }
    if (identity.getJsonArray("parentScopes") != null
        && !identity.getJsonArray("parentScopes").isEmpty()) {
      line.put("parentScopes", identity.getJsonArray("parentScopes"));
    }
    if (twin != null) {
      line.put("twinETag", twin.getString("etag"));
      line.put("tags", twin.getJsonObject("tags", new JsonObject()));
      JsonObject props = new JsonObject();
      JsonObject desired = Columns.properties(twin, "desired");
      JsonObject reported = Columns.properties(twin, "reported");
      props.put("desired", desired == null ? new JsonObject() : desired);
      props.put("reported", reported == null ? new JsonObject() : reported);
      line.put("properties", props);
    }
    return line;
  }
}
