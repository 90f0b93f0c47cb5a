package io.herd.cli;

import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.List;

/** RFC 4180 CSV: fields with a comma, quote or line break are quoted, quotes doubled. */
final class Csv {
  private Csv() {}

  static String line(List<String> fields) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < fields.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(quote(fields.get(i)));
    }
    return sb.toString();
  }

  static String quote(String field) {
    if (field == null) {
      return "";
    }
    boolean needs = false;
    for (int i = 0; i < field.length() && !needs; i++) {
      char c = field.charAt(i);
      needs = c == ',' || c == '"' || c == '\n' || c == '\r';
    }
    if (!needs && !field.isEmpty() && (field.charAt(0) == ' ' || field.endsWith(" "))) {
      needs = true;
    }
    return needs ? '"' + field.replace("\"", "\"\"") + '"' : field;
  }

  /** Reads CSV records one at a time: quoted fields may hold commas, quotes and line breaks. */
  static final class Parser {
    private final Reader in;
    private int line = 1;
    private int peeked = -2;

    Parser(Reader in) {
      this.in = in;
    }

    /** The line the next record starts on. */
    int line() {
      return line;
    }

    /** The next record, or null at the end; blank lines are skipped. */
    List<String> next() throws IOException {
      while (true) {
        int c = peek();
        if (c == -1) {
          return null;
        }
        if (c == '\r' || c == '\n') {
          read();
          continue;
        }
        return record();
      }
    }

    private List<String> record() throws IOException {
      List<String> fields = new ArrayList<>();
      StringBuilder field = new StringBuilder();
      int startLine = line;
      while (true) {
        int c = read();
        if (c == '"' && field.length() == 0) {
          while (true) {
            int q = read();
            if (q == -1) {
              throw new IllegalArgumentException(
                  "line " + startLine + ": a quoted field is not closed");
            }
            if (q == '"') {
              if (peek() == '"') {
                read();
                field.append('"');
              } else {
                break;
              }
            } else {
              field.append((char) q);
            }
          }
          int after = peek();
          if (after != ',' && after != '\n' && after != '\r' && after != -1) {
            throw new IllegalArgumentException(
                "line " + line + ": text after a closing quote; double quotes inside quotes");
          }
          continue;
        }
        if (c == ',') {
          fields.add(field.toString());
          field.setLength(0);
        } else if (c == '\n' || c == '\r' || c == -1) {
          if (c == '\r' && peek() == '\n') {
            read();
          }
          fields.add(field.toString());
          return fields;
        } else {
          field.append((char) c);
        }
      }
    }

    private int peek() throws IOException {
      if (peeked == -2) {
        peeked = in.read();
      }
      return peeked;
    }

    private int read() throws IOException {
      int c = peek();
      peeked = -2;
      if (c == '\n') {
        line++;
      }
      return c;
    }
  }
}
