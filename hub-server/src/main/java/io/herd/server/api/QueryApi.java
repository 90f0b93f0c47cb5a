package io.herd.server.api;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.JsonFields;
import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinArray;
import io.herd.core.twin.TwinJson;
import io.herd.core.twin.TwinJsonWriter;
import io.herd.core.twin.TwinKey;
import io.herd.core.twin.TwinNode;
import io.herd.query.CompiledQuery;
import io.herd.query.Groups;
import io.herd.query.QueryEngine;
import io.herd.query.QueryExecutor;
import io.herd.query.QueryNotSupportedException;
import io.herd.query.QuerySyntaxException;
import io.herd.query.ast.Query;
import io.herd.query.column.ColumnQuery;
import io.herd.query.column.TwinColumns;
import io.herd.query.index.IndexPlanner;
import io.herd.server.jobs.JobEngine;
import io.herd.twin.TwinStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.function.Consumer;

/**
 * {@code POST /devices/query} (azure-iothub-wire.md §5.6) over the hot twins, so a query sees every
 * acknowledged write. Rows come in (deviceId, moduleId) order. A query's matches are found in one
 * pass, through an index when one matches the condition and few twins pass it, else through the
 * query columns, else by scanning every twin; they are sorted once and kept ({@link QueryResults})
 * under an id the continuation token carries, so later pages resume there. Each page reads its
 * twins as they are now: the pass's own twins while no change has come in since, else each looked
 * up again and checked against the condition, so paging stays correct while twins change: a twin
 * that is not changed comes exactly once. A token whose pass is no longer kept still names the last
 * key returned, and the query resumes after it with a new pass. Aggregates group while scanning.
 * Queries run on a worker thread, and their rows are rendered there too, except a first page an
 * index narrows to at most {@value #INLINE_CANDIDATES} candidates: that is tens of microseconds of
 * work, less than the two thread hand-offs a worker costs, so it runs on the event loop.
 */
final class QueryApi {
  static final int DEFAULT_PAGE = 100;

  /** The most index candidates a first page may have to be answered on the event loop. */
  static final int INLINE_CANDIDATES = 256;

  static final int MAX_PAGE = 1000;

  private final Vertx vertx;
  private final TwinStore twins;
  private final QueryIndexes indexes;
  private final QueryColumns columns;
  private final JobEngine jobs;
  private final QueryResults results;
  private final RenderedTwins rendered;

  QueryApi(
      Vertx vertx,
      TwinStore twins,
      QueryIndexes indexes,
      QueryColumns columns,
      JobEngine jobs,
      QueryResults results,
      RenderedTwins rendered) {
    this.vertx = vertx;
    this.twins = twins;
    this.indexes = indexes;
    this.columns = columns;
    this.jobs = jobs;
    this.results = results;
    this.rendered = rendered;
  }

  /** One page: the rows as a JSON array, the item type, and the next page's token (or null). */
  record Page(Buffer body, String itemType, String continuation) {}

  /**
   * Where the previous page ended and how many rows the query has returned so far; {@code results}
   * and {@code position} name the kept pass and the next of its twins to read, when the token has
   * them.
   */
  record Cursor(TwinKey after, long returned, String results, int position) {
    Cursor(TwinKey after, long returned) {
      this(after, returned, null, 0);
    }
  }

  Future<Page> query(Buffer body, String maxItems, String continuation) {
    CompiledQuery q = compile(body);
    int pageSize = pageSize(maxItems);
    Cursor cursor = decode(continuation);
    if (cursor.after() == null && smallIndexQuery(q)) {
      try {
        return Future.succeededFuture(run(q, pageSize, cursor));
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    }
    return vertx.executeBlocking(() -> run(q, pageSize, cursor), false);
  }

  private boolean smallIndexQuery(CompiledQuery q) {
    if (q.source() == Query.Source.JOBS || q.aggregating()) {
      return false;
    }
    Optional<IndexPlanner.IndexScan> scan = IndexPlanner.choose(q, indexes.indexes());
    return scan.isPresent() && scan.get().estimate() <= INLINE_CANDIDATES;
  }

  /**
   * {@code POST /devices/query?explain=true} (a Herd extension): the plan without running it, as
   * {@code {"query": canonical text, "plan": explain text, "index": path or null,
   * "estimatedCandidates": n, "columns": text or null}}; without an index the estimate is the
   * number of hot twins, and {@code columns} says which query columns a scan would read as they are
   * now.
   */
  Future<JsonObject> explain(Buffer body) {
    CompiledQuery q = compile(body);
    return vertx.executeBlocking(
        () -> {
          Optional<IndexPlanner.IndexScan> scan =
              q.source() == Query.Source.JOBS
                  ? Optional.empty()
                  : IndexPlanner.choose(q, indexes.indexes());
          long estimate =
              scan.isPresent()
                  ? scan.get().estimate()
                  : q.source() == Query.Source.JOBS ? jobs.deviceJobCount() : twins.size();
          TwinColumns store = columns.store();
          return new JsonObject()
              .put("query", q.explain())
              .put("plan", IndexPlanner.explain(q, scan))
              .put("index", scan.map(s -> s.index().path()).orElse(null))
              .put("estimatedCandidates", estimate)
              .put(
                  "columns",
                  store == null || q.source() == Query.Source.JOBS
                      ? null
                      : ColumnQuery.explain(q, store));
        },
        false);
  }

  private static CompiledQuery compile(Buffer body) {
    JsonObject request = JsonFields.parseObject(body);
    String text = JsonFields.string(request, "query", null);
    if (text == null || text.isBlank()) {
      throw new HubException(ErrorCode.ARGUMENT_NULL, "The request body needs a 'query'");
    }
    try {
      return QueryEngine.compile(text);
    } catch (QuerySyntaxException | QueryNotSupportedException e) {
      throw new HubException(ErrorCode.ARGUMENT_INVALID, "Invalid query: " + e.getMessage());
    }
  }

  /** How one pass finds a twin query's matches. */
  private sealed interface Source {}

  /** An index's candidates; the whole condition is still applied to each. */
  private record ByIndex(IndexPlanner.IndexScan scan) implements Source {}

  private record ByColumns(TwinColumns columns) implements Source {}

  private record ByScan() implements Source {}

  /**
   * An index when one matches and few twins pass it (its candidates are read one by one), else the
   * columns, else that index anyway, else a scan of every twin.
   */
  private Source source(CompiledQuery q) {
    Optional<IndexPlanner.IndexScan> scan = IndexPlanner.choose(q, indexes.indexes());
    if (scan.isPresent() && scan.get().estimate() <= Math.max(1024, twins.size() / 64)) {
      return new ByIndex(scan.get());
    }
    TwinColumns c = columns.forScan(q);
    if (c != null) {
      return new ByColumns(c);
    }
    return scan.<Source>map(ByIndex::new).orElse(new ByScan());
  }

  private Page run(CompiledQuery q, int pageSize, Cursor cursor) {
    String type = q.itemType().wire;
    if (q.source() == Query.Source.JOBS) {
      return jobsPage(q, pageSize, cursor);
    }
    if (q.aggregating()) {
      // Aggregates and groups come whole, on one page.
      return new Page(raw(aggregate(q)), type, null);
    }
    long top = q.top() >= 0 ? q.top() : Long.MAX_VALUE;
    long left = top - cursor.returned();
    int want = (int) Math.min(pageSize, Math.max(0, left));
    QueryResults.Entry kept = results.get(cursor.results(), q.text());
    Pass pass;
    int pos;
    if (kept != null
        && cursor.position() > 0
        && cursor.position() <= kept.twins.length
        && kept.twins[cursor.position() - 1].key().equals(cursor.after())) {
      // Nothing changed since the pass: its twins are current. Else each is looked up again.
      pass = new Pass(kept.twins, kept.changes, kept.changes >= 0 && kept.changes == changes());
      pos = cursor.position();
    } else {
      kept = null;
      pass = pass(q, cursor.after());
      pos = 0;
    }
    List<Twin> page = new ArrayList<>(Math.min(want, pass.twins.length));
    while (pos < pass.twins.length && page.size() < want) {
      Twin t = pass.current(q, pos++);
      if (t != null) {
        page.add(t);
      }
    }
    boolean more = false;
    if (page.size() == want && left > want) {
      for (int i = pos; i < pass.twins.length && !more; i++) {
        more = pass.current(q, i) != null;
      }
    }
    String next = null;
    if (more && !page.isEmpty()) {
      String id = kept != null ? kept.id : results.put(q.text(), pass.twins, pass.changes).id;
      next =
          encode(
              new Cursor(
                  page.get(page.size() - 1).key(), cursor.returned() + page.size(), id, pos));
    }
    Buffer body = q.columns().isEmpty() ? twins(page) : raw(QueryExecutor.run(q, page, 0));
    return new Page(body, type, next);
  }

  /** The count of the query columns' change feed, or -1 without them. */
  private long changes() {
    TwinColumns store = columns.store();
    return store == null ? -1 : store.changes();
  }

  /**
   * A query's matches in key order, as a pass read them.
   *
   * @param changes the count of the change feed before the pass (-1 when unknown)
   * @param current whether the twins are as they are now and each matches
   */
  private final class Pass {
    final Twin[] twins;
    final long changes;
    final boolean current;

    Pass(Twin[] twins, long changes, boolean current) {
      this.twins = twins;
      this.changes = changes;
      this.current = current;
    }

    /** Row {@code i} as its twin is now, or null when it no longer matches. */
    Twin current(CompiledQuery q, int i) {
      if (current) {
        return twins[i];
      }
      Twin t = QueryApi.this.twins.find(twins[i].key()).orElse(null);
      return t != null && q.matches(t) ? t : null;
    }
  }

  /**
   * One pass over the twins that match, after {@code after} (null: from the start), sorted by key.
   * The twins an index or a scan passes are the ones it tested; those from columns are what the
   * slots held after the columns were read, exact when no change came in meanwhile.
   */
  private Pass pass(CompiledQuery q, TwinKey after) {
    long before = changes();
    List<Twin> found = new ArrayList<>();
    Consumer<Twin> keep =
        t -> {
          if (after == null || KeyOrder.compare(t.key(), after) > 0) {
            found.add(t);
          }
        };
    Source source = source(q);
    boolean tested = true;
    if (source instanceof ByIndex i) {
      for (TwinKey key : i.scan().candidates()) {
        Twin t = twins.find(key).orElse(null);
        if (t != null && q.matches(t)) {
          keep.accept(t);
        }
      }
    } else if (source instanceof ByColumns c) {
      ColumnQuery.matches(q, c.columns()).forEach(keep);
      tested = false;
    } else {
      twins.forEach(
          t -> {
            if (q.matches(t)) {
              keep.accept(t);
            }
          });
    }
    boolean unchanged = before >= 0 && changes() == before;
    Twin[] sorted = found.toArray(Twin[]::new);
    if (!tested && !unchanged) {
      // A column read may have raced a change: test each twin as the slot held it.
      sorted = Arrays.stream(sorted).filter(q::matches).toArray(Twin[]::new);
    }
    KeyOrder.sort(sorted);
    // Later pages may use these twins as they are while the change count stays where it was.
    return new Pass(sorted, unchanged ? before : -1, true);
  }

  private List<Object> aggregate(CompiledQuery q) {
    Source source = source(q);
    if (source instanceof ByColumns c) {
      return ColumnQuery.aggregate(q, c.columns());
    }
    Groups groups = new Groups(q);
    if (source instanceof ByIndex i) {
      for (TwinKey key : i.scan().candidates()) {
        Twin t = twins.find(key).orElse(null);
        if (t != null && q.matches(t)) {
          groups.add(t);
        }
      }
    } else {
      twins.forEach(
          t -> {
            if (q.matches(t)) {
              groups.add(t);
            }
          });
    }
    return groups.rows(q.top() >= 0 ? q.top() : Long.MAX_VALUE);
  }

  /**
   * A devices.jobs page: the job engine's rows, the smallest keys after the cursor kept in a
   * bounded heap (job rows are few next to twins, and are not kept between pages).
   */
  private Page jobsPage(CompiledQuery q, int pageSize, Cursor cursor) {
    long top = q.top() >= 0 ? q.top() : Long.MAX_VALUE;
    long left = top - cursor.returned();
    int want = (int) Math.min(pageSize, Math.max(0, left));
    PriorityQueue<Twin> heap =
        new PriorityQueue<>((a, b) -> KeyOrder.KEYS.compare(b.key(), a.key()));
    int limit = want + 1;
    jobs.forEachDeviceJob(
        d -> {
          Twin t = JobRows.twin(d);
          if (cursor.after() != null && KeyOrder.KEYS.compare(t.key(), cursor.after()) <= 0) {
            return;
          }
          if (!q.matches(t)) {
            return;
          }
          heap.add(t);
          if (heap.size() > limit) {
            heap.poll();
          }
        });
    List<Twin> sorted = new ArrayList<>(heap);
    sorted.sort(Comparator.comparing(Twin::key, KeyOrder.KEYS));
    boolean more = sorted.size() > want && want > 0 && left > want;
    List<Twin> page = sorted.subList(0, Math.min(want, sorted.size()));
    JsonArray rows = new JsonArray();
    for (Object row : QueryExecutor.run(q, page, 0)) {
      rows.add(json(row, q));
    }
    String next =
        more && !page.isEmpty()
            ? encode(new Cursor(page.get(page.size() - 1).key(), cursor.returned() + page.size()))
            : null;
    return new Page(rows.toBuffer(), q.itemType().wire, next);
  }

  private Buffer twins(List<Twin> page) {
    TwinJsonWriter out = new TwinJsonWriter(2 + 2048 * page.size());
    TwinJsonWriter scratch = new TwinJsonWriter(4096);
    out.raw('[');
    for (int i = 0; i < page.size(); i++) {
      if (i > 0) {
        out.raw(',');
      }
      rendered.write(out, page.get(i), scratch);
    }
    return out.raw(']').toBuffer();
  }

  private static Buffer raw(List<Object> rows) {
    JsonArray out = new JsonArray();
    for (Object row : rows) {
      out.add(json(row));
    }
    return out.toBuffer();
  }

  static int pageSize(String header) {
    if (header == null || header.isBlank()) {
      return DEFAULT_PAGE;
    }
    try {
      int n = Integer.parseInt(header.trim());
      if (n >= 1 && n <= MAX_PAGE) {
        return n;
      }
    } catch (NumberFormatException e) {
      // falls through to the error below
    }
    throw new HubException(
        ErrorCode.ARGUMENT_INVALID,
        "x-ms-max-item-count must be a whole number from 1 to "
            + MAX_PAGE
            + ", got '"
            + header
            + "'");
  }

  static String encode(Cursor c) {
    JsonObject o =
        new JsonObject()
            .put("d", c.after().deviceId())
            .put("m", c.after().moduleId())
            .put("n", c.returned());
    if (c.results() != null) {
      o.put("r", c.results()).put("p", c.position());
    }
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(o.encode().getBytes(StandardCharsets.UTF_8));
  }

  static Cursor decode(String token) {
    if (token == null || token.isBlank()) {
      return new Cursor(null, 0);
    }
    try {
      JsonObject o =
          new JsonObject(
              new String(Base64.getUrlDecoder().decode(token.trim()), StandardCharsets.UTF_8));
      String d = o.getString("d");
      String m = o.getString("m");
      long n = o.getLong("n");
      String r = o.getString("r");
      int p = o.getInteger("p", 0);
      if (d == null || n < 0 || p < 0) {
        throw new IllegalArgumentException("incomplete");
      }
      return new Cursor(m == null ? TwinKey.device(d) : TwinKey.module(d, m), n, r, p);
    } catch (RuntimeException e) {
      throw new HubException(
          ErrorCode.ARGUMENT_INVALID,
          "x-ms-continuation is not a token this hub issued; start the query again without it");
    }
  }

  /** A result row as JSON: job rows as IoT Hub shows them, else as {@link #json(Object)}. */
  static Object json(Object value, CompiledQuery q) {
    if (q.source() == Query.Source.JOBS && value instanceof Twin t) {
      return JobRows.json(t);
    }
    return json(value);
  }

  /** A result row as JSON: twins as the twin API shows them, raw rows with their values. */
  static Object json(Object value) {
    if (value instanceof Twin t) {
      return TwinJson.twin(t);
    }
    if (value instanceof Map<?, ?> row) {
      JsonObject o = new JsonObject();
      row.forEach((k, v) -> o.put(String.valueOf(k), json(v)));
      return o;
    }
    if (value instanceof TwinNode node) {
      JsonObject o = new JsonObject();
      for (int i = 0; i < node.size(); i++) {
        o.put(node.key(i), json(node.value(i)));
      }
      return o;
    }
    if (value instanceof TwinArray array) {
      JsonArray a = new JsonArray();
      for (int i = 0; i < array.size(); i++) {
        a.add(json(array.get(i)));
      }
      return a;
    }
    return value;
  }
}
