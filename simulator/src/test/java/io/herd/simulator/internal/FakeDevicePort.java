package io.herd.simulator.internal;

import io.herd.simulator.SimulationReport.Count;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * A {@link DeviceBehaviour.Port} on a manual clock with a hub of its own: reported patches merge
 * into a twin, a restart brings the device back with that twin after the offline time.
 */
final class FakeDevicePort implements DeviceBehaviour.Port {

  record Answer(String rid, int status, JsonObject payload, long atMs) {}

  private record Timer(long dueMs, long seq, Runnable action) {}

  private final PriorityQueue<Timer> timers =
      new PriorityQueue<>(
          (a, b) ->
              a.dueMs != b.dueMs ? Long.compare(a.dueMs, b.dueMs) : Long.compare(a.seq, b.seq));
  private long seq;
  long nowMs = 1_700_000_000_000L;
  final JsonObject desired = new JsonObject().put("$version", 1);
  final JsonObject reported = new JsonObject();
  final List<JsonObject> reports = new ArrayList<>();
  final List<Long> reportTimes = new ArrayList<>();
  final List<Answer> answers = new ArrayList<>();
  final List<Long> restarts = new ArrayList<>();
  final List<Long> intervals = new ArrayList<>();
  final Map<Count, Long> counts = new EnumMap<>(Count.class);
  DeviceBehaviour device;

  /** The twin's properties as the hub would answer a GET. */
  JsonObject twin() {
    return new JsonObject().put("desired", desired.copy()).put("reported", reported.copy());
  }

  /** Connects the device for the first time. */
  void connect() {
    device.onTwin(twin());
  }

  /** The service writes a desired patch: merged, versioned and notified. */
  void writeDesired(JsonObject patch) {
    JsonMergePatch.apply(desired, patch);
    long version = desired.getLong("$version") + 1;
    desired.put("$version", version);
    device.onDesired(version, patch.copy().put("$version", version));
  }

  /** Runs every timer due within {@code ms} from now, in order, advancing the clock. */
  void advance(long ms) {
    long end = nowMs + ms;
    while (!timers.isEmpty() && timers.peek().dueMs <= end) {
      Timer t = timers.poll();
      nowMs = Math.max(nowMs, t.dueMs);
      t.action.run();
    }
    nowMs = end;
  }

  long counted(Count c) {
    return counts.getOrDefault(c, 0L);
  }

  List<String> firmwareStatuses() {
    List<String> statuses = new ArrayList<>();
    for (JsonObject r : reports) {
      if (r.getJsonObject("firmware") != null) {
        statuses.add(r.getJsonObject("firmware").getString("status"));
      }
    }
    return statuses;
  }

  @Override
  public long nowMillis() {
    return nowMs;
  }

  @Override
  public void schedule(long delayMs, Runnable action) {
    timers.add(new Timer(nowMs + delayMs, seq++, action));
  }

  @Override
  public void report(JsonObject patch) {
    reports.add(patch.copy());
    reportTimes.add(nowMs);
    JsonMergePatch.apply(reported, patch);
  }

  @Override
  public void answer(String rid, int status, JsonObject payload) {
    answers.add(new Answer(rid, status, payload, nowMs));
  }

  @Override
  public void restart(long offlineMs) {
    restarts.add(nowMs);
    schedule(offlineMs, () -> device.onTwin(twin()));
  }

  @Override
  public void telemetryInterval(long intervalMs) {
    intervals.add(intervalMs);
  }

  @Override
  public void count(Count count) {
    counts.merge(count, 1L, Long::sum);
  }
}
