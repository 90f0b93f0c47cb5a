package io.herd.simulator.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Drives one job through a hub's jobs v2 REST API and reports how fast it went: {@code --phase
 * twin} schedules a twin update (desired {@code fw} set to a random value) and {@code --phase
 * method} a direct method ({@code bench}, echoed by the MqttBench {@code methods} devices) over the
 * devices whose id starts with {@code --prefix}. The job is created with {@code startTime} null
 * (now) and polled every 50 ms until it ends; the rate is devices / (the job's endTime - its
 * createdTime), both the hub's clock, so selecting the devices and writing them as pending are
 * counted. First, unless {@code --warmup false}, a job of the same kind runs over the devices whose
 * number starts with 1 (P-1, P-10.., P-100..: about a ninth of them) so that the hub's code for
 * jobs is compiled before the measured one. After a twin job, {@code --verify} twins spread over
 * the fleet are read back and must hold the measured job's value.
 */
public final class JobsBench {
  private JobsBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> v = BenchSupport.parseArgs(args, Set.of());
    String phase = BenchSupport.stringArg(v, "phase", "twin");
    Path hubJson = BenchSupport.pathArg(v, "hub-json");
    String prefix = BenchSupport.stringArg(v, "prefix", null);
    int devices = BenchSupport.intArg(v, "devices", 100_000, 1, 10_000_000);
    int verify = BenchSupport.intArg(v, "verify", 200, 0, 100_000);
    int timeout = BenchSupport.intArg(v, "timeout-seconds", 600, 10, 86_400);
    String resultFile = BenchSupport.stringArg(v, "result-file", null);
    if (hubJson == null || prefix == null || !Set.of("twin", "method").contains(phase)) {
      System.err.println(
          "usage: JobsBench --phase twin|method --hub-json PATH --prefix P [--devices N]"
              + " [--verify N] [--timeout-seconds N] [--result-file PATH]");
      System.exit(2);
    }
    BenchSupport.HubInfo hub = BenchSupport.HubInfo.read(hubJson);
    Vertx vertx = Vertx.vertx();
    WebClient client =
        WebClient.create(
            vertx,
            new WebClientOptions()
                .setSsl(true)
                .setTrustOptions(new PemTrustOptions().addCertPath(hub.caFile().toString()))
                .setDefaultHost("127.0.0.1")
                .setDefaultPort(hub.httpsPort())
                .setVerifyHost(false));
    String token = hub.sasToken(Instant.now().getEpochSecond() + timeout + 3600);
    boolean warmup = !"false".equals(BenchSupport.stringArg(v, "warmup", "true"));
    if (warmup) {
      System.out.println("warm-up   : a job of the same kind over " + prefix + "-1*");
      JsonObject w =
          runJob(
              client,
              token,
              phase,
              prefix + "-1",
              "warm-" + Integer.toHexString(new Random().nextInt()),
              devices,
              timeout);
      System.out.printf(
          "warm-up   : %s, %d devices%n",
          w.getString("status"), w.getJsonObject("deviceJobStatistics").getLong("deviceCount"));
    }
    String value = "fw-" + Integer.toHexString(new Random().nextInt());
    Instant sent = Instant.now();
    JsonObject job = runJob(client, token, phase, prefix + "-", value, devices, timeout);
    Instant seen = Instant.now();
    report(client, token, phase, prefix, devices, verify, resultFile, value, sent, seen, job);
    client.close();
    vertx.close();
    JsonObject stats = job.getJsonObject("deviceJobStatistics");
    boolean ok =
        job.getString("status").equals("completed")
            && stats.getLong("succeededCount") == devices
            && stats.getLong("deviceCount") == devices;
    System.out.println("result    : " + (ok ? "OK" : "FAILED"));
    System.exit(ok ? 0 : 1);
  }

  /** Creates a job over the devices whose id starts with {@code idPrefix} and waits for its end. */
  private static JsonObject runJob(
      WebClient client,
      String token,
      String phase,
      String idPrefix,
      String value,
      int devices,
      int timeout)
      throws InterruptedException {
    String jobId = phase + "-" + Long.toHexString(System.nanoTime());
    String condition = "STARTSWITH(deviceId, '" + idPrefix + "')";
    JsonObject body =
        new JsonObject()
            .put("jobId", jobId)
            .put("type", phase.equals("twin") ? "scheduleUpdateTwin" : "scheduleDeviceMethod")
            .put("queryCondition", condition)
            .putNull("startTime")
            .put("maxExecutionTimeInSeconds", timeout);
    if (phase.equals("twin")) {
      body.put(
          "updateTwin",
          new JsonObject()
              .put("etag", "*")
              .put(
                  "properties",
                  new JsonObject().put("desired", new JsonObject().put("fw", value))));
    } else {
      body.put(
          "cloudToDeviceMethod",
          new JsonObject()
              .put("methodName", "bench")
              .put("payload", new JsonObject().put("n", 1))
              .put("responseTimeoutInSeconds", 30));
      // As many devices in progress as the fleet has: the devices answer at once.
      body.put("maxConcurrency", Math.min(devices, 20_000));
    }
    System.out.printf("jobs bench: %s job %s (%s)%n", phase, jobId, condition);
    HttpResponse<Buffer> created =
        Future.await(
            client
                .put("/jobs/v2/" + jobId + "?api-version=" + BenchSupport.API_VERSION)
                .putHeader("Authorization", token)
                .sendJsonObject(body));
    if (created.statusCode() != 200) {
      throw new IllegalStateException(
          "PUT job: " + created.statusCode() + " " + created.bodyAsString());
    }
    JsonObject job;
    long polls = 0;
    long deadline = System.nanoTime() + Duration.ofSeconds(timeout).toNanos();
    for (; ; ) {
      HttpResponse<Buffer> r =
          Future.await(
              client
                  .get("/jobs/v2/" + jobId + "?api-version=" + BenchSupport.API_VERSION)
                  .putHeader("Authorization", token)
                  .send());
      job = r.bodyAsJsonObject();
      polls++;
      String status = job.getString("status");
      if (status.equals("completed") || status.equals("failed") || status.equals("cancelled")) {
        break;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("job not done within " + timeout + " s: " + job.encode());
      }
      Thread.sleep(50);
    }
    return job;
  }

  private static void report(
      WebClient client,
      String token,
      String phase,
      String prefix,
      int devices,
      int verify,
      String resultFile,
      String value,
      Instant sent,
      Instant seen,
      JsonObject job)
      throws java.io.IOException {
    JsonObject stats = job.getJsonObject("deviceJobStatistics");
    Instant createdAt = Instant.parse(job.getString("createdTime"));
    Instant started = Instant.parse(job.getString("startTime"));
    Instant ended = Instant.parse(job.getString("endTime"));
    long count = stats.getLong("deviceCount");
    long succeeded = stats.getLong("succeededCount");
    long failed = stats.getLong("failedCount");
    double total = Duration.between(createdAt, ended).toNanos() / 1e9;
    double run = Duration.between(started, ended).toNanos() / 1e9;
    Map<String, String> results = new LinkedHashMap<>();
    results.put("job.status", job.getString("status"));
    results.put("job.devices", Long.toString(count));
    results.put("job.succeeded", Long.toString(succeeded));
    results.put("job.failed", Long.toString(failed));
    results.put("job.seconds", fmt(total));
    results.put("job.perSecond", fmt(count / total));
    results.put("job.selectSeconds", fmt(Duration.between(createdAt, started).toNanos() / 1e9));
    results.put("job.runSeconds", fmt(run));
    results.put("job.runPerSecond", fmt(count / run));
    System.out.printf(
        "job       : %s, %d devices (%d succeeded, %d failed) in %.2f s from its createdTime to"
            + " its endTime: %.0f devices/s; selection %.2f s, run %.2f s (%.0f devices/s);"
            + " seen done %.2f s after sending the PUT%n",
        job.getString("status"),
        count,
        succeeded,
        failed,
        total,
        count / total,
        Duration.between(createdAt, started).toNanos() / 1e9,
        run,
        count / run,
        Duration.between(sent, seen).toNanos() / 1e9);
    if (job.getString("failureReason") != null) {
      System.out.println("failure   : " + job.getString("failureReason"));
    }
    if (phase.equals("twin") && verify > 0) {
      int wrong = 0;
      int step = Math.max(1, devices / verify);
      int checked = 0;
      for (int i = 0; i < devices && checked < verify; i += step, checked++) {
        String id = BenchSupport.deviceId(prefix, i);
        JsonObject twin =
            Future.await(
                    client
                        .get("/twins/" + id + "?api-version=" + BenchSupport.API_VERSION)
                        .putHeader("Authorization", token)
                        .send())
                .bodyAsJsonObject();
        Object fw = twin.getJsonObject("properties").getJsonObject("desired").getValue("fw");
        if (!value.equals(fw)) {
          wrong++;
        }
      }
      results.put("verify.checked", Integer.toString(checked));
      results.put("verify.wrong", Integer.toString(wrong));
      System.out.printf(
          "verify    : %d twins read back, %d without the job's value%n", checked, wrong);
    }
    if (resultFile != null) {
      StringBuilder sb = new StringBuilder();
      results.forEach((k, x) -> sb.append(k).append('=').append(x).append('\n'));
      Files.writeString(Path.of(resultFile), sb.toString());
    }
  }

  private static String fmt(double d) {
    return String.format(Locale.ROOT, "%.2f", d);
  }
}
