package io.herd.simulator.internal;

import io.herd.core.SasSigner;
import io.herd.simulator.SimulationReport.Count;
import io.herd.simulator.SimulationReport.Latency;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * One simulated device on the wire: its {@link DeviceBehaviour} over a {@link DeviceConnection}
 * (MQTT or AMQP) that it opens again whenever it closes. It keeps the order of its reported patches
 * across reconnects (one patch in flight, 204 = acknowledged), sends telemetry on a timer, renews
 * its SAS token as the SDKs do (MQTT by reconnecting, AMQP with a new put-token), and records what
 * happens in its event loop's {@link Figures}. Owned by one event loop: every method runs there.
 */
final class SimulatedDevice implements DeviceConnection.Listener, DeviceBehaviour.Port {

  /**
   * What the devices of one event loop share; {@code hostName} is the hub's as SAS tokens name it.
   */
  record Environment(
      Vertx vertx,
      DeviceConnection.Opener opener,
      String hostName,
      Figures figures,
      Random random,
      long reconnectMs,
      Runnable firstAttemptDone) {}

  // Node's device SDK: tokens live an hour and are renewed after 45 minutes.
  private static final long TOKEN_TTL_SECONDS = 3_600;
  private static final long RENEW_AFTER_MS = TimeUnit.MINUTES.toMillis(45);
  private static final long RESPONSE_TIMEOUT_MS = 30_000;
  private static final long MAX_BACKOFF_MS = 30_000;
  private static final long RETRY_MS = 1_000;
  // Telemetry messages awaiting their acknowledgement at most; beyond, a due message is skipped.
  private static final int TELEMETRY_WINDOW = 16;

  private final Environment env;
  private final String id;
  private final byte[] key;
  private final DeviceBehaviour behaviour;
  private DeviceConnection conn;
  private boolean online;
  private boolean stopped;
  private boolean firstAttemptDone;
  private boolean everOnline;
  private int failedConnects;
  private long reconnectTimer = -1;
  private long renewTimer = -1;
  // The pause before the next connect after a close this device made.
  private long plannedOfflineMs;
  // A restart the behaviour asked for: close once the reports are acknowledged.
  private boolean restartRequested;
  private long restartOfflineMs;
  // Reported patches: queued, and the one in flight.
  private final ArrayDeque<JsonObject> reports = new ArrayDeque<>();
  private JsonObject inFlight;
  private String inFlightRid;
  private long inFlightSentNanos;
  private long reportTimer = -1;
  private long ridSeq;
  // Method requests not answered yet: when each arrived.
  private final Map<String, Long> methods = new HashMap<>();
  // Telemetry: send time per window slot (0 = free); its tag = slot + 1.
  private final long[] telemetrySentAt = new long[TELEMETRY_WINDOW];
  private long telemetryTimer = -1;
  private long telemetrySeq;

  SimulatedDevice(Environment env, String id, byte[] key, DeviceBehaviour.Settings settings) {
    this.env = env;
    this.id = id;
    this.key = key;
    this.behaviour = new DeviceBehaviour(settings, this);
    this.plannedOfflineMs = env.reconnectMs();
  }

  boolean isOnline() {
    return online;
  }

  /** Whether a method call has reached the device and it has not answered yet. */
  boolean owesMethodAnswer() {
    return !methods.isEmpty();
  }

  /** Whether the device has been online at least once. */
  boolean wasOnline() {
    return everOnline;
  }

  void connect() {
    reconnectTimer = -1;
    if (stopped) {
      return;
    }
    conn = env.opener().open(id, token(), this);
  }

  private String token() {
    long expiry = System.currentTimeMillis() / 1000 + TOKEN_TTL_SECONDS;
    return SasSigner.deviceToken(env.hostName(), id, key, expiry);
  }

  /** Churn: the device loses its connection and comes back after the reconnect pause. */
  void drop() {
    if (online) {
      env.figures().count(Count.CHURN_DROPS);
      plannedOfflineMs = env.reconnectMs();
      conn.close(false);
    }
  }

  void ping() {
    if (online) {
      conn.ping();
    }
  }

  /** Disconnects for good. */
  void stop() {
    stopped = true;
    cancel(reconnectTimer);
    cancel(renewTimer);
    cancel(reportTimer);
    cancel(telemetryTimer);
    reconnectTimer = renewTimer = reportTimer = telemetryTimer = -1;
    if (conn != null) {
      conn.close(true);
    }
  }

  // ---- DeviceConnection.Listener

  @Override
  public void onConnected(long connectNanos) {
    env.figures().count(Count.CONNECTS);
    env.figures().record(Latency.CONNECT, connectNanos / 1_000);
  }

  @Override
  public void onOnline(JsonObject twinProperties) {
    online = true;
    everOnline = true;
    failedConnects = 0;
    firstAttemptFinished();
    behaviour.onTwin(twinProperties);
    armTelemetry();
    armRenewal();
    pumpReports();
  }

  private void armRenewal() {
    renewTimer =
        env.vertx()
            .setTimer(
                RENEW_AFTER_MS + env.random().nextInt(60_000),
                t -> {
                  renewTimer = -1;
                  if (!online) {
                    return;
                  }
                  env.figures().count(Count.TOKEN_RENEWALS);
                  if (conn.renew(token())) {
                    armRenewal();
                  } else {
                    plannedOfflineMs = 0;
                    conn.close(true);
                  }
                });
  }

  @Override
  public void onClosed(String reason, boolean failedConnect) {
    online = false;
    conn = null;
    cancel(renewTimer);
    cancel(reportTimer);
    cancel(telemetryTimer);
    renewTimer = reportTimer = telemetryTimer = -1;
    for (int slot = 0; slot < TELEMETRY_WINDOW; slot++) {
      if (telemetrySentAt[slot] != 0) {
        telemetrySentAt[slot] = 0;
        env.figures().count(Count.TELEMETRY_FAILED);
      }
    }
    if (inFlight != null) {
      // It may or may not have reached the hub; sending it again is harmless (a merge patch).
      reports.addFirst(inFlight);
      inFlight = null;
    }
    methods.clear(); // the hub has failed those calls already
    if (stopped) {
      return;
    }
    long delay;
    if (failedConnect) {
      env.figures().count(Count.CONNECT_FAILURES);
      env.figures().error("connect: " + reason);
      firstAttemptFinished();
      // Exponential back-off with jitter, as the SDKs' retry policy does.
      long backoff = Math.min(MAX_BACKOFF_MS, RETRY_MS << Math.min(failedConnects++, 5));
      delay = backoff / 2 + env.random().nextLong(backoff / 2 + 1);
    } else if (reason != null) {
      env.figures().count(Count.CONNECTIONS_LOST);
      env.figures().error("connection lost: " + reason);
      delay = env.reconnectMs() + env.random().nextLong(env.reconnectMs() / 4 + 1);
    } else {
      delay = plannedOfflineMs;
    }
    if (restartRequested) {
      restartRequested = false;
      delay = restartOfflineMs;
    }
    plannedOfflineMs = env.reconnectMs();
    reconnectTimer = env.vertx().setTimer(Math.max(1, delay), t -> connect());
  }

  @Override
  public void onTwinResponse(String rid, int status) {
    if (inFlight == null || !rid.equals(inFlightRid)) {
      return; // an answer to a patch sent on an earlier connection
    }
    cancel(reportTimer);
    reportTimer = -1;
    JsonObject patch = inFlight;
    inFlight = null;
    if (status == 204) {
      env.figures().count(Count.REPORTED_ACKED);
      env.figures().record(Latency.REPORTED_ACK, (System.nanoTime() - inFlightSentNanos) / 1_000);
      pumpReports();
      restartIfReported();
      return;
    }
    env.figures().count(Count.REPORTED_FAILED);
    env.figures().error("reported PATCH answered " + status);
    if (status == 429 || status >= 500) {
      reports.addFirst(patch); // throttled or failed on the hub's side: again, in order
      reportTimer =
          env.vertx()
              .setTimer(
                  RETRY_MS,
                  t -> {
                    reportTimer = -1;
                    pumpReports();
                  });
    } else {
      pumpReports(); // the hub refused the patch itself: sending it again would not help
      restartIfReported();
    }
  }

  @Override
  public void onDesired(long version, JsonObject patch) {
    env.figures().count(Count.DESIRED_RECEIVED);
    if (patch.getValue("sentAtMs") instanceof Number sent) {
      env.figures()
          .record(
              Latency.DESIRED_DELIVERY, (System.currentTimeMillis() - sent.longValue()) * 1_000);
    }
    behaviour.onDesired(version, patch);
  }

  @Override
  public void onMethod(String name, String rid, Object payload) {
    env.figures().count(Count.METHODS_RECEIVED);
    methods.put(rid, System.nanoTime());
    behaviour.onMethod(name, rid, payload);
  }

  @Override
  public void onTelemetryAcked(int tag) {
    int slot = tag - 1;
    if (slot < 0 || slot >= TELEMETRY_WINDOW || telemetrySentAt[slot] == 0) {
      env.figures().error("telemetry acknowledged that is not in flight");
      return;
    }
    env.figures().count(Count.TELEMETRY_ACKED);
    env.figures()
        .record(Latency.TELEMETRY_PUBACK, (System.nanoTime() - telemetrySentAt[slot]) / 1_000);
    telemetrySentAt[slot] = 0;
  }

  @Override
  public void onTelemetryRefused(int tag, String reason) {
    int slot = tag - 1;
    if (slot < 0 || slot >= TELEMETRY_WINDOW || telemetrySentAt[slot] == 0) {
      env.figures().error("telemetry refused that is not in flight");
      return;
    }
    telemetrySentAt[slot] = 0;
    env.figures().count(Count.TELEMETRY_FAILED);
    env.figures().error("telemetry refused: " + reason);
  }

  // ---- DeviceBehaviour.Port

  @Override
  public long nowMillis() {
    return System.currentTimeMillis();
  }

  @Override
  public void schedule(long delayMs, Runnable action) {
    if (delayMs <= 0) {
      env.vertx().runOnContext(v -> runUnlessStopped(action));
    } else {
      env.vertx().setTimer(delayMs, t -> runUnlessStopped(action));
    }
  }

  private void runUnlessStopped(Runnable action) {
    if (!stopped) {
      action.run();
    }
  }

  @Override
  public void report(JsonObject patch) {
    reports.addLast(patch);
    pumpReports();
  }

  @Override
  public void answer(String rid, int status, JsonObject payload) {
    Long receivedNanos = methods.remove(rid);
    if (receivedNanos == null || !online) {
      env.figures().error("method answer dropped: the connection it came on is gone");
      return;
    }
    conn.answer(rid, status, payload);
    env.figures().count(Count.METHODS_ANSWERED);
    env.figures().record(Latency.METHOD_AT_DEVICE, (System.nanoTime() - receivedNanos) / 1_000);
  }

  @Override
  public void restart(long offlineMs) {
    if (!online) {
      return; // offline already, and reconnecting: that is the restart
    }
    restartRequested = true;
    restartOfflineMs = offlineMs;
    restartIfReported();
  }

  @Override
  public void telemetryInterval(long intervalMs) {
    armTelemetry();
  }

  @Override
  public void count(Count count) {
    env.figures().count(count);
  }

  // ---- reported properties

  private void pumpReports() {
    if (!online || inFlight != null || reports.isEmpty()) {
      return;
    }
    inFlight = reports.pollFirst();
    inFlightRid = Long.toString(++ridSeq, 36);
    inFlightSentNanos = System.nanoTime();
    conn.report(inFlightRid, inFlight);
    env.figures().count(Count.REPORTED_SENT);
    reportTimer =
        env.vertx()
            .setTimer(
                RESPONSE_TIMEOUT_MS,
                t -> {
                  reportTimer = -1;
                  env.figures().count(Count.REPORTED_FAILED);
                  env.figures().error("no answer to a reported PATCH within 30 s");
                  if (conn != null) {
                    conn.close(false); // and send it again on the next connection
                  }
                });
  }

  /** Closes for a restart once every report sent so far is acknowledged. */
  private void restartIfReported() {
    if (restartRequested && online && inFlight == null && reports.isEmpty()) {
      conn.close(true);
    }
  }

  // ---- telemetry

  private void armTelemetry() {
    cancel(telemetryTimer);
    telemetryTimer = -1;
    long interval = behaviour.telemetryIntervalMs();
    if (!online || interval <= 0) {
      return;
    }
    long first = 1 + env.random().nextLong(interval);
    telemetryTimer = env.vertx().setPeriodic(first, interval, t -> sendTelemetry());
  }

  private void sendTelemetry() {
    int slot = -1;
    for (int i = 0; i < TELEMETRY_WINDOW; i++) {
      if (telemetrySentAt[i] == 0) {
        slot = i;
        break;
      }
    }
    if (!online || slot < 0) {
      env.figures().count(Count.TELEMETRY_SKIPPED);
      return;
    }
    Random r = env.random();
    String body =
        String.format(
            Locale.ROOT,
            "{\"deviceId\":\"%s\",\"seq\":%d,\"temperature\":%.2f,\"humidity\":%.2f,"
                + "\"firmware\":\"%s\",\"ts\":%d}",
            id,
            ++telemetrySeq,
            18 + 8 * r.nextDouble(),
            30 + 40 * r.nextDouble(),
            behaviour.firmwareVersion(),
            System.currentTimeMillis());
    long sentAt = System.nanoTime();
    if (!conn.telemetry(body.getBytes(StandardCharsets.UTF_8), slot + 1)) {
      // No credit from the hub: like a full window, the message is not sent at all.
      env.figures().count(Count.TELEMETRY_SKIPPED);
      return;
    }
    telemetrySentAt[slot] = sentAt;
    env.figures().count(Count.TELEMETRY_SENT);
  }

  // ---- helpers

  private void firstAttemptFinished() {
    if (!firstAttemptDone) {
      firstAttemptDone = true;
      env.firstAttemptDone().run();
    }
  }

  private void cancel(long timer) {
    if (timer >= 0) {
      env.vertx().cancelTimer(timer);
    }
  }
}
