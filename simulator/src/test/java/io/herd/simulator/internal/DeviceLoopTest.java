package io.herd.simulator.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.herd.simulator.SimulationReport.Count;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A loop of devices on connections that come online at once and answer every report. */
class DeviceLoopTest {

  private final Vertx vertx = Vertx.vertx();
  private final Map<String, AtomicInteger> opens = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> closes = new ConcurrentHashMap<>();
  private final Map<String, DeviceConnection.Listener> listeners = new ConcurrentHashMap<>();
  private volatile Context loopContext;

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(5, TimeUnit.SECONDS);
  }

  /** A connection that is online as soon as it is opened, on the loop's context. */
  private DeviceConnection open(String id, String token, DeviceConnection.Listener listener) {
    opens.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
    loopContext = Vertx.currentContext();
    listeners.put(id, listener);
    boolean[] online = {false};
    DeviceConnection conn =
        new DeviceConnection() {
          @Override
          public boolean isOnline() {
            return online[0];
          }

          @Override
          public void report(String rid, JsonObject patch) {
            vertx.runOnContext(v -> listener.onTwinResponse(rid, 204));
          }

          @Override
          public boolean telemetry(byte[] body, int tag) {
            return false;
          }

          @Override
          public void answer(String rid, int status, JsonObject payload) {}

          @Override
          public void ping() {}

          @Override
          public boolean renew(String sasToken) {
            return true;
          }

          @Override
          public void close(boolean graceful) {
            if (online[0]) {
              online[0] = false;
              closes.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
              listener.onClosed(null, false);
            }
          }
        };
    vertx.runOnContext(
        v -> {
          online[0] = true;
          listener.onConnected(1_000);
          listener.onOnline(
              new JsonObject()
                  .put("desired", new JsonObject().put("$version", 1))
                  .put("reported", new JsonObject()));
        });
    return conn;
  }

  private static DeviceBehaviour.Settings settings(boolean answersLate) {
    return new DeviceBehaviour.Settings(
        "1.0.0", 100, false, answersLate, 60_000, 50, 100, 3_600_000);
  }

  @Test
  void churnSparesADeviceThatOwesAMethodAnswer() throws Exception {
    byte[] key = "key".getBytes(StandardCharsets.UTF_8);
    DeviceLoop loop =
        new DeviceLoop(
            List.of(new DeviceLoop.Member(0, "slow", key), new DeviceLoop.Member(1, "idle", key)),
            this::open,
            "hub.example",
            n -> settings(n == 0),
            2,
            100,
            50,
            7);
    vertx.deployVerticle(loop).await(5, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(5)).until(() -> listeners.size() == 2);
    // Churn at 100% tries to drop both each second; "slow" now owes an answer for a minute.
    DeviceConnection.Listener slow = listeners.get("slow");
    loopContext.runOnContext(v -> slow.onMethod("reboot", "1", new JsonObject()));

    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> loop.snapshot().await(5, TimeUnit.SECONDS).figures().get(Count.CHURN_DROPS) >= 3);
    assertThat(closes.get("slow")).isNull();
    assertThat(opens.get("slow")).hasValue(1);
    assertThat(opens.get("idle").get()).isGreaterThanOrEqualTo(3);
  }
}
