package io.herd.cli;

import io.herd.core.PercentEncoding;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * The hub's service REST API over {@code java.net.http} (quick to start, no event loop to tear
 * down): every request carries {@code api-version} and a service SAS token, renewed before it
 * expires; error answers become {@link HubError}, transport failures {@link Unreachable}.
 */
final class HubClient implements AutoCloseable {
  static final String API_VERSION = "2021-04-12";
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final long TOKEN_SECONDS = 3600;
  private static final long RENEW_SECONDS_BEFORE_EXPIRY = 300;
  private static final String JSON = "application/json; charset=utf-8";

  /** The hub could not be reached, or TLS failed; exit 1 with the message. */
  static final class Unreachable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unreachable(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** An answer: status, headers and the body as text. */
  record Response(int status, java.net.http.HttpHeaders headers, String body) {
    String header(String name) {
      return headers.firstValue(name).orElse(null);
    }

    JsonObject object() {
      return body == null || body.isBlank() ? new JsonObject() : new JsonObject(body);
    }

    JsonArray array() {
      return new JsonArray(body);
    }
  }

  /** One page of a paged listing and the token for the next (null on the last). */
  record Page(JsonArray rows, String itemType, String continuation) {}

  private final HubTarget target;
  private final ExecutorService executor;
  private final HttpClient http;
  private final LongSupplier epochSeconds;
  private String token;
  private long tokenExpiry;

  HubClient(HubTarget target, LongSupplier epochSeconds) {
    this.target = target;
    this.epochSeconds = epochSeconds;
    this.executor =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "herd-http");
              t.setDaemon(true);
              return t;
            });
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(CONNECT_TIMEOUT)
            .sslContext(sslContext(target.caFile()))
            .executor(executor)
            .build();
  }

  HubTarget target() {
    return target;
  }

  /** A request to {@code path} (already percent-encoded where it holds ids). */
  Call call(String method, String path) {
    return new Call(method, path);
  }

  JsonObject get(String path) {
    return call("GET", path).send().object();
  }

  /**
   * One page of {@code POST /devices/query} (wire §5.6).
   *
   * @param pageSize {@code x-ms-max-item-count}, null for the hub's default
   */
  Page query(String sql, Integer pageSize, String continuation) {
    Call c = call("POST", "/devices/query").body(new JsonObject().put("query", sql));
    pageHeaders(c, pageSize, continuation);
    Response r = c.send();
    return new Page(r.array(), r.header("x-ms-item-type"), r.header("x-ms-continuation"));
  }

  /** One page of {@code GET /jobs/v2/query} (wire §5.7); null filters are left out. */
  Page jobs(String type, String status, Integer pageSize, String continuation) {
    Call c = call("GET", "/jobs/v2/query").query("jobType", type).query("jobStatus", status);
    pageHeaders(c, pageSize, continuation);
    Response r = c.send();
    return new Page(r.array(), r.header("x-ms-item-type"), r.header("x-ms-continuation"));
  }

  private static void pageHeaders(Call c, Integer pageSize, String continuation) {
    if (pageSize != null) {
      c.header("x-ms-max-item-count", pageSize.toString());
    }
    if (continuation != null) {
      c.header("x-ms-continuation", continuation);
    }
  }

  private synchronized String token() {
    long now = epochSeconds.getAsLong();
    if (token == null || tokenExpiry - RENEW_SECONDS_BEFORE_EXPIRY <= now) {
      ConnectionString cs = target.credentials();
      tokenExpiry = now + TOKEN_SECONDS;
      token = ServiceToken.create(cs.hostName(), cs.keyName(), cs.key(), tokenExpiry);
    }
    return token;
  }

  /** A request being built; {@link #send} throws {@link HubError} for any status of 300 up. */
  final class Call {
    private final String method;
    private final String path;
    private final Map<String, String> query = new LinkedHashMap<>();
    private final Map<String, String> headers = new LinkedHashMap<>();
    private String body;
    private Duration timeout = DEFAULT_TIMEOUT;

    private Call(String method, String path) {
      this.method = method;
      this.path = path;
    }

    /** Adds a query parameter unless {@code value} is null. */
    Call query(String name, Object value) {
      if (value != null) {
        query.put(name, value.toString());
      }
      return this;
    }

    Call header(String name, String value) {
      if (value != null) {
        headers.put(name, value);
      }
      return this;
    }

    /** An {@code If-Match} header, quoted as the SDKs send it; null sends none. */
    Call ifMatch(String etag) {
      if (etag == null) {
        return this;
      }
      String e = etag.strip();
      return header("If-Match", e.startsWith("\"") || e.startsWith("W/") ? e : "\"" + e + "\"");
    }

    Call body(Object json) {
      this.body =
          json instanceof JsonObject o
              ? o.encode()
              : json instanceof JsonArray a ? a.encode() : String.valueOf(json);
      return this;
    }

    Call timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    HttpRequest request(boolean stream) {
      StringBuilder uri = new StringBuilder(target.baseUri().toString()).append(path);
      uri.append("?api-version=").append(API_VERSION);
      query.forEach(
          (k, v) -> uri.append('&').append(k).append('=').append(PercentEncoding.unreserved(v)));
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create(uri.toString()))
              .header("Authorization", token())
              .header("User-Agent", "herd-cli/" + HerdCli.VERSION);
      if (!stream) {
        b.timeout(timeout);
      }
      headers.forEach(b::header);
      if (body != null) {
        b.header("Content-Type", JSON);
        b.method(method, HttpRequest.BodyPublishers.ofString(body));
      } else {
        b.method(method, HttpRequest.BodyPublishers.noBody());
      }
      return b.build();
    }

    /** Sends and returns the answer, whatever its status. */
    Response exchange() {
      HttpRequest req = request(false);
      try {
        return toResponse(http.send(req, HttpResponse.BodyHandlers.ofString()));
      } catch (IOException e) {
        throw unreachable(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new Unreachable("interrupted", e);
      }
    }

    /** Sends; a status of 300 or more throws {@link HubError}. */
    Response send() {
      return check(exchange());
    }

    /** Sends without waiting; the answer whatever its status, or {@link Unreachable}. */
    CompletableFuture<Response> exchangeAsync() {
      return http.sendAsync(request(false), HttpResponse.BodyHandlers.ofString())
          .handle(
              (r, e) -> {
                if (e != null) {
                  Throwable cause = e instanceof CompletionException ? e.getCause() : e;
                  throw cause instanceof IOException io
                      ? unreachable(io)
                      : new CompletionException(cause);
                }
                return toResponse(r);
              });
    }

    /**
     * Opens a streaming response (Server-Sent Events) as lines; the caller closes the stream, which
     * closes the connection.
     */
    Stream<String> lines() {
      HttpResponse<Stream<String>> r;
      try {
        r = http.send(request(true), HttpResponse.BodyHandlers.ofLines());
      } catch (IOException e) {
        throw unreachable(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new Unreachable("interrupted", e);
      }
      if (r.statusCode() >= 300) {
        String text;
        try (Stream<String> s = r.body()) {
          text = s.collect(Collectors.joining("\n"));
        }
        throw HubError.of(
            r.statusCode(), r.headers().firstValue("iothub-errorcode").orElse(null), text);
      }
      return r.body();
    }
  }

  private static Response toResponse(HttpResponse<String> r) {
    return new Response(r.statusCode(), r.headers(), r.body());
  }

  private static Response check(Response r) {
    if (r.status() >= 300) {
      throw HubError.of(r.status(), r.header("iothub-errorcode"), r.body());
    }
    return r;
  }

  private Unreachable unreachable(IOException e) {
    String where = target.baseUri().toString();
    if (e instanceof HttpConnectTimeoutException) {
      return new Unreachable("cannot reach the hub at " + where + ": connect timed out", e);
    }
    if (e instanceof HttpTimeoutException) {
      return new Unreachable("the hub at " + where + " did not answer in time", e);
    }
    if (e instanceof ConnectException) {
      return new Unreachable("cannot reach the hub at " + where + ": connection refused", e);
    }
    Throwable ssl = e;
    while (ssl != null && !(ssl instanceof SSLException)) {
      ssl = ssl.getCause();
    }
    if (ssl != null) {
      return new Unreachable(
          "TLS with "
              + where
              + " failed ("
              + ssl.getMessage()
              + "); does --ca name the hub's CA certificate?",
          e);
    }
    return new Unreachable(
        "request to " + where + " failed: " + (e.getMessage() == null ? e : e.getMessage()), e);
  }

  /** Trusts the certificates of {@code caFile}, or the JDK's trust store when it is null. */
  static SSLContext sslContext(Path caFile) {
    try {
      if (caFile == null) {
        return SSLContext.getDefault();
      }
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      int n = 0;
      try (InputStream in = Files.newInputStream(caFile)) {
        for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
          trust.setCertificateEntry("ca-" + n++, c);
        }
      }
      if (n == 0) {
        throw new IllegalArgumentException(caFile + " holds no PEM certificate");
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the CA file " + caFile + ": " + e, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "cannot use the CA file " + caFile + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
