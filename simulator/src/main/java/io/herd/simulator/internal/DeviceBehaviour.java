package io.herd.simulator.internal;

import io.herd.simulator.SimulationReport.Count;
import io.herd.simulator.internal.FirmwareUpdate.Status;
import io.herd.simulator.internal.FirmwareUpdate.Step;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What one simulated device does, apart from the wire: the device-management patterns of IoT Hub
 * (reboot, factory reset, firmware update, configuration) over its twin and direct methods. It
 * talks to the world only through its {@link Port}, so a test drives it with a fake clock and no
 * hub. Not thread-safe: the device's event loop owns it.
 *
 * <ul>
 *   <li><b>reboot</b>: answers 200 at once, reports {@code rebootStatus: rebooting} and {@code
 *       lastReboot}, goes offline for a moment, and after reconnecting reports {@code rebootStatus:
 *       online}.
 *   <li><b>factoryReset</b>: answers 200, reports {@code factoryResetStatus: resetting} and clears
 *       its reported {@code telemetryConfig}, forgets its configuration (back to the default
 *       telemetry rate), reconnects and reports {@code factoryResetStatus: complete} and {@code
 *       lastFactoryReset}. The desired configuration it dropped is not applied again until the
 *       desired {@code telemetryConfig} is written anew.
 *   <li><b>firmwareUpdate</b> {@code {"fwPackageUri", "version"}}: answers 200 (400 for a bad
 *       payload), then reports the {@link FirmwareUpdate} steps, reconnects and reports the new
 *       {@code currentVersion}; a device chosen to fail reports {@code failed} and keeps its
 *       version.
 *   <li><b>configuration</b>: applies the desired {@code telemetryConfig} ({@link TelemetryConfig})
 *       and reports it with {@code status} {@code pending}, then {@code success} or {@code
 *       failure}.
 * </ul>
 *
 * <p>One operation (reboot, reset, update) runs at a time; a method that would start another
 * meanwhile is answered 409. Unknown methods are answered 404.
 */
public final class DeviceBehaviour {

  /** What the device can do to the world; the simulator wires it to its connection and timers. */
  public interface Port {
    /** The wall clock, epoch milliseconds. */
    long nowMillis();

    /** Runs {@code action} on the device's event loop after {@code delayMs} (0: soon). */
    void schedule(long delayMs, Runnable action);

    /** Sends a reported-properties patch; patches reach the hub in the order sent. */
    void report(JsonObject patch);

    /** Answers the method request {@code rid}. */
    void answer(String rid, int status, JsonObject payload);

    /**
     * Once the reports sent so far are acknowledged, closes the connection and opens a new one
     * after {@code offlineMs}; {@link #onTwin} follows the new connection.
     */
    void restart(long offlineMs);

    /** The telemetry interval changed; 0 means no telemetry. */
    void telemetryInterval(long intervalMs);

    void count(Count count);
  }

  /**
   * How the device behaves: its firmware version until the twin says otherwise, the time a firmware
   * step takes, whether it fails updates, whether it answers methods late and by how much, how long
   * a reboot keeps it offline, how long applying a configuration takes, and its telemetry interval
   * without a configuration (0: none).
   */
  public record Settings(
      String firmwareVersion,
      long firmwareStepMs,
      boolean failsFirmware,
      boolean answersLate,
      long lateMs,
      long offlineMs,
      long configApplyMs,
      long defaultIntervalMs) {}

  private enum Operation {
    NONE("none"),
    REBOOT("reboot"),
    FACTORY_RESET("factory reset"),
    FIRMWARE_UPDATE("firmware update");

    final String text;

    Operation(String text) {
      this.text = text;
    }
  }

  private static final String TELEMETRY_CONFIG = "telemetryConfig";

  private final Settings settings;
  private final Port port;
  private Operation operation = Operation.NONE;
  // What to do once the restart an operation asked for has brought the device back.
  private Runnable afterRestart;
  private boolean synced;
  private String currentVersion;
  private final JsonObject desired = new JsonObject();
  private long desiredVersion = -1;
  // The desired telemetryConfig last handled (applied, failed, or dropped by a reset).
  private Object handledConfig;
  private long configGeneration;
  private long intervalMs;

  public DeviceBehaviour(Settings settings, Port port) {
    this.settings = settings;
    this.port = port;
    this.currentVersion = settings.firmwareVersion();
    this.intervalMs = settings.defaultIntervalMs();
  }

  public long telemetryIntervalMs() {
    return intervalMs;
  }

  public String firmwareVersion() {
    return currentVersion;
  }

  /**
   * The twin's properties ({@code {"desired": {...}, "reported": {...}}}) as read after each
   * connect. On the first, the device takes its firmware version from the reported properties and
   * reports its firmware state unless the twin already shows it; each time it catches up on the
   * desired configuration.
   */
  public void onTwin(JsonObject properties) {
    JsonObject d = objectOr(properties.getValue("desired"));
    JsonObject r = objectOr(properties.getValue("reported"));
    desired.clear();
    JsonMergePatch.apply(desired, d);
    desiredVersion = d.getLong("$version", 0L);
    if (!synced) {
      synced = true;
      firstSync(r);
    } else if (!Objects.equals(desired.getValue(TELEMETRY_CONFIG), handledConfig)) {
      applyConfig(desired.getValue(TELEMETRY_CONFIG));
    }
    Runnable k = afterRestart;
    afterRestart = null;
    if (k != null) {
      k.run();
    }
  }

  /**
   * A desired-properties notification; one whose version the device has seen (in the twin it read
   * after connecting) is ignored (wire §2.5).
   */
  public void onDesired(long version, JsonObject patch) {
    if (version <= desiredVersion) {
      return;
    }
    JsonMergePatch.apply(desired, patch);
    desiredVersion = version;
    if (patch.containsKey(TELEMETRY_CONFIG)) {
      // Written anew: applied even when equal to what the device had, which is how an operator
      // re-applies a configuration (after a factory reset, say).
      applyConfig(desired.getValue(TELEMETRY_CONFIG));
    }
  }

  /** A direct-method request; {@code payload} is its JSON body, or null when empty. */
  public void onMethod(String name, String rid, Object payload) {
    if (settings.answersLate()) {
      port.count(Count.METHODS_LATE);
      port.schedule(settings.lateMs(), () -> handleMethod(name, rid, payload));
    } else {
      handleMethod(name, rid, payload);
    }
  }

  private void handleMethod(String name, String rid, Object payload) {
    switch (name) {
      case "reboot" -> {
        if (idle(rid)) {
          reboot(rid);
        }
      }
      case "factoryReset" -> {
        if (idle(rid)) {
          factoryReset(rid);
        }
      }
      case "firmwareUpdate" -> {
        if (idle(rid)) {
          firmwareUpdate(rid, payload);
        }
      }
      default ->
          port.answer(
              rid,
              404,
              error(
                  "unknown method '"
                      + name
                      + "'; this device implements reboot, factoryReset and firmwareUpdate"));
    }
  }

  private boolean idle(String rid) {
    if (operation == Operation.NONE) {
      return true;
    }
    port.answer(rid, 409, error("busy: a " + operation.text + " is in progress"));
    return false;
  }

  // ---- reboot

  private void reboot(String rid) {
    port.answer(rid, 200, new JsonObject().put("result", "rebooting"));
    port.count(Count.REBOOTS);
    operation = Operation.REBOOT;
    port.report(new JsonObject().put("rebootStatus", "rebooting").put("lastReboot", timestamp()));
    restartThen(
        () -> {
          port.report(new JsonObject().put("rebootStatus", "online"));
          operation = Operation.NONE;
        });
  }

  private void restartThen(Runnable afterwards) {
    afterRestart = afterwards;
    port.restart(settings.offlineMs());
  }

  // ---- factory reset

  private void factoryReset(String rid) {
    port.answer(rid, 200, new JsonObject().put("result", "resetting"));
    port.count(Count.FACTORY_RESETS);
    operation = Operation.FACTORY_RESET;
    configGeneration++; // a configuration being applied is dropped too
    handledConfig = copy(desired.getValue(TELEMETRY_CONFIG));
    setInterval(settings.defaultIntervalMs());
    port.report(new JsonObject().put("factoryResetStatus", "resetting").putNull(TELEMETRY_CONFIG));
    restartThen(
        () -> {
          port.report(
              new JsonObject()
                  .put("factoryResetStatus", "complete")
                  .put("lastFactoryReset", timestamp()));
          operation = Operation.NONE;
        });
  }

  // ---- firmware update

  private void firmwareUpdate(String rid, Object payload) {
    FirmwareUpdate.Request request;
    try {
      request = FirmwareUpdate.Request.parse(payload);
    } catch (IllegalArgumentException e) {
      port.answer(rid, 400, error(e.getMessage()));
      return;
    }
    if (request.version().equals(currentVersion)) {
      port.answer(
          rid,
          200,
          new JsonObject()
              .put("result", "already on version " + currentVersion)
              .put("currentVersion", currentVersion));
      port.report(FirmwareUpdate.report(Status.CURRENT, 100, currentVersion, null, null));
      return;
    }
    port.answer(
        rid,
        200,
        new JsonObject()
            .put("result", "firmware update started")
            .put("pendingVersion", request.version()));
    port.count(Count.FIRMWARE_UPDATES);
    operation = Operation.FIRMWARE_UPDATE;
    runSteps(FirmwareUpdate.steps(settings.failsFirmware(), settings.firmwareStepMs()), 0, request);
  }

  private void runSteps(List<Step> steps, int i, FirmwareUpdate.Request request) {
    Step step = steps.get(i);
    port.schedule(
        step.delayMs(),
        () -> {
          boolean failed = step.status() == Status.FAILED;
          port.report(
              FirmwareUpdate.report(
                  step.status(),
                  step.progress(),
                  currentVersion,
                  request.version(),
                  failed ? FirmwareUpdate.VERIFY_ERROR : null));
          if (failed) {
            port.count(Count.FIRMWARE_FAILED);
            operation = Operation.NONE;
          } else if (step.status() == Status.REBOOTING) {
            restartThen(
                () -> {
                  currentVersion = request.version();
                  port.report(
                      FirmwareUpdate.report(Status.CURRENT, 100, currentVersion, null, null));
                  port.count(Count.FIRMWARE_SUCCEEDED);
                  operation = Operation.NONE;
                });
          } else {
            runSteps(steps, i + 1, request);
          }
        });
  }

  // ---- configuration

  private void firstSync(JsonObject reported) {
    JsonObject fw = objectOr(reported.getValue("firmware"));
    if (fw.getValue("currentVersion") instanceof String v && !v.isBlank()) {
      currentVersion = v;
    }
    Object status = fw.getValue("status");
    // A device shows its firmware when it starts, unless the twin has it already; an update that
    // a previous run left unfinished is over.
    if (!fw.containsKey("currentVersion")
        || !(Status.CURRENT.wireName().equals(status) || Status.FAILED.wireName().equals(status))) {
      port.report(FirmwareUpdate.report(Status.CURRENT, 100, currentVersion, null, null));
    }
    Object config = desired.getValue(TELEMETRY_CONFIG);
    Object reportedConfig = reported.getValue(TELEMETRY_CONFIG);
    if (config == null) {
      handledConfig = null;
      if (reportedConfig != null) {
        port.report(new JsonObject().putNull(TELEMETRY_CONFIG));
      }
      return;
    }
    if (config instanceof JsonObject c
        && reportedConfig instanceof JsonObject rc
        && "success".equals(rc.getValue("status"))
        && Objects.equals(c.getValue("configId"), rc.getValue("configId"))
        && Objects.equals(c.getValue("sendFrequency"), rc.getValue("sendFrequency"))) {
      // The twin shows this configuration applied (by an earlier run): take it as it is.
      try {
        setInterval(TelemetryConfig.intervalMs(config));
        handledConfig = copy(config);
        return;
      } catch (IllegalArgumentException e) {
        // Reported as applied but invalid: apply it again, which reports the failure.
      }
    }
    applyConfig(config);
  }

  private void applyConfig(Object config) {
    Object asked = copy(config);
    handledConfig = asked;
    long generation = ++configGeneration;
    if (asked == null) {
      setInterval(settings.defaultIntervalMs());
      port.report(new JsonObject().putNull(TELEMETRY_CONFIG));
      return;
    }
    port.report(
        new JsonObject().put(TELEMETRY_CONFIG, TelemetryConfig.reported(asked, "pending", null)));
    port.schedule(
        settings.configApplyMs(),
        () -> {
          if (generation != configGeneration) {
            return; // superseded by a newer configuration or a reset
          }
          JsonObject result;
          try {
            setInterval(TelemetryConfig.intervalMs(asked));
            result = TelemetryConfig.reported(asked, "success", null);
            port.count(Count.CONFIG_APPLIED);
          } catch (IllegalArgumentException e) {
            result = TelemetryConfig.reported(asked, "failure", e.getMessage());
            port.count(Count.CONFIG_FAILED);
          }
          port.report(new JsonObject().put(TELEMETRY_CONFIG, result));
        });
  }

  private void setInterval(long ms) {
    if (ms != intervalMs) {
      intervalMs = ms;
      port.telemetryInterval(ms);
    }
  }

  // ---- helpers

  private String timestamp() {
    return Instant.ofEpochMilli(port.nowMillis()).toString();
  }

  private static JsonObject error(String message) {
    return new JsonObject().put("error", message);
  }

  private static JsonObject objectOr(Object value) {
    return value instanceof JsonObject o ? o : new JsonObject();
  }

  private static Object copy(Object value) {
    return value instanceof JsonObject o ? o.copy() : value;
  }
}
