package io.herd.simulator.internal;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Makes sure the simulated devices exist, over the service REST API: bulk {@code POST /devices}
 * (100 per request) creates the missing ones with SAS keys the simulator generates, and {@code GET
 * /devices/{id}} reads the keys of those that existed already. Called from the simulation's own
 * thread, which waits for the answers; the requests run on the Vert.x event loops.
 */
public final class DeviceRegistrar implements AutoCloseable {

  /** The primary keys of the devices (index i: device first + i), and how many were created. */
  public record Result(byte[][] keys, int created, int existing) {}

  private static final String API = "?api-version=" + DeviceTopics.API_VERSION;
  private static final int BATCH = 100;
  private static final int BULK_IN_FLIGHT = 4;
  private static final int GETS_IN_FLIGHT = 32;
  private static final int ATTEMPTS = 5;
  private static final String ALREADY_EXISTS = "DeviceAlreadyExists";

  private final Vertx vertx;
  private final HubTarget target;
  private final WebClient client;
  private final SecureRandom random = new SecureRandom();

  public DeviceRegistrar(Vertx vertx, HubTarget target) {
    this.vertx = vertx;
    this.target = target;
    WebClientOptions options =
        new WebClientOptions()
            .setSsl(true)
            .setVerifyHost(true)
            .setDefaultHost(target.host())
            .setDefaultPort(target.httpsPort())
            .setKeepAlive(true)
            .setConnectTimeout(10_000)
            .setSslEngineOptions(
                OpenSSLEngineOptions.isAvailable()
                    ? new OpenSSLEngineOptions()
                    : new JdkSSLEngineOptions())
            .setUserAgent("herd-simulator");
    if (target.caFile() != null) {
      options.setTrustOptions(new PemTrustOptions().addCertPath(target.caFile().toString()));
    }
    this.client = WebClient.create(vertx, options);
  }

  /**
   * Devices {@code prefix-first} .. {@code prefix-(first+count-1)}: creates the missing ones
   * (enabled, SAS, with {@code tags}) and returns every key. Throws IllegalStateException saying
   * which device could not be registered and why, TimeoutException past {@code deadlineNanos}.
   */
  public Result ensure(
      String prefix, int first, int count, Map<String, String> tags, long deadlineNanos)
      throws TimeoutException {
    byte[][] keys = new byte[count][];
    List<Integer> existing = new ArrayList<>();
    List<Future<List<Integer>>> wave = new ArrayList<>();
    for (int start = 0; start < count; start += BATCH) {
      wave.add(createBatch(prefix, first, start, Math.min(BATCH, count - start), tags, keys));
      if (wave.size() == BULK_IN_FLIGHT || start + BATCH >= count) {
        for (List<Integer> e : awaitAll(wave, deadlineNanos)) {
          existing.addAll(e);
        }
        wave.clear();
      }
    }
    List<Future<Void>> gets = new ArrayList<>();
    for (int k = 0; k < existing.size(); k++) {
      int i = existing.get(k);
      gets.add(readKey(deviceId(prefix, first + i)).map(key -> store(keys, i, key)));
      if (gets.size() == GETS_IN_FLIGHT || k == existing.size() - 1) {
        awaitAll(gets, deadlineNanos);
        gets.clear();
      }
    }
    return new Result(keys, count - existing.size(), existing.size());
  }

  private static Void store(byte[][] keys, int i, byte[] key) {
    keys[i] = key;
    return null;
  }

  public static String deviceId(String prefix, int n) {
    return prefix + "-" + n;
  }

  /** Creates one batch; completes with the indexes (into keys) of the devices that existed. */
  private Future<List<Integer>> createBatch(
      String prefix, int first, int start, int n, Map<String, String> tags, byte[][] keys) {
    JsonArray body = new JsonArray();
    JsonObject tagObject = new JsonObject();
    tags.forEach(tagObject::put);
    for (int i = start; i < start + n; i++) {
      byte[] key = new byte[32];
      random.nextBytes(key);
      keys[i] = key;
      JsonObject entry =
          new JsonObject()
              .put("id", deviceId(prefix, first + i))
              .put("importMode", "create")
              .put("status", "enabled")
              .put(
                  "authentication",
                  new JsonObject()
                      .put("type", "sas")
                      .put(
                          "symmetricKey",
                          new JsonObject()
                              .put("primaryKey", Base64.getEncoder().encodeToString(key))
                              .put("secondaryKey", "")));
      if (!tags.isEmpty()) {
        entry.put("tags", tagObject.copy());
      }
      body.add(entry);
    }
    Buffer payload = body.toBuffer();
    return send(() ->
            client
                .post("/devices" + API)
                .putHeader("Authorization", target.serviceToken())
                .putHeader("Content-Type", "application/json; charset=utf-8")
                .sendBuffer(payload))
        .map(r -> existingOf(r, prefix, first, start));
  }

  private static List<Integer> existingOf(
      HttpResponse<Buffer> r, String prefix, int first, int start) {
    List<Integer> existing = new ArrayList<>();
    if (r.statusCode() == 200) {
      return existing;
    }
    JsonObject body = null;
    try {
      body = r.bodyAsJsonObject();
    } catch (RuntimeException e) {
      // reported below
    }
    JsonArray errors = body == null ? null : body.getJsonArray("errors");
    if (r.statusCode() != 400 || errors == null) {
      throw new IllegalStateException(
          "POST /devices answered " + r.statusCode() + ": " + r.bodyAsString());
    }
    for (int k = 0; k < errors.size(); k++) {
      JsonObject e = errors.getJsonObject(k);
      String id = e.getString("deviceId", "");
      if (!ALREADY_EXISTS.equals(e.getString("errorCode"))) {
        throw new IllegalStateException(
            "cannot create device "
                + id
                + ": "
                + e.getString("errorCode")
                + " "
                + e.getString("errorStatus"));
      }
      String number = id.startsWith(prefix + "-") ? id.substring(prefix.length() + 1) : "";
      existing.add(Integer.parseInt(number) - first);
    }
    return existing;
  }

  private Future<byte[]> readKey(String id) {
    return send(() ->
            client
                .get("/devices/" + id + API)
                .putHeader("Authorization", target.serviceToken())
                .send())
        .map(
            r -> {
              if (r.statusCode() != 200) {
                throw new IllegalStateException(
                    "GET /devices/" + id + " answered " + r.statusCode() + ": " + r.bodyAsString());
              }
              JsonObject d = r.bodyAsJsonObject();
              JsonObject auth = d.getJsonObject("authentication", new JsonObject());
              String key =
                  auth.getJsonObject("symmetricKey", new JsonObject()).getString("primaryKey");
              if (!"sas".equals(auth.getString("type")) || key == null || key.isEmpty()) {
                throw new IllegalStateException(
                    "device "
                        + id
                        + " exists with "
                        + auth.getString("type")
                        + " authentication; the simulator signs in with SAS keys");
              }
              if ("disabled".equals(d.getString("status"))) {
                throw new IllegalStateException("device " + id + " exists but is disabled");
              }
              return Base64.getDecoder().decode(key);
            });
  }

  /** The response, after up to 5 attempts when the hub is busy (429, 503) or unreachable. */
  private Future<HttpResponse<Buffer>> send(Supplier<Future<HttpResponse<Buffer>>> request) {
    return attempt(request, 1);
  }

  private Future<HttpResponse<Buffer>> attempt(
      Supplier<Future<HttpResponse<Buffer>>> request, int n) {
    return request
        .get()
        .transform(
            ar -> {
              boolean busy =
                  ar.failed() || ar.result().statusCode() == 429 || ar.result().statusCode() == 503;
              if (!busy || n >= ATTEMPTS) {
                return ar.failed()
                    ? Future.failedFuture(ar.cause())
                    : Future.succeededFuture(ar.result());
              }
              return vertx.timer(500L * n).compose(v -> attempt(request, n + 1));
            });
  }

  private static <T> List<T> awaitAll(List<Future<T>> futures, long deadlineNanos)
      throws TimeoutException {
    long left = deadlineNanos - System.nanoTime();
    if (left <= 0) {
      throw new TimeoutException("registering the devices took too long");
    }
    Future.join(futures).otherwiseEmpty().await(left, TimeUnit.NANOSECONDS);
    List<T> results = new ArrayList<>();
    for (Future<T> f : futures) {
      if (f.failed()) {
        Throwable t = f.cause();
        throw t instanceof IllegalStateException ise
            ? ise
            : new IllegalStateException(
                "registering the devices: " + t.getClass().getSimpleName() + ": " + t.getMessage(),
                t);
      }
      results.add(f.result());
    }
    return results;
  }

  @Override
  public void close() {
    client.close();
  }
}
