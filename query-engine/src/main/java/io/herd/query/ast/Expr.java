package io.herd.query.ast;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A query expression. {@code toString()} prints a canonical, fully parenthesised form that golden
 * files compare against; {@code offset} is where the expression starts in the query text (or -1 for
 * nodes the optimizer made).
 */
public sealed interface Expr {
  int offset();

  /** JSON null as a value, distinct from undefined (Java null inside the engine). */
  enum Null {
    NULL;

    @Override
    public String toString() {
      return "null";
    }
  }

  /**
   * A constant: String, Long, Double, Boolean, {@link Null#NULL}, or null for {@code undefined}.
   */
  record Literal(Object value, int offset) implements Expr {
    @Override
    public String toString() {
      return render(value);
    }

    public static String render(Object v) {
      if (v == null) {
        return "undefined";
      }
      if (v instanceof String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
      }
      if (v instanceof List<?> l) {
        return l.stream().map(Literal::render).collect(Collectors.joining(", ", "[", "]"));
      }
      return v.toString();
    }
  }

  /** An attribute path such as {@code properties.reported.temp}, as written. */
  record Path(List<String> segments, int offset) implements Expr {
    public Path {
      segments = List.copyOf(segments);
    }

    public String last() {
      return segments.get(segments.size() - 1);
    }

    @Override
    public String toString() {
      return String.join(".", segments);
    }
  }

  /** {@code NOT e} or unary minus. */
  record Unary(UnaryOp op, Expr operand, int offset) implements Expr {
    @Override
    public String toString() {
      return "(" + op.symbol + " " + operand + ")";
    }
  }

  /** A binary comparison or arithmetic operation. */
  record Binary(BinaryOp op, Expr left, Expr right, int offset) implements Expr {
    @Override
    public String toString() {
      return "(" + left + " " + op.symbol + " " + right + ")";
    }
  }

  /** AND or OR over two or more operands (the optimizer flattens nested ones). */
  record Logical(boolean and, List<Expr> operands, int offset) implements Expr {
    public Logical {
      operands = List.copyOf(operands);
    }

    @Override
    public String toString() {
      return operands.stream()
          .map(Object::toString)
          .collect(Collectors.joining(and ? " AND " : " OR ", "(", ")"));
    }
  }

  /** {@code e IN [...]} or {@code e NIN [...]}. */
  record In(Expr operand, List<Expr> items, boolean negated, int offset) implements Expr {
    public In {
      items = List.copyOf(items);
    }

    @Override
    public String toString() {
      return "("
          + operand
          + (negated ? " NIN " : " IN ")
          + items.stream().map(Object::toString).collect(Collectors.joining(", ", "[", "]"))
          + ")";
    }
  }

  /** An array constructor {@code [a, b]}. */
  record Array(List<Expr> items, int offset) implements Expr {
    public Array {
      items = List.copyOf(items);
    }

    @Override
    public String toString() {
      return items.stream().map(Object::toString).collect(Collectors.joining(", ", "[", "]"));
    }
  }

  /** A function or aggregate call; the name as written until the binder canonicalises it. */
  record Call(String name, List<Expr> args, int offset) implements Expr {
    public Call {
      args = List.copyOf(args);
    }

    @Override
    public String toString() {
      return name + args.stream().map(Object::toString).collect(Collectors.joining(", ", "(", ")"));
    }
  }

  enum UnaryOp {
    NOT("NOT"),
    NEG("-");

    public final String symbol;

    UnaryOp(String symbol) {
      this.symbol = symbol;
    }
  }

  enum BinaryOp {
    EQ("="),
    NE("!="),
    LT("<"),
    LE("<="),
    GT(">"),
    GE(">="),
    ADD("+"),
    SUB("-"),
    MUL("*"),
    DIV("/"),
    MOD("%");

    public final String symbol;

    BinaryOp(String symbol) {
      this.symbol = symbol;
    }

    public boolean isComparison() {
      return ordinal() <= GE.ordinal();
    }

    /** The comparison with its operands swapped: {@code a < b} is {@code b > a}. */
    public BinaryOp flipped() {
      return switch (this) {
        case LT -> GT;
        case LE -> GE;
        case GT -> LT;
        case GE -> LE;
        default -> this;
      };
    }
  }
}
