package io.herd.query.index;

import io.herd.core.twin.TwinKey;
import io.herd.query.CompiledQuery;
import io.herd.query.ast.Expr;
import io.herd.query.ast.Expr.BinaryOp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Chooses an index for a compiled query: one whose path is compared, in a top-level AND conjunct of
 * the WHERE clause, with a constant by {@code =}, {@code IN}, {@code <}, {@code <=}, {@code >} or
 * {@code >=}. The chosen index yields candidates, a superset of the matching twins; the caller
 * still applies the whole predicate to each. Among several usable conjuncts the one with the fewest
 * candidates wins.
 */
public final class IndexPlanner {
  private IndexPlanner() {}

  /** A way to read the candidates of a query from one index. */
  public sealed interface IndexScan {
    TwinIndex index();

    /** The candidate keys, unsorted. */
    List<TwinKey> candidates();

    /** How many candidates there are. */
    long estimate();

    /** The conjunct the index answers, in canonical form. */
    String condition();
  }

  /** {@code path = v} or {@code path IN [v, ...]}. */
  public record Equality(TwinIndex index, List<Object> values, String condition)
      implements IndexScan {
    @Override
    public List<TwinKey> candidates() {
      return index.equalTo(values);
    }

    @Override
    public long estimate() {
      return index.countEqualTo(values);
    }
  }

  /** {@code path > low} and/or {@code path < high}, bounds of one type. */
  public record Range(
      TwinIndex index,
      Object low,
      boolean lowInclusive,
      Object high,
      boolean highInclusive,
      String condition)
      implements IndexScan {
    @Override
    public List<TwinKey> candidates() {
      return index.between(low, lowInclusive, high, highInclusive);
    }

    @Override
    public long estimate() {
      return index.countBetween(low, lowInclusive, high, highInclusive);
    }
  }

  /**
   * The best index scan for {@code query}, or empty when no index matches and the caller must scan.
   *
   * @param indexes the available indexes by canonical path
   */
  public static Optional<IndexScan> choose(CompiledQuery query, Map<String, TwinIndex> indexes) {
    Expr where = query.plan().query().where();
    if (where == null || indexes.isEmpty()) {
      return Optional.empty();
    }
    List<Expr> conjuncts =
        where instanceof Expr.Logical l && l.and() ? l.operands() : List.of(where);
    List<IndexScan> scans = new ArrayList<>();
    for (Expr c : conjuncts) {
      IndexScan s = scan(c, indexes);
      if (s != null) {
        scans.add(s);
      }
    }
    scans = mergeRanges(scans);
    IndexScan best = null;
    long bestCount = Long.MAX_VALUE;
    for (IndexScan s : scans) {
      long n = s.estimate();
      if (n < bestCount) {
        best = s;
        bestCount = n;
      }
    }
    return Optional.ofNullable(best);
  }

  /**
   * Joins ranges on one path with bounds of one type into one, the tightest of each side: {@code a
   * > 2 AND a <= 5} reads only (2, 5].
   */
  private static List<IndexScan> mergeRanges(List<IndexScan> scans) {
    List<IndexScan> out = new ArrayList<>();
    Map<String, Range> merged = new java.util.LinkedHashMap<>();
    for (IndexScan s : scans) {
      if (!(s instanceof Range r)) {
        out.add(s);
        continue;
      }
      int rank = IndexValue.of(r.low() != null ? r.low() : r.high()).rank();
      merged.merge(r.index().path() + "#" + rank, r, IndexPlanner::tighter);
    }
    out.addAll(merged.values());
    return out;
  }

  private static Range tighter(Range a, Range b) {
    Object low = a.low();
    boolean lowIn = a.lowInclusive();
    if (b.low() != null) {
      int c = low == null ? -1 : IndexValue.of(low).compareTo(IndexValue.of(b.low()));
      if (c < 0 || (c == 0 && !b.lowInclusive())) {
        low = b.low();
        lowIn = b.lowInclusive();
      }
    }
    Object high = a.high();
    boolean highIn = a.highInclusive();
    if (b.high() != null) {
      int c = high == null ? 1 : IndexValue.of(high).compareTo(IndexValue.of(b.high()));
      if (c > 0 || (c == 0 && !b.highInclusive())) {
        high = b.high();
        highIn = b.highInclusive();
      }
    }
    return new Range(a.index(), low, lowIn, high, highIn, a.condition() + " AND " + b.condition());
  }

  /** Constants an index answers for; JSON null is left to the scan. */
  private static boolean indexable(Object constant) {
    IndexValue v = IndexValue.of(constant);
    return v != null && v.rank() != IndexValue.NULL;
  }

  private static IndexScan scan(Expr c, Map<String, TwinIndex> indexes) {
    if (c instanceof Expr.In in && !in.negated() && in.operand() instanceof Expr.Path p) {
      TwinIndex index = indexes.get(p.toString());
      if (index == null) {
        return null;
      }
      List<Object> values = new ArrayList<>();
      for (Expr item : in.items()) {
        if (!(item instanceof Expr.Literal lit) || !indexable(lit.value())) {
          return null;
        }
        values.add(lit.value());
      }
      return new Equality(index, values, c.toString());
    }
    if (!(c instanceof Expr.Binary b) || !b.op().isComparison() || b.op() == BinaryOp.NE) {
      return null;
    }
    BinaryOp op = b.op();
    Expr.Path path;
    Expr.Literal lit;
    if (b.left() instanceof Expr.Path p && b.right() instanceof Expr.Literal l) {
      path = p;
      lit = l;
    } else if (b.left() instanceof Expr.Literal l && b.right() instanceof Expr.Path p) {
      path = p;
      lit = l;
      op = op.flipped();
    } else {
      return null;
    }
    TwinIndex index = indexes.get(path.toString());
    IndexValue v = IndexValue.of(lit.value());
    if (index == null || !indexable(lit.value())) {
      return null;
    }
    if (op == BinaryOp.EQ) {
      return new Equality(index, List.of(lit.value()), c.toString());
    }
    if (v.rank() != IndexValue.NUMBER && v.rank() != IndexValue.STRING) {
      return null; // ordering booleans or null is never true; let the scan say so
    }
    return switch (op) {
      case LT -> new Range(index, null, false, lit.value(), false, c.toString());
      case LE -> new Range(index, null, false, lit.value(), true, c.toString());
      case GT -> new Range(index, lit.value(), false, null, false, c.toString());
      case GE -> new Range(index, lit.value(), true, null, false, c.toString());
      default -> null;
    };
  }

  /** The plan with its index choice, for {@code explain}. */
  public static String explain(CompiledQuery query, Optional<IndexScan> scan) {
    return scan.map(
            s ->
                "index "
                    + s.index().path()
                    + " on "
                    + s.condition()
                    + ", then filter: "
                    + query.explain())
        .orElse("scan, filter: " + query.explain());
  }
}
