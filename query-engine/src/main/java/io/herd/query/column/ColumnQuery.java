package io.herd.query.column;

import io.herd.core.twin.Twin;
import io.herd.query.CompiledQuery;
import io.herd.query.Groups;
import io.herd.query.ast.Expr;
import io.herd.query.ast.Query;
import io.herd.query.eval.Evaluator;
import io.herd.query.eval.Functions;
import io.herd.query.eval.PredicateCompiler;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a compiled query over {@link TwinColumns}. The WHERE condition becomes a tree whose leaves
 * are its largest parts that read a single path with a column: each such part is evaluated once per
 * distinct value of the path, with the row compiler's own semantics ({@link
 * PredicateCompiler#evaluator(Expr, java.util.function.Function)}), into a table by dictionary
 * code; a slot then passes a leaf when the table says so for its code. Parts that read several
 * paths, or a path without a column, are evaluated on the slot's twin. The top-level conjuncts run
 * cheapest first: the leaf that passes fewest slots scans all slots in order, the others only its
 * survivors. GROUP BY on column paths counts by code. Results equal the row path's ({@link
 * io.herd.query.QueryExecutor}) on the same twins.
 */
public final class ColumnQuery {
  private static final byte FALSE = 0;
  private static final byte TRUE = 1;
  private static final byte OTHER = 2;

  private final CompiledQuery query;
  private final TwinColumns.Snapshot snap;
  private final byte kind;
  private int leaves;
  private int rowParts;

  private ColumnQuery(CompiledQuery query, TwinColumns.Snapshot snap) {
    this.query = query;
    this.snap = snap;
    this.kind = query.source() == Query.Source.MODULES ? TwinColumns.MODULE : TwinColumns.DEVICE;
  }

  /**
   * The paths whose columns would serve {@code q}: each path some part of the WHERE reads alone,
   * the GROUP BY paths and the plain-path arguments of aggregates. Empty for devices.jobs.
   */
  public static Set<String> paths(CompiledQuery q) {
    Set<String> out = new LinkedHashSet<>();
    if (q.source() == Query.Source.JOBS) {
      return out;
    }
    Query parsed = q.plan().query();
    if (parsed.where() != null) {
      leafPaths(parsed.where(), out);
    }
    for (Expr g : parsed.groupBy()) {
      if (g instanceof Expr.Path p) {
        out.add(p.toString());
      }
    }
    for (Query.Projection p : parsed.select()) {
      if (p.expr() instanceof Expr.Call c
          && Functions.isAggregate(c.name())
          && c.args().size() == 1
          && c.args().get(0) instanceof Expr.Path a) {
        out.add(a.toString());
      }
    }
    return out;
  }

  private static void leafPaths(Expr e, Set<String> out) {
    Set<String> ps = pathsOf(e);
    if (ps.size() == 1) {
      out.addAll(ps);
    } else if (e instanceof Expr.Logical l) {
      l.operands().forEach(o -> leafPaths(o, out));
    } else if (e instanceof Expr.Unary u && u.op() == Expr.UnaryOp.NOT) {
      leafPaths(u.operand(), out);
    }
  }

  private static Set<String> pathsOf(Expr e) {
    Set<String> out = new LinkedHashSet<>();
    collect(e, out);
    return out;
  }

  private static void collect(Expr e, Set<String> out) {
    if (e instanceof Expr.Path p) {
      out.add(p.toString());
    } else if (e instanceof Expr.Unary u) {
      collect(u.operand(), out);
    } else if (e instanceof Expr.Binary b) {
      collect(b.left(), out);
      collect(b.right(), out);
    } else if (e instanceof Expr.Logical l) {
      l.operands().forEach(o -> collect(o, out));
    } else if (e instanceof Expr.In in) {
      collect(in.operand(), out);
      in.items().forEach(i -> collect(i, out));
    } else if (e instanceof Expr.Array a) {
      a.items().forEach(i -> collect(i, out));
    } else if (e instanceof Expr.Call c) {
      c.args().forEach(a -> collect(a, out));
    }
  }

  /**
   * The twins in the query's collection that pass its WHERE, in slot order. Each is the slot's twin
   * when it was read, which a concurrent change may have made newer than what the columns matched:
   * unless {@link TwinColumns#changes} read the same before this call and after it, callers
   * returning rows re-check them with {@link CompiledQuery#matches}.
   *
   * @throws IllegalArgumentException for an aggregating or devices.jobs query
   */
  public static List<Twin> matches(CompiledQuery q, TwinColumns columns) {
    if (q.aggregating() || q.source() == Query.Source.JOBS) {
      throw new IllegalArgumentException("not a twin row query: " + q);
    }
    ColumnQuery cq = new ColumnQuery(q, columns.snapshot(paths(q)));
    Hits hits = cq.list(cq.filter());
    Twin[] twins = cq.snap.twins();
    List<Twin> out = new ArrayList<>(hits.size);
    for (int i = 0; i < hits.size; i++) {
      Twin t = twins[hits.slots[i]];
      if (t != null) {
        out.add(t);
      }
    }
    return out;
  }

  /**
   * The rows of an aggregating query, as {@link io.herd.query.QueryExecutor#run} gives them.
   *
   * @throws IllegalArgumentException for a query that does not aggregate or reads devices.jobs
   */
  public static List<Object> aggregate(CompiledQuery q, TwinColumns columns) {
    if (!q.aggregating() || q.source() == Query.Source.JOBS) {
      throw new IllegalArgumentException("not an aggregating twin query: " + q);
    }
    ColumnQuery cq = new ColumnQuery(q, columns.snapshot(paths(q)));
    Groups groups = cq.group(cq.filter());
    return groups.rows(q.top() >= 0 ? q.top() : Long.MAX_VALUE);
  }

  /**
   * How {@code q} would run over these columns, for explain: the columns it reads and how many of
   * its parts fall back to the twins.
   */
  public static String explain(CompiledQuery q, TwinColumns columns) {
    ColumnQuery cq = new ColumnQuery(q, columns.snapshot(paths(q)));
    cq.compile(q.plan().query().where());
    return "columns "
        + cq.snap.columns().keySet()
        + " ("
        + cq.leaves
        + " part(s) by column, "
        + cq.rowParts
        + " by twin)";
  }

  // ---- the condition as a tree over slots

  private static byte outcome(Object v) {
    return v == Boolean.TRUE ? TRUE : v == Boolean.FALSE ? FALSE : OTHER;
  }

  /** A part of the condition: its outcome for one slot. */
  private abstract static class Node {
    abstract byte eval(int slot);

    /** Slots it passes, an upper bound; for ordering conjuncts. */
    long estimate() {
      return Long.MAX_VALUE;
    }
  }

  private final class Leaf extends Node {
    final int[] codes;
    final int size;
    final byte[] table;
    final boolean[] pass;
    final byte[] passBytes;
    final Evaluator row;
    final long estimate;

    Leaf(Expr e, ColumnView v) {
      Object[] cell = new Object[1];
      Evaluator byValue = PredicateCompiler.evaluator(e, p -> t -> cell[0]);
      codes = v.codes();
      size = v.size();
      table = new byte[size];
      pass = new boolean[size];
      passBytes = new byte[size];
      long n = 0;
      for (int c = 0; c < size; c++) {
        cell[0] = v.values()[c];
        table[c] = outcome(byValue.eval(null));
        pass[c] = table[c] == TRUE;
        passBytes[c] = (byte) (pass[c] ? 1 : 0);
        n += pass[c] ? v.counts()[c] : 0;
      }
      estimate = n;
      row = PredicateCompiler.evaluator(e);
    }

    @Override
    byte eval(int slot) {
      int c = codes[slot];
      return c < size ? table[c] : byTwin(row, slot);
    }

    boolean passes(int slot) {
      int c = codes[slot];
      return c < size ? pass[c] : byTwin(row, slot) == TRUE;
    }

    @Override
    long estimate() {
      return estimate;
    }
  }

  private byte byTwin(Evaluator e, int slot) {
    Twin t = snap.twins()[slot];
    return t == null ? OTHER : outcome(e.eval(t));
  }

  private final class Row extends Node {
    final Evaluator e;

    Row(Expr expr) {
      e = PredicateCompiler.evaluator(expr);
    }

    @Override
    byte eval(int slot) {
      return byTwin(e, slot);
    }
  }

  private static final class Const extends Node {
    final byte value;

    Const(byte value) {
      this.value = value;
    }

    @Override
    byte eval(int slot) {
      return value;
    }

    @Override
    long estimate() {
      return value == TRUE ? Long.MAX_VALUE - 1 : 0;
    }
  }

  /** AND or OR with the language's three-valued logic. */
  private static final class Logical extends Node {
    final boolean and;
    final Node[] parts;

    Logical(boolean and, Node[] parts) {
      this.and = and;
      this.parts = parts;
    }

    @Override
    byte eval(int slot) {
      byte decisive = and ? FALSE : TRUE;
      boolean all = true;
      for (Node p : parts) {
        byte v = p.eval(slot);
        if (v == decisive) {
          return decisive;
        }
        all &= v != OTHER;
      }
      return all ? (and ? TRUE : FALSE) : OTHER;
    }
  }

  private static final class Not extends Node {
    final Node part;

    Not(Node part) {
      this.part = part;
    }

    @Override
    byte eval(int slot) {
      byte v = part.eval(slot);
      return v == TRUE ? FALSE : v == FALSE ? TRUE : OTHER;
    }
  }

  private Node compile(Expr e) {
    if (e == null) {
      return new Const(TRUE);
    }
    Set<String> ps = pathsOf(e);
    if (ps.isEmpty()) {
      // Reads no path, so never the twin.
      return new Const(outcome(PredicateCompiler.evaluator(e).eval(null)));
    }
    if (ps.size() == 1) {
      ColumnView v = snap.columns().get(ps.iterator().next());
      if (v != null) {
        leaves++;
        return new Leaf(e, v);
      }
    }
    if (e instanceof Expr.Logical l) {
      return new Logical(l.and(), l.operands().stream().map(this::compile).toArray(Node[]::new));
    }
    if (e instanceof Expr.Unary u && u.op() == Expr.UnaryOp.NOT) {
      return new Not(compile(u.operand()));
    }
    rowParts++;
    return new Row(e);
  }

  // ---- scanning

  /** Slots scanned per block of the first conjunct; the block's hits collect branch-free. */
  private static final int BLOCK = 4096;

  /** Slots in ascending order; {@code all} stands for every slot of the kind below high. */
  private static final class Hits {
    final boolean all;
    int[] slots;
    int size;

    Hits(int capacity) {
      this.all = false;
      this.slots = new int[Math.max(16, capacity)];
    }

    private Hits() {
      this.all = true;
    }

    static Hits every() {
      return new Hits();
    }

    void add(int[] block, int n) {
      if (size + n > slots.length) {
        slots = Arrays.copyOf(slots, Math.max(size + n, slots.length * 2));
      }
      System.arraycopy(block, 0, slots, size, n);
      size += n;
    }
  }

  /** The slots of the query's collection that pass its WHERE. */
  private Hits filter() {
    Node root = compile(query.plan().query().where());
    List<Node> conjuncts = new ArrayList<>();
    if (root instanceof Logical l && l.and) {
      conjuncts.addAll(Arrays.asList(l.parts));
    } else {
      conjuncts.add(root);
    }
    // Cheapest first: exact pass counts for leaves, everything else after them in query order.
    conjuncts.sort(Comparator.comparingLong(Node::estimate));
    conjuncts.removeIf(n -> n instanceof Const c && c.value == TRUE);
    if (!conjuncts.isEmpty() && conjuncts.get(0) instanceof Const) {
      return new Hits(0); // a conjunct that is never true
    }
    if (conjuncts.isEmpty()) {
      return Hits.every();
    }
    Hits hits = first(conjuncts.get(0));
    for (int i = 1; i < conjuncts.size() && hits.size > 0; i++) {
      narrow(hits, conjuncts.get(i));
    }
    return hits;
  }

  /** Every slot of the kind, listed. */
  private Hits list(Hits hits) {
    if (!hits.all) {
      return hits;
    }
    return first(new Const(TRUE));
  }

  private Hits first(Node n) {
    byte[] kinds = snap.kinds();
    int high = snap.high();
    byte kind = this.kind;
    Hits hits = new Hits((int) Math.min(high, n.estimate() + 16));
    int[] block = new int[BLOCK];
    for (int from = 0; from < high; from += BLOCK) {
      int to = Math.min(high, from + BLOCK);
      int k = 0;
      if (n instanceof Leaf leaf) {
        int[] codes = leaf.codes;
        byte[] pass = leaf.passBytes;
        int size = leaf.size;
        for (int s = from; s < to; s++) {
          int c = codes[s];
          int p = c < size ? pass[c] : leaf.passes(s) ? 1 : 0;
          block[k] = s;
          k += p & (kinds[s] == kind ? 1 : 0);
        }
      } else {
        for (int s = from; s < to; s++) {
          if (kinds[s] == kind && n.eval(s) == TRUE) {
            block[k++] = s;
          }
        }
      }
      hits.add(block, k);
    }
    return hits;
  }

  private static void narrow(Hits hits, Node n) {
    int[] slots = hits.slots;
    int kept = 0;
    if (n instanceof Leaf leaf) {
      for (int i = 0; i < hits.size; i++) {
        int s = slots[i];
        if (leaf.passes(s)) {
          slots[kept++] = s;
        }
      }
    } else {
      for (int i = 0; i < hits.size; i++) {
        int s = slots[i];
        if (n.eval(s) == TRUE) {
          slots[kept++] = s;
        }
      }
    }
    hits.size = kept;
  }

  // ---- grouping

  /** Most combined group codes counted in arrays; more go through a hash map. */
  private static final int DENSE_GROUPS = 1 << 20;

  private Groups group(Hits hits) {
    Groups groups = new Groups(query);
    Query parsed = query.plan().query();
    Twin[] twins = snap.twins();
    List<ColumnView> keys = new ArrayList<>();
    for (Expr g : parsed.groupBy()) {
      ColumnView v = g instanceof Expr.Path p ? snap.columns().get(p.toString()) : null;
      if (v == null) {
        // A key without a column: group by the twins themselves.
        Hits listed = list(hits);
        for (int i = 0; i < listed.size; i++) {
          byTwin(groups, twins[listed.slots[i]]);
        }
        return groups;
      }
      keys.add(v);
    }
    long combinations = 1;
    for (ColumnView v : keys) {
      combinations = Math.min((long) DENSE_GROUPS + 1, combinations * v.size());
    }
    Aggregates aggregates = new Aggregates(parsed, query);
    if (combinations <= DENSE_GROUPS && aggregates.countsOnly()) {
      count(hits, keys, (int) combinations, groups);
    } else {
      accumulate(list(hits), keys, combinations, groups, aggregates);
    }
    return groups;
  }

  /** The combined code of a slot's keys (mixed radix), or -1 when one is not in the views. */
  private static long combined(List<ColumnView> keys, int slot) {
    long code = 0;
    for (ColumnView v : keys) {
      int c = v.codes()[slot];
      if (c >= v.size()) {
        return -1;
      }
      code = code * v.size() + c;
    }
    return code;
  }

  private static List<Object> keyValues(List<ColumnView> keys, long combined) {
    Object[] values = new Object[keys.size()];
    for (int i = keys.size() - 1; i >= 0; i--) {
      ColumnView v = keys.get(i);
      values[i] = v.values()[(int) (combined % v.size())];
      combined /= v.size();
    }
    return Arrays.asList(values);
  }

  /** Queries whose aggregates are all COUNT(): a counting array over the key codes. */
  private void count(Hits hits, List<ColumnView> keys, int combinations, Groups groups) {
    Twin[] twins = snap.twins();
    long[] n = new long[combinations];
    if (hits.all && keys.size() == 1) {
      byte[] kinds = snap.kinds();
      byte kind = this.kind;
      int[] codes = keys.get(0).codes();
      int size = keys.get(0).size();
      int high = snap.high();
      for (int s = 0; s < high; s++) {
        int c = codes[s];
        if (c < size) {
          n[c] += kinds[s] == kind ? 1 : 0;
        } else if (kinds[s] == kind) {
          byTwin(groups, twins[s]);
        }
      }
    } else {
      Hits listed = list(hits);
      for (int i = 0; i < listed.size; i++) {
        int s = listed.slots[i];
        long c = combined(keys, s);
        if (c < 0) {
          byTwin(groups, twins[s]);
        } else {
          n[(int) c]++;
        }
      }
    }
    Twin[] first = firsts(hits, keys, n);
    for (int c = 0; c < combinations; c++) {
      if (n[c] > 0) {
        groups.group(keyValues(keys, c), first[c]).addCount(n[c]);
      }
    }
  }

  /** A twin of each counted group, to stand for it; one pass that stops once all are found. */
  private Twin[] firsts(Hits hits, List<ColumnView> keys, long[] n) {
    Twin[] twins = snap.twins();
    Twin[] first = new Twin[n.length];
    int missing = 0;
    for (long x : n) {
      missing += x > 0 ? 1 : 0;
    }
    int high = hits.all ? snap.high() : hits.size;
    byte[] kinds = snap.kinds();
    for (int i = 0; i < high && missing > 0; i++) {
      int s = hits.all ? i : hits.slots[i];
      if (hits.all && kinds[s] != kind) {
        continue;
      }
      long c = combined(keys, s);
      Twin t = twins[s];
      if (c >= 0 && n[(int) c] > 0 && first[(int) c] == null && t != null) {
        first[(int) c] = t;
        missing--;
      }
    }
    return first;
  }

  /**
   * General aggregates: each hit goes to its group's accumulators; groups found by combined code in
   * an array when there are few combinations, else in a hash map.
   */
  private void accumulate(
      Hits hits, List<ColumnView> keys, long combinations, Groups groups, Aggregates aggregates) {
    Twin[] twins = snap.twins();
    boolean dense = combinations <= DENSE_GROUPS;
    Groups.Group[] byCode = dense ? new Groups.Group[(int) combinations] : null;
    Map<Long, Groups.Group> byKey = dense ? null : new HashMap<>();
    for (int i = 0; i < hits.size; i++) {
      int s = hits.slots[i];
      Twin t = twins[s];
      if (t == null) {
        continue;
      }
      long c = combined(keys, s);
      if (c < 0) {
        groups.add(t);
        continue;
      }
      Groups.Group g = dense ? byCode[(int) c] : byKey.get(c);
      if (g == null) {
        g = groups.group(keyValues(keys, c), t);
        if (dense) {
          byCode[(int) c] = g;
        } else {
          byKey.put(c, g);
        }
      }
      aggregates.add(g, s, t);
    }
  }

  private static void byTwin(Groups groups, Twin t) {
    if (t != null) {
      groups.add(t);
    }
  }

  /** The aggregates of the select list, with their arguments read from columns where possible. */
  private final class Aggregates {
    final int[] index;
    final ColumnView[] args;
    final Evaluator[] rowArgs;
    final boolean countsOnly;

    Aggregates(Query parsed, CompiledQuery q) {
      List<Integer> idx = new ArrayList<>();
      List<ColumnView> views = new ArrayList<>();
      List<Evaluator> evals = new ArrayList<>();
      boolean counts = true;
      for (int i = 0; i < q.columns().size(); i++) {
        CompiledQuery.Column c = q.columns().get(i);
        if (!c.isAggregate()) {
          continue;
        }
        idx.add(i);
        Expr e = parsed.select().get(i).expr();
        Expr arg =
            e instanceof Expr.Call call && !call.args().isEmpty() ? call.args().get(0) : null;
        views.add(arg instanceof Expr.Path p ? snap.columns().get(p.toString()) : null);
        evals.add(c.argument());
        counts &= "COUNT".equals(c.aggregate());
      }
      index = idx.stream().mapToInt(Integer::intValue).toArray();
      args = views.toArray(ColumnView[]::new);
      rowArgs = evals.toArray(Evaluator[]::new);
      countsOnly = counts;
    }

    boolean countsOnly() {
      return countsOnly;
    }

    void add(Groups.Group g, int slot, Twin t) {
      for (int k = 0; k < index.length; k++) {
        Object v = null;
        ColumnView a = args[k];
        if (a != null && a.codes()[slot] < a.size()) {
          v = a.values()[a.codes()[slot]];
        } else if (rowArgs[k] != null) {
          v = rowArgs[k].eval(t);
        }
        g.add(index[k], v);
      }
    }
  }

  /** For tests: the paths a query reads, sorted. */
  static List<String> sortedPaths(CompiledQuery q) {
    List<String> out = new ArrayList<>(paths(q));
    Collections.sort(out);
    return out;
  }
}
