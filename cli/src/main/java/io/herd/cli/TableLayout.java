package io.herd.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Column widths that fit a terminal: each column is as wide as its widest cell; while the line is
 * too long, columns give way from the right, none below {@value #MIN_SHRUNK} characters (or its
 * widest cell, if narrower). Cells too long for their column end in {@code …}; when even that is
 * too wide, lines are cut at the terminal's edge and end in {@code …}.
 */
final class TableLayout {
  static final String GAP = "  ";
  static final int MIN_SHRUNK = 8;

  private final int[] widths;
  private final int width;

  private TableLayout(int[] widths, int width) {
    this.widths = widths;
    this.width = width;
  }

  /** Widths for {@code headers} and {@code rows} (cells already flattened) within {@code width}. */
  static TableLayout fit(List<String> headers, List<List<String>> rows, int width) {
    int n = headers.size();
    int[] natural = new int[n];
    int[] min = new int[n];
    for (int i = 0; i < n; i++) {
      natural[i] = headers.get(i).length();
    }
    for (List<String> row : rows) {
      for (int i = 0; i < n && i < row.size(); i++) {
        natural[i] = Math.max(natural[i], row.get(i).length());
      }
    }
    for (int i = 0; i < n; i++) {
      min[i] = Math.min(natural[i], MIN_SHRUNK);
    }
    int[] w = natural.clone();
    int total = GAP.length() * Math.max(0, n - 1);
    for (int x : w) {
      total += x;
    }
    // The rightmost columns give way first: ids and states lead, long JSON trails.
    for (int i = n - 1; i >= 0 && total > width; i--) {
      int floor = Math.max(min[i], 1);
      int cut = (int) Math.min(total - width, Math.max(0, w[i] - floor));
      w[i] -= cut;
      total -= cut;
    }
    return new TableLayout(w, width);
  }

  int width(int column) {
    return widths[column];
  }

  /**
   * One line: cells padded to their widths, cut with {@code …} when longer; no trailing blanks; at
   * most the terminal's width.
   */
  String line(List<String> cells) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < widths.length; i++) {
      String cell = i < cells.size() ? cells.get(i) : "";
      if (cell.length() > widths[i]) {
        cell =
            widths[i] <= 1 ? "…".substring(0, widths[i]) : cell.substring(0, widths[i] - 1) + "…";
      }
      if (i > 0) {
        sb.append(GAP);
      }
      sb.append(cell);
      if (i < widths.length - 1) {
        sb.append(" ".repeat(widths[i] - cell.length()));
      }
    }
    int end = sb.length();
    while (end > 0 && sb.charAt(end - 1) == ' ') {
      end--;
    }
    sb.setLength(end);
    if (sb.length() > width) {
      sb.setLength(Math.max(0, width - 1));
      sb.append('…');
    }
    return sb.toString();
  }

  /** The whole table, header first. */
  static List<String> render(List<String> headers, List<List<String>> rows, int width) {
    TableLayout layout = fit(headers, rows, width);
    List<String> out = new ArrayList<>(rows.size() + 1);
    out.add(layout.line(headers));
    for (List<String> r : rows) {
      out.add(layout.line(r));
    }
    return out;
  }

  /** A cell's text on one line: tabs and line breaks become spaces. */
  static String oneLine(String s) {
    StringBuilder sb = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\n' || c == '\r' || c == '\t') {
        if (sb == null) {
          sb = new StringBuilder(s);
        }
        sb.setCharAt(i, ' ');
      }
    }
    return sb == null ? s : sb.toString();
  }
}
