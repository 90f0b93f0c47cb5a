package io.herd.query.eval;

import java.util.Locale;
import java.util.Map;

/** The functions and aggregates the language knows, with their arities. */
public final class Functions {
  private Functions() {}

  /** Arity: minimum and maximum argument counts. */
  public record Arity(int min, int max) {
    public String describe() {
      return min == max
          ? min + " argument" + (min == 1 ? "" : "s")
          : max == Integer.MAX_VALUE
              ? "at least " + min + " arguments"
              : min + " to " + max + " arguments";
    }
  }

  private static final Map<String, Arity> SCALARS =
      Map.ofEntries(
          Map.entry("IS_DEFINED", new Arity(1, 1)),
          Map.entry("IS_NULL", new Arity(1, 1)),
          Map.entry("IS_BOOL", new Arity(1, 1)),
          Map.entry("IS_NUMBER", new Arity(1, 1)),
          Map.entry("IS_STRING", new Arity(1, 1)),
          Map.entry("IS_OBJECT", new Arity(1, 1)),
          Map.entry("IS_ARRAY", new Arity(1, 1)),
          Map.entry("IS_PRIMITIVE", new Arity(1, 1)),
          Map.entry("STARTSWITH", new Arity(2, 2)),
          Map.entry("ENDSWITH", new Arity(2, 2)),
          Map.entry("CONTAINS", new Arity(2, 2)),
          Map.entry("LOWER", new Arity(1, 1)),
          Map.entry("UPPER", new Arity(1, 1)),
          Map.entry("LENGTH", new Arity(1, 1)),
          Map.entry("CONCAT", new Arity(1, Integer.MAX_VALUE)),
          Map.entry("SUBSTRING", new Arity(3, 3)),
          Map.entry("INDEX_OF", new Arity(2, 2)),
          Map.entry("ABS", new Arity(1, 1)),
          Map.entry("CEILING", new Arity(1, 1)),
          Map.entry("FLOOR", new Arity(1, 1)),
          Map.entry("ROUND", new Arity(1, 1)),
          Map.entry("ARRAY_CONTAINS", new Arity(2, 2)));

  private static final Map<String, Arity> AGGREGATES =
      Map.of(
          "COUNT", new Arity(0, 0),
          "SUM", new Arity(1, 1),
          "AVG", new Arity(1, 1),
          "MIN", new Arity(1, 1),
          "MAX", new Arity(1, 1));

  private static final Map<String, String> ALIASES =
      Map.of("STARTS_WITH", "STARTSWITH", "ENDS_WITH", "ENDSWITH");

  /** The canonical upper-case name for a function as written, or null when unknown. */
  public static String canonical(String written) {
    String up = written.toUpperCase(Locale.ROOT);
    up = ALIASES.getOrDefault(up, up);
    return SCALARS.containsKey(up) || AGGREGATES.containsKey(up) ? up : null;
  }

  public static boolean isAggregate(String canonical) {
    return AGGREGATES.containsKey(canonical);
  }

  public static Arity arity(String canonical) {
    Arity a = SCALARS.get(canonical);
    return a != null ? a : AGGREGATES.get(canonical);
  }
}
