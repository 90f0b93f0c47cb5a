package io.herd.server.api;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.JsonFields;
import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinArray;
import io.herd.core.twin.TwinJson;
import io.herd.core.twin.TwinKey;
import io.herd.core.twin.TwinNode;
import io.herd.query.CompiledQuery;
import io.herd.query.QueryEngine;
import io.herd.query.QueryExecutor;
import io.herd.query.QueryNotSupportedException;
import io.herd.query.QuerySyntaxException;
import io.herd.query.ast.Query;
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
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.function.Consumer;

/**
 * {@code POST /devices/query} (azure-iothub-wire.md §5.6) over the hot twins, so a query sees every
 * acknowledged write. Rows come in (deviceId, moduleId) order; a page's continuation token names
 * the last key returned, so paging stays correct while twins change: a twin that is not changed
 * comes exactly once. Scans run on a worker thread, never on an event loop.
 */
final class QueryApi {
  static final int DEFAULT_PAGE = 100;
  static final int MAX_PAGE = 1000;

  private static final Comparator<TwinKey> KEY_ORDER =
      Comparator.comparing(TwinKey::deviceId)
          .thenComparing(k -> k.moduleId() == null ? "" : k.moduleId());

  private final Vertx vertx;
  private final TwinStore twins;
  private final QueryIndexes indexes;
  private final JobEngine jobs;

  QueryApi(Vertx vertx, TwinStore twins, QueryIndexes indexes, JobEngine jobs) {
    this.vertx = vertx;
    this.twins = twins;
    this.indexes = indexes;
    this.jobs = jobs;
  }

  /** One page: the rows, the item type, and the token for the next page (null on the last). */
  record Page(JsonArray rows, String itemType, String continuation) {}

  /** Where the previous page ended and how many rows the query has returned so far. */
  private record Cursor(TwinKey after, long returned) {}

  Future<Page> query(Buffer body, String maxItems, String continuation) {
    CompiledQuery q = compile(body);
    int pageSize = pageSize(maxItems);
    Cursor cursor = decode(continuation);
    return vertx.executeBlocking(() -> run(q, pageSize, cursor), false);
  }

  /**
   * {@code POST /devices/query?explain=true} (a Herd extension): the plan without running it, as
   * {@code {"query": canonical text, "plan": explain text, "index": path or null,
   * "estimatedCandidates": n}}; without an index the estimate is the number of hot twins.
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
          return new JsonObject()
              .put("query", q.explain())
              .put("plan", IndexPlanner.explain(q, scan))
              .put("index", scan.map(s -> s.index().path()).orElse(null))
              .put("estimatedCandidates", estimate);
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

  /**
   * Feeds {@code sink} the twins that may match, in no order: an index's candidates (looked up
   * again, so a twin is read as it is now) when one matches the query, else every hot twin. The
   * sink still applies the whole predicate.
   */
  private void candidates(CompiledQuery q, Consumer<Twin> sink) {
    if (q.source() == Query.Source.JOBS) {
      jobs.forEachDeviceJob(d -> sink.accept(JobRows.twin(d)));
      return;
    }
    Optional<IndexPlanner.IndexScan> scan = IndexPlanner.choose(q, indexes.indexes());
    if (scan.isEmpty()) {
      twins.forEach(sink);
      return;
    }
    for (TwinKey key : scan.get().candidates()) {
      twins.find(key).ifPresent(sink);
    }
  }

  private Page run(CompiledQuery q, int pageSize, Cursor cursor) {
    String type = q.itemType().wire;
    if (q.aggregating()) {
      // Aggregates and groups come whole, on one page.
      List<Twin> all = new ArrayList<>();
      candidates(
          q,
          t -> {
            if (q.matches(t)) {
              all.add(t);
            }
          });
      JsonArray rows = new JsonArray();
      for (Object row : QueryExecutor.run(q, all, 0)) {
        rows.add(json(row, q));
      }
      return new Page(rows, type, null);
    }
    long top = q.top() > 0 ? q.top() : Long.MAX_VALUE;
    long left = top - cursor.returned();
    int want = (int) Math.min(pageSize, Math.max(0, left));
    // The smallest keys after the cursor: a bounded max-heap of want + 1 tells if more remain.
    PriorityQueue<Twin> heap = new PriorityQueue<>((a, b) -> KEY_ORDER.compare(b.key(), a.key()));
    int limit = want + 1;
    candidates(
        q,
        t -> {
          if (cursor.after() != null && KEY_ORDER.compare(t.key(), cursor.after()) <= 0) {
            return;
          }
          if (!q.inSource(t) || !q.matches(t)) {
            return;
          }
          heap.add(t);
          if (heap.size() > limit) {
            heap.poll();
          }
        });
    List<Twin> sorted = new ArrayList<>(heap);
    sorted.sort(Comparator.comparing(Twin::key, KEY_ORDER));
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
    return new Page(rows, type, next);
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
      if (d == null || n < 0) {
        throw new IllegalArgumentException("incomplete");
      }
      return new Cursor(m == null ? TwinKey.device(d) : TwinKey.module(d, m), n);
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
