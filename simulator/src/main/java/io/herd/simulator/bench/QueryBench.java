package io.herd.simulator.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.herd.simulator.bench.BenchSupport.BenchOptions;
import io.herd.simulator.bench.BenchSupport.Clients;
import io.herd.simulator.bench.BenchSupport.Driver;
import io.herd.simulator.bench.BenchSupport.HubInfo;
import io.herd.simulator.bench.BenchSupport.PhaseResult;
import io.herd.simulator.bench.BenchSupport.PhaseStats;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeoutException;
import org.HdrHistogram.Histogram;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Query benchmark (issue 6): a fleet of {@link QueryFleet} twins in the hub, then three queries
 * timed over {@code POST /devices/query} (one request at a time, every page fetched), then the same
 * three over the same documents as JSONB in an embedded PostgreSQL 17 with a GIN index.
 *
 * <p>Every timed answer is checked against the row counts the generator predicts, so a fast wrong
 * answer fails the run.
 */
public final class QueryBench {

  static final String Q_EQUALITY =
      "SELECT * FROM devices WHERE tags.site = '" + QueryFleet.EQ_SITE + "'";
  private static final String SCAN_WHERE =
      "tags.region = '"
          + QueryFleet.SCAN_REGION
          + "' AND tags.floor >= "
          + QueryFleet.SCAN_MIN_FLOOR
          + " AND properties.desired.telemetry.intervalSeconds = "
          + QueryFleet.SCAN_INTERVAL;
  static final String Q_SCAN = "SELECT * FROM devices WHERE " + SCAN_WHERE;

  /** The scan's condition counted: the same pass over the twins without sending them. */
  static final String Q_COUNT = "SELECT COUNT() AS n FROM devices WHERE " + SCAN_WHERE;

  static final String Q_GROUP =
      "SELECT properties.desired.fw AS fw, COUNT() AS n FROM devices"
          + " GROUP BY properties.desired.fw";

  static final String PG_EQUALITY =
      "SELECT doc FROM twins_jsonb WHERE doc @> '{\"tags\":{\"site\":\""
          + QueryFleet.EQ_SITE
          + "\"}}'";
  private static final String PG_SCAN_WHERE =
      "doc->'tags'->>'region' = '"
          + QueryFleet.SCAN_REGION
          + "' AND (doc->'tags'->>'floor')::int >= "
          + QueryFleet.SCAN_MIN_FLOOR
          + " AND (doc->'properties'->'desired'->'telemetry'->>'intervalSeconds')::int = "
          + QueryFleet.SCAN_INTERVAL;
  static final String PG_SCAN = "SELECT doc FROM twins_jsonb WHERE " + PG_SCAN_WHERE;
  static final String PG_COUNT = "SELECT count(*) AS n FROM twins_jsonb WHERE " + PG_SCAN_WHERE;
  static final String PG_GROUP =
      "SELECT doc->'properties'->'desired'->>'fw' AS fw, count(*) AS n FROM twins_jsonb"
          + " GROUP BY 1";

  private static final String QUERY_URI = "/devices/query?api-version=" + BenchSupport.API_VERSION;
  private static final String[] NAMES = {"equality", "scan", "group", "count"};
  private static final int GROUP = 2;
  private static final int PG_WARMUP = 5;
  private static final int PG_REPETITIONS = 20;
  private static final int SETTLE_LIMIT_SECONDS = 60;
  private static final int SETTLE_BUSY_PERCENT = 15;
  private static final int COUNT = 3;

  private QueryBench() {}

  public static void main(String[] args) {
    BenchSupport.main(
        "query-bench",
        args,
        Options.USAGE,
        Options::parse,
        (o, hub, out) -> new Runner(o, out).run(hub));
  }

  record Options(
      Path hubJson,
      int devices,
      int sites,
      boolean create,
      int batch,
      int createClients,
      int clients,
      int repetitions,
      int warmup,
      int pageSize,
      boolean postgres,
      boolean parseTrees,
      boolean pgTagsOnly,
      String prefix,
      String host,
      int eventLoops,
      int timeoutSeconds,
      Path resultFile)
      implements BenchOptions {

    static final String USAGE =
        """
        usage: QueryBench --hub-json PATH [options]
          --twins N             twins in the fleet, ids <prefix>-0 .. (default 1000000)
          --sites N             tags.site values site-0000 .. , 1..10000 (default 10000: issue 6's
                                site-0042 has four digits; about 100 twins a site)
          --no-create           the twins exist and are filled already (same --prefix)
          --batch N             devices per POST /devices, 1..100 (default 100)
          --create-clients N    concurrent bulk-create requests (default 8)
          --clients N           concurrent fill PATCH requests (default 64)
          --repetitions N       timed runs of each query (default 20; at most 20 on the
                                PostgreSQL side)
          --warmup N            untimed runs of each query first (default 5; at most 5 on the
                                PostgreSQL side)
          --page-size N         x-ms-max-item-count, 1..1000 (default 1000)
          --no-postgres         skip the PostgreSQL side
          --parse-trees         parse each page of twins into JsonObjects (default: count the
                                rows with a streaming parser that checks the JSON, as the
                                PostgreSQL side reads each row as text)
          --pg-tags-only        give PostgreSQL the generated tags and desired properties only
                                (about 670 bytes a document) instead of the twins the hub
                                returns for SELECT * (about 2 KB with $metadata, read from the
                                hub after its queries)
          --prefix P            device id prefix (default bench-<random>)
          --host H              loopback address to connect to (default 127.0.0.1)
          --event-loops N       client event loops (default 1)
          --timeout-seconds N   hard limit for the whole run (default 3600)
          --result-file PATH    also write the figures as key=value lines""";

    static Options parse(String[] args) {
      Map<String, String> values =
          BenchSupport.parseArgs(
              args, Set.of("no-create", "no-postgres", "parse-trees", "pg-tags-only"));
      if (values == null) {
        return null;
      }
      String hubJson = values.remove("hub-json");
      if (hubJson == null) {
        throw new IllegalArgumentException("--hub-json is required\n" + USAGE);
      }
      boolean create = values.remove("no-create") == null;
      boolean postgres = values.remove("no-postgres") == null;
      boolean parseTrees = values.remove("parse-trees") != null;
      boolean pgTagsOnly = values.remove("pg-tags-only") != null;
      String prefix = values.remove("prefix");
      if (prefix == null && !create) {
        throw new IllegalArgumentException("--prefix is required with --no-create");
      }
      Options o =
          new Options(
              Path.of(hubJson),
              BenchSupport.intArg(values, "twins", 1_000_000, 1, 10_000_000),
              BenchSupport.intArg(values, "sites", QueryFleet.SITES, 1, 10_000),
              create,
              BenchSupport.intArg(values, "batch", 100, 1, 100),
              BenchSupport.intArg(values, "create-clients", 8, 1, 1_000),
              BenchSupport.intArg(values, "clients", 64, 1, 5_000),
              BenchSupport.intArg(values, "repetitions", 20, 1, 100_000),
              BenchSupport.intArg(values, "warmup", 5, 0, 10_000),
              BenchSupport.intArg(values, "page-size", 1000, 1, 1000),
              postgres,
              parseTrees,
              pgTagsOnly,
              prefix != null ? prefix : BenchSupport.randomPrefix(),
              BenchSupport.stringArg(values, "host", "127.0.0.1"),
              BenchSupport.intArg(values, "event-loops", 1, 1, 64),
              BenchSupport.intArg(values, "timeout-seconds", 3600, 1, 86_400),
              BenchSupport.pathArg(values, "result-file"));
      BenchSupport.requireValid(values, o.prefix);
      return o;
    }
  }

  private static final JsonFactory JSON = new JsonFactory();

  /**
   * The rows of a JSON array of objects, read with a streaming parser that checks the whole
   * document but builds nothing.
   *
   * @throws IllegalArgumentException when the body is not such an array
   */
  static int countRows(Buffer body) {
    try (JsonParser p = JSON.createParser(body.getBytes())) {
      if (p.nextToken() != JsonToken.START_ARRAY) {
        throw new IllegalArgumentException("not a JSON array");
      }
      int rows = 0;
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.START_OBJECT) {
        p.skipChildren();
        rows++;
      }
      if (t != JsonToken.END_ARRAY || p.nextToken() != null) {
        throw new IllegalArgumentException("not a JSON array of objects");
      }
      return rows;
    } catch (IOException e) {
      throw new IllegalArgumentException("malformed JSON: " + e.getMessage(), e);
    }
  }

  /** Sequences the phases and reports. */
  private static final class Runner {
    private final Options options;
    private final PrintStream out;
    private final Map<String, String> results = new LinkedHashMap<>();
    private final QueryFleet.Expected expected;

    Runner(Options options, PrintStream out) {
      this.options = options;
      this.out = out;
      this.expected = QueryFleet.expected(options.devices(), options.sites());
    }

    int run(HubInfo hub) {
      results.put("twins", Integer.toString(options.devices()));
      results.put("sites", Integer.toString(options.sites()));
      results.put("pageSize", Integer.toString(options.pageSize()));
      results.put("repetitions", Integer.toString(options.repetitions()));
      results.put("expected.equality", Long.toString(expected.equality()));
      results.put("expected.scan", Long.toString(expected.scan()));
      results.put("expected.groups", Integer.toString(expected.groups().size()));
      return BenchSupport.runPhases(
          "query-bench",
          "== Herd query benchmark (" + options.devices() + " twins) ==",
          options,
          hub,
          out,
          options.clients(),
          results,
          "a request failed, did not answer 200 or returned other rows than expected",
          (clients, token) ->
              (!options.create() || fill(clients, token))
                  && settle()
                  && herdQueries(clients, token)
                  && (!options.postgres() || postgres(clients, token)));
    }

    private boolean fill(Clients clients, String token) throws TimeoutException {
      MultiMap headers =
          MultiMap.caseInsensitiveMultiMap()
              .add(HttpHeaders.AUTHORIZATION, token)
              .add(HttpHeaders.CONTENT_TYPE, BenchSupport.JSON_UTF8)
              .add(HttpHeaders.IF_MATCH, "\"*\"");
      long start = System.nanoTime();
      PhaseResult r =
          clients.drain(
              options.clients(),
              options.devices(),
              n -> 1,
              d ->
                  n -> {
                    String id = options.deviceId(n);
                    return BenchSupport.outcome(
                        d.request(
                                HttpMethod.PATCH,
                                "/twins/" + id + "?api-version=" + BenchSupport.API_VERSION)
                            .putHeaders(headers)
                            .sendBuffer(
                                Buffer.buffer(
                                    QueryFleet.twin(n, options.sites()).tagsAndDesired().encode())),
                        resp -> BenchSupport.checkOkWithId(resp, id),
                        "PATCH /twins/" + id);
                  });
      PhaseStats total = r.stats();
      double seconds = total.secondsSince(start);
      out.printf(
          Locale.ROOT,
          "fill      : %d of %d twins (tags + desired) in %.2f s (%.0f twins/s)%n",
          total.items,
          options.devices(),
          seconds,
          BenchSupport.perSecond(total.items, seconds));
      results.put("fill.seconds", BenchSupport.fmt(seconds));
      BenchSupport.printErrors(out, total);
      return total.errors == 0;
    }

    /**
     * Waits, at most {@value #SETTLE_LIMIT_SECONDS} s, until the machine is quiet for a second
     * (under {@value #SETTLE_BUSY_PERCENT}% busy): after loading a million twins the hub's
     * collector marks its old generation and PostgreSQL checkpoints for some seconds, and a query
     * timed meanwhile measures them. True unless interrupted; it says how long it waited.
     */
    private boolean settle() {
      long start = System.nanoTime();
      double busy = 100;
      while (System.nanoTime() - start < SETTLE_LIMIT_SECONDS * 1_000_000_000L) {
        CpuSplit.MachineTicks a = CpuSplit.MachineTicks.now();
        try {
          Thread.sleep(1_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
        CpuSplit.MachineTicks b = CpuSplit.MachineTicks.now();
        long total = b.total() - a.total();
        busy = total <= 0 ? 0 : 100.0 * (b.busy() - a.busy()) / total;
        if (busy < SETTLE_BUSY_PERCENT) {
          break;
        }
      }
      double waited = (System.nanoTime() - start) / 1e9;
      out.printf(
          Locale.ROOT,
          "settle    : %.0f s until the machine was %s (last second %.0f%% busy)%n",
          waited,
          busy < SETTLE_BUSY_PERCENT ? "quiet" : "given up on",
          busy);
      results.put("settle.seconds", BenchSupport.fmt(waited));
      return true;
    }

    private boolean herdQueries(Clients clients, String token) throws TimeoutException {
      String[] queries = {Q_EQUALITY, Q_SCAN, Q_GROUP, Q_COUNT};
      boolean ok = true;
      for (int q = 0; q < queries.length; q++) {
        String query = queries[q];
        int which = q;
        int[] pages = new int[1];
        if (options.warmup() > 0) {
          // The first run alone: it pays for what the hub builds on first use (query columns,
          // rendered twins), so it is reported apart from the timed runs.
          PhaseStats first =
              clients
                  .drain(1, 1, n -> 1, d -> n -> queryAll(d, token, query, which, pages))
                  .stats();
          BenchSupport.printErrors(out, first);
          ok &= first.errors == 0;
          double firstMs = first.latencyMicros.getMaxValue() / 1000.0;
          out.printf(
              Locale.ROOT, "herd      : %-8s first run %.2f ms (untimed)%n", NAMES[q], firstMs);
          results.put("herd." + NAMES[q] + ".firstMs", BenchSupport.fmt(firstMs));
          if (options.warmup() > 1) {
            clients.drain(
                1, options.warmup() - 1, n -> 1, d -> n -> queryAll(d, token, query, which, pages));
          }
        }
        PhaseResult r =
            clients.drain(
                1,
                options.repetitions(),
                n -> 1,
                d -> n -> queryAll(d, token, query, which, pages));
        PhaseStats s = r.stats();
        BenchSupport.printErrors(out, s);
        ok &= s.errors == 0;
        report("herd", NAMES[q], query, s.latencyMicros, pages[0]);
      }
      return ok;
    }

    /** Runs {@code query} to its last page; null when the rows are the expected ones. */
    private Future<String> queryAll(Driver d, String token, String query, int which, int[] pages) {
      return page(d, token, query, null, which, 0, 0, new JsonArray())
          .map(
              f -> {
                if (f instanceof String error) {
                  return error;
                }
                int[] got = (int[]) f;
                pages[0] = got[1];
                return check(which, got[0], null);
              });
    }

    /** One page of {@code query}: POST /devices/query with the page size and continuation. */
    private Future<HttpResponse<Buffer>> queryPage(
        Driver d, String token, String query, String continuation, int pageSize) {
      var req =
          d.request(HttpMethod.POST, QUERY_URI)
              .putHeader(HttpHeaders.AUTHORIZATION.toString(), token)
              .putHeader(HttpHeaders.CONTENT_TYPE.toString(), BenchSupport.JSON_UTF8)
              .putHeader("x-ms-max-item-count", Integer.toString(pageSize));
      if (continuation != null) {
        req.putHeader("x-ms-continuation", continuation);
      }
      return req.sendBuffer(Buffer.buffer(new JsonObject().put("query", query).encode()));
    }

    /** Completes with {rows, pages} or an error text; GROUP BY rows collect into {@code groups}. */
    private Future<Object> page(
        Driver d,
        String token,
        String query,
        String continuation,
        int which,
        int rows,
        int pages,
        JsonArray groups) {
      return queryPage(d, token, query, continuation, options.pageSize())
          .<Object>compose(
              resp -> {
                if (resp.statusCode() != 200) {
                  return Future.succeededFuture(
                      "query " + NAMES[which] + ": " + BenchSupport.statusLine(resp));
                }
                int count;
                if (which == GROUP || which == COUNT || options.parseTrees()) {
                  JsonArray items = resp.bodyAsJsonArray();
                  if (which == GROUP || which == COUNT) {
                    groups.addAll(items);
                  }
                  count = items.size();
                } else {
                  count = countRows(resp.body());
                }
                String next = resp.getHeader("x-ms-continuation");
                int r = rows + count;
                if (next != null && !next.isEmpty()) {
                  return page(d, token, query, next, which, r, pages + 1, groups);
                }
                String error =
                    which == GROUP
                        ? check(which, r, groupsOf(groups, "fw", "n"))
                        : which == COUNT
                            ? checkCount(r, groups.getJsonObject(0).getLong("n"))
                            : null;
                if (error != null) {
                  return Future.succeededFuture(error);
                }
                return Future.succeededFuture(new int[] {r, pages + 1});
              })
          .otherwise(t -> "query " + NAMES[which] + ": " + BenchSupport.describe(t));
    }

    private static TreeMap<String, Long> groupsOf(JsonArray rows, String key, String count) {
      TreeMap<String, Long> m = new TreeMap<>();
      for (Object o : rows) {
        JsonObject row = (JsonObject) o;
        m.put(String.valueOf(row.getValue(key)), ((Number) row.getValue(count)).longValue());
      }
      return m;
    }

    /** Null when the count query gave one row holding the scan's row count. */
    private String checkCount(long rows, long n) {
      if (rows != 1 || n != expected.scan()) {
        return "query count: "
            + rows
            + " row(s), n = "
            + n
            + ", expected 1 row, n = "
            + expected.scan();
      }
      return null;
    }

    /** Null when {@code rows} (and the groups, for the GROUP BY) are what the fleet predicts. */
    private String check(int which, long rows, TreeMap<String, Long> groups) {
      long want =
          switch (which) {
            case 0 -> expected.equality();
            case 1 -> expected.scan();
            case COUNT -> 1;
            default -> expected.groups().size();
          };
      if (rows != want) {
        return "query " + NAMES[which] + ": " + rows + " rows, expected " + want;
      }
      if (groups != null && !groups.equals(expected.groups())) {
        return "query " + NAMES[which] + ": groups " + groups + ", expected " + expected.groups();
      }
      return null;
    }

    private void report(String side, String name, String query, Histogram h, int pages) {
      double p50 = BenchSupport.ms(h, 50);
      double p99 = BenchSupport.ms(h, 99);
      out.printf(
          Locale.ROOT,
          "%-8s  : %-8s p50 %8.2f ms, p99 %8.2f ms over %d runs%s  [%s]%n",
          side,
          name,
          p50,
          p99,
          h.getTotalCount(),
          pages > 0 ? ", " + pages + " page(s) of <= " + options.pageSize() : "",
          query);
      results.put(side + "." + name + ".p50Ms", BenchSupport.fmt(p50));
      results.put(side + "." + name + ".p99Ms", BenchSupport.fmt(p99));
      if (pages > 0) {
        results.put(side + "." + name + ".pages", Integer.toString(pages));
      }
    }

    private boolean postgres(Clients clients, String token) throws TimeoutException {
      try (EmbeddedPostgres pg =
              EmbeddedPostgres.builder()
                  .setServerConfig("shared_buffers", "1GB")
                  .setServerConfig("work_mem", "64MB")
                  .setServerConfig("maintenance_work_mem", "512MB")
                  .setServerConfig("max_wal_size", "4GB")
                  .setServerConfig("synchronous_commit", "off")
                  .start();
          Connection c = pg.getPostgresDatabase().getConnection();
          Statement s = c.createStatement()) {
        ResultSet v = s.executeQuery("SHOW server_version");
        v.next();
        String version = v.getString(1);
        out.println("postgres  : embedded PostgreSQL " + version + " (port " + pg.getPort() + ")");
        results.put("pg.version", version);
        s.execute("CREATE TABLE twins_jsonb (id text PRIMARY KEY, doc jsonb NOT NULL)");
        long start = System.nanoTime();
        String loaded = options.pgTagsOnly() ? loadGenerated(c) : loadTwins(c, clients, token);
        if (loaded != null) {
          out.println("error     : postgres load: " + loaded);
          return false;
        }
        double loadSeconds = (System.nanoTime() - start) / 1e9;
        start = System.nanoTime();
        s.execute("CREATE INDEX twins_jsonb_doc ON twins_jsonb USING gin (doc jsonb_path_ops)");
        double indexSeconds = (System.nanoTime() - start) / 1e9;
        s.execute("VACUUM ANALYZE twins_jsonb");
        out.printf(
            Locale.ROOT,
            "postgres  : loaded %d documents (%s) in %.1f s (%s), GIN jsonb_path_ops index in"
                + " %.1f s%n",
            options.devices(),
            options.pgTagsOnly()
                ? "generated tags and desired properties"
                : "the twins the hub returns for SELECT *, read page by page",
            loadSeconds,
            options.pgTagsOnly() ? "COPY" : "reading the hub's pages and COPY",
            indexSeconds);
        String[] sql = {PG_EQUALITY, PG_SCAN, PG_GROUP, PG_COUNT};
        boolean ok = true;
        // PostgreSQL compiles nothing per query that more runs would warm; a few fill its cache.
        int warmup = Math.min(options.warmup(), PG_WARMUP);
        // Its answers take seconds and vary little; 20 timed runs give a steady median.
        int repetitions = Math.min(options.repetitions(), PG_REPETITIONS);
        results.put("pg.warmup", Integer.toString(warmup));
        results.put("pg.repetitions", Integer.toString(repetitions));
        for (int q = 0; q < sql.length; q++) {
          Histogram h = new Histogram(3);
          for (int i = 0; i < warmup + repetitions; i++) {
            long t0 = System.nanoTime();
            long rows = 0;
            TreeMap<String, Long> groups = q == GROUP ? new TreeMap<>() : null;
            long n = -1;
            try (ResultSet rs = s.executeQuery(sql[q])) {
              while (rs.next()) {
                rows++;
                if (groups != null) {
                  groups.put(rs.getString(1), rs.getLong(2));
                } else if (q == COUNT) {
                  n = rs.getLong(1);
                } else {
                  rs.getString(1);
                }
              }
            }
            long micros = (System.nanoTime() - t0) / 1_000;
            if (i >= warmup) {
              h.recordValue(micros);
            }
            String error = q == COUNT ? checkCount(rows, n) : check(q, rows, groups);
            if (error != null) {
              out.println("error     : postgres " + error);
              ok = false;
              break;
            }
          }
          report("postgres", NAMES[q], sql[q], h, 0);
          ResultSet plan = s.executeQuery("EXPLAIN " + sql[q]);
          StringBuilder sb = new StringBuilder();
          while (plan.next()) {
            sb.append(plan.getString(1).strip()).append(" | ");
          }
          out.println("  plan    : " + sb);
        }
        return ok;
      } catch (IOException | SQLException e) {
        out.println("error     : postgres: " + BenchSupport.describe(e));
        return false;
      }
    }

    /**
     * COPY of every twin's generated tags and desired properties (no {@code $metadata}, versions or
     * identity fields) in chunks; the JSON has no tab, newline or backslash. Null when done.
     */
    private String loadGenerated(Connection c) throws SQLException {
      CopyIn copy =
          c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY twins_jsonb (id, doc) FROM STDIN");
      StringBuilder sb = new StringBuilder(1 << 20);
      for (int n = 0; n < options.devices(); n++) {
        String id = options.deviceId(n);
        String doc =
            QueryFleet.twin(n, options.sites()).tagsAndDesired().put("deviceId", id).encode();
        sb.append(id).append('\t').append(doc).append('\n');
        if (sb.length() > (1 << 20) || n == options.devices() - 1) {
          byte[] bytes = sb.toString().getBytes(UTF_8);
          copy.writeToCopy(bytes, 0, bytes.length);
          sb.setLength(0);
        }
      }
      copy.endCopy();
      return null;
    }

    /**
     * COPY of the twins as the hub returns them for {@code SELECT * FROM devices} (the same
     * documents the hub's queries send, {@code $metadata} and all), read page by page from the hub
     * once its timed queries are done; the COPY is written from the client's event loop, which
     * nothing else uses then. Null when every twin was loaded, else what went wrong.
     */
    private String loadTwins(Connection c, Clients clients, String token)
        throws SQLException, TimeoutException {
      CopyIn copy =
          c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY twins_jsonb (id, doc) FROM STDIN");
      long[] loaded = new long[1];
      PhaseStats s =
          clients.drain(1, 1, n -> 1, d -> n -> exportPage(d, token, null, copy, loaded)).stats();
      BenchSupport.printErrors(out, s);
      if (s.errors > 0) {
        copy.cancelCopy();
        return "reading the twins from the hub failed";
      }
      copy.endCopy();
      return loaded[0] == options.devices()
          ? null
          : "read " + loaded[0] + " twins from the hub, expected " + options.devices();
    }

    private Future<String> exportPage(
        Driver d, String token, String continuation, CopyIn copy, long[] loaded) {
      return queryPage(d, token, "SELECT * FROM devices", continuation, 1000)
          .compose(
              resp -> {
                if (resp.statusCode() != 200) {
                  return Future.succeededFuture(
                      "SELECT * FROM devices: " + BenchSupport.statusLine(resp));
                }
                StringBuilder sb = new StringBuilder(resp.body().length() + 64_000);
                for (Object o : resp.bodyAsJsonArray()) {
                  JsonObject twin = (JsonObject) o;
                  // COPY's text format reads backslashes as escapes: double the JSON's own.
                  sb.append(twin.getString("deviceId"))
                      .append('\t')
                      .append(twin.encode().replace("\\", "\\\\"))
                      .append('\n');
                  loaded[0]++;
                }
                try {
                  byte[] bytes = sb.toString().getBytes(UTF_8);
                  copy.writeToCopy(bytes, 0, bytes.length);
                } catch (SQLException e) {
                  return Future.succeededFuture("COPY: " + BenchSupport.describe(e));
                }
                String next = resp.getHeader("x-ms-continuation");
                return next == null || next.isEmpty()
                    ? Future.<String>succeededFuture(null)
                    : exportPage(d, token, next, copy, loaded);
              })
          .otherwise(t -> "SELECT * FROM devices: " + BenchSupport.describe(t));
    }
  }
}
