package io.herd.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntSupplier;

/**
 * Prints results as {@code --output} asks: {@code table} for people (fits the terminal), {@code
 * json} for scripts (a single resource as an object, a listing as an array with one row per line, a
 * stream as one object per line), {@code csv} (RFC 4180, with a header).
 */
final class Output {
  enum Format {
    TABLE,
    JSON,
    CSV
  }

  private final Format format;
  private final PrintStream out;
  private final IntSupplier width;
  private final Consumer<String> warn;

  Output(Format format, PrintStream out, IntSupplier width, Consumer<String> warn) {
    this.format = format;
    this.out = out;
    this.width = width;
    this.warn = warn;
  }

  Format format() {
    return format;
  }

  PrintStream stream() {
    return out;
  }

  /** One resource: pretty JSON, or its fields flattened into {@code field value} lines. */
  void object(JsonObject o) {
    switch (format) {
      case JSON:
        out.println(o.encodePrettily());
        break;
      case CSV:
        out.println(Csv.line(List.of("field", "value")));
        for (List<String> f : Columns.flatten(o)) {
          out.println(Csv.line(f));
        }
        break;
      default:
        List<List<String>> fields = Columns.flatten(o);
        List<List<String>> cells = new ArrayList<>(fields.size());
        for (List<String> f : fields) {
          cells.add(List.of(f.get(0), TableLayout.oneLine(f.get(1))));
        }
        TableLayout layout = TableLayout.fit(List.of("", ""), cells, width.getAsInt());
        for (List<String> c : cells) {
          out.println(layout.line(c));
        }
    }
    out.flush();
  }

  /** A listing that arrives a page at a time. */
  Rows rows() {
    return new Rows();
  }

  /**
   * Writes pages as they come. Table and CSV columns (and table widths) are chosen from the first
   * page, so output starts before the last page arrived; later keys a raw row brings are left out
   * with a warning.
   */
  final class Rows {
    private List<Columns.Column> columns;
    private TableLayout layout;
    private boolean started;
    private boolean warned;
    private long count;

    long count() {
      return count;
    }

    void page(JsonArray page, String itemType) {
      JsonArray rows = objects(page);
      if (format == Format.JSON) {
        for (Object r : page) {
          out.print(started ? ",\n" : "[\n");
          started = true;
          out.print(io.vertx.core.json.Json.encode(r));
        }
        count += page.size();
        out.flush();
        return;
      }
      if (columns == null) {
        if (rows.isEmpty() && !"twin".equals(itemType) && !"jobResponse".equals(itemType)) {
          return;
        }
        columns = Columns.choose(itemType, rows);
        List<String> headers = new ArrayList<>();
        columns.forEach(c -> headers.add(c.name()));
        if (format == Format.CSV) {
          out.println(Csv.line(headers));
        } else {
          layout = TableLayout.fit(headers, cells(rows), width.getAsInt());
          out.println(layout.line(headers));
        }
      }
      for (Object r : rows) {
        JsonObject o = (JsonObject) r;
        if (!warned && !"twin".equals(itemType) && !"jobResponse".equals(itemType)) {
          for (String k : o.fieldNames()) {
            if (columns.stream().noneMatch(c -> c.name().equals(k))) {
              warned = true;
              warn.accept(
                  "warning: later rows have a field '" + k + "' the first page had not; left out");
              break;
            }
          }
        }
        List<String> line = new ArrayList<>(columns.size());
        for (Columns.Column c : columns) {
          line.add(format == Format.CSV ? c.text(o) : TableLayout.oneLine(c.text(o)));
        }
        out.println(format == Format.CSV ? Csv.line(line) : layout.line(line));
      }
      count += rows.size();
      out.flush();
    }

    private List<List<String>> cells(JsonArray rows) {
      List<List<String>> cells = new ArrayList<>();
      for (Object r : rows) {
        List<String> line = new ArrayList<>();
        for (Columns.Column c : columns) {
          line.add(TableLayout.oneLine(c.text((JsonObject) r)));
        }
        cells.add(line);
      }
      return cells;
    }

    void end() {
      if (format == Format.JSON) {
        out.println(started ? "\n]" : "[]");
      }
      out.flush();
    }
  }

  /** Rows as objects; a value that is not one (SELECT VALUE) becomes {@code {"value": v}}. */
  private static JsonArray objects(JsonArray page) {
    JsonArray out = new JsonArray();
    for (Object r : page) {
      out.add(r instanceof JsonObject o ? o : new JsonObject().put("value", r));
    }
    return out;
  }
}
