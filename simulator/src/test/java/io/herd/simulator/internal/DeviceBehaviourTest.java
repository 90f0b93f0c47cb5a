package io.herd.simulator.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.simulator.SimulationReport.Count;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeviceBehaviourTest {

  private static final long STEP = 400;
  private static final long OFFLINE = 1_000;
  private static final long APPLY = 200;

  private static FakeDevicePort device(boolean failsFirmware, boolean late) {
    FakeDevicePort port = new FakeDevicePort();
    port.device =
        new DeviceBehaviour(
            new DeviceBehaviour.Settings(
                "1.0.0", STEP, failsFirmware, late, 3_000, OFFLINE, APPLY, 1_000),
            port);
    return port;
  }

  private static FakeDevicePort connected() {
    FakeDevicePort port = device(false, false);
    port.connect();
    port.reports.clear();
    port.reportTimes.clear();
    return port;
  }

  private static JsonObject update(String version) {
    return new JsonObject().put("fwPackageUri", "https://fw.example/p.bin").put("version", version);
  }

  @Test
  void reportsItsFirmwareOnFirstConnect() {
    FakeDevicePort port = device(false, false);

    port.connect();

    assertThat(port.reported.getJsonObject("firmware"))
        .isEqualTo(
            new JsonObject()
                .put("status", "current")
                .put("progress", 100)
                .put("currentVersion", "1.0.0"));
  }

  @Test
  void takesItsFirmwareVersionFromTheTwinAndLeavesAFailureShown() {
    FakeDevicePort port = device(false, false);
    JsonObject failed =
        new JsonObject()
            .put("status", "failed")
            .put("progress", 50)
            .put("currentVersion", "1.4.0")
            .put("pendingVersion", "2.0.0")
            .put("error", "x");
    port.reported.put("firmware", failed.copy());

    port.connect();

    assertThat(port.device.firmwareVersion()).isEqualTo("1.4.0");
    assertThat(port.reports).isEmpty();
  }

  @Test
  void rebootAnswersAtOnceReportsRebootingThenOnlineAfterReconnecting() {
    FakeDevicePort port = connected();

    port.device.onMethod("reboot", "r1", null);

    assertThat(port.answers)
        .containsExactly(
            new FakeDevicePort.Answer(
                "r1", 200, new JsonObject().put("result", "rebooting"), port.nowMs));
    assertThat(port.reported.getString("rebootStatus")).isEqualTo("rebooting");
    assertThat(Instant.parse(port.reported.getString("lastReboot")).toEpochMilli())
        .isEqualTo(port.nowMs);
    assertThat(port.restarts).hasSize(1);

    port.advance(OFFLINE - 1);
    assertThat(port.reported.getString("rebootStatus")).isEqualTo("rebooting");
    port.advance(1);
    assertThat(port.reported.getString("rebootStatus")).isEqualTo("online");
    assertThat(port.counted(Count.REBOOTS)).isEqualTo(1);
  }

  @Test
  void firmwareUpdateReportsEachStepReconnectsAndEndsOnTheNewVersion() {
    FakeDevicePort port = connected();
    long start = port.nowMs;

    port.device.onMethod("firmwareUpdate", "f1", update("2.0.0"));

    assertThat(port.answers.get(0).status()).isEqualTo(200);
    assertThat(port.answers.get(0).payload().getString("pendingVersion")).isEqualTo("2.0.0");
    port.advance(0);
    assertThat(port.reported.getJsonObject("firmware"))
        .isEqualTo(
            new JsonObject()
                .put("status", "downloading")
                .put("progress", 0)
                .put("currentVersion", "1.0.0")
                .put("pendingVersion", "2.0.0"));
    port.advance(3 * STEP);
    assertThat(port.restarts).containsExactly(start + 3 * STEP);
    assertThat(port.reported.getJsonObject("firmware").getString("status")).isEqualTo("rebooting");
    port.advance(OFFLINE);

    assertThat(port.firmwareStatuses())
        .containsExactly(
            "downloading",
            "downloading",
            "verifying",
            "applying",
            "applying",
            "rebooting",
            "current");
    assertThat(port.reportTimes)
        .containsExactly(
            start,
            start + STEP / 2,
            start + STEP,
            start + 2 * STEP,
            start + 2 * STEP + STEP / 2,
            start + 3 * STEP,
            start + 3 * STEP + OFFLINE);
    List<Integer> progress =
        port.reports.stream().map(r -> r.getJsonObject("firmware").getInteger("progress")).toList();
    assertThat(progress).isSorted().startsWith(0).endsWith(100);
    assertThat(port.reported.getJsonObject("firmware"))
        .isEqualTo(
            new JsonObject()
                .put("status", "current")
                .put("progress", 100)
                .put("currentVersion", "2.0.0"));
    assertThat(port.device.firmwareVersion()).isEqualTo("2.0.0");
    assertThat(port.counted(Count.FIRMWARE_SUCCEEDED)).isEqualTo(1);
  }

  @Test
  void aFailingDeviceReportsFailedWithAnErrorAndKeepsItsVersion() {
    FakeDevicePort port = device(true, false);
    port.connect();
    port.reports.clear();

    port.device.onMethod("firmwareUpdate", "f1", update("2.0.0"));
    port.advance(10 * STEP);

    assertThat(port.answers.get(0).status()).isEqualTo(200);
    assertThat(port.firmwareStatuses())
        .containsExactly("downloading", "downloading", "verifying", "failed");
    JsonObject fw = port.reported.getJsonObject("firmware");
    assertThat(fw.getString("status")).isEqualTo("failed");
    assertThat(fw.getString("currentVersion")).isEqualTo("1.0.0");
    assertThat(fw.getString("pendingVersion")).isEqualTo("2.0.0");
    assertThat(fw.getString("error")).isEqualTo(FirmwareUpdate.VERIFY_ERROR);
    assertThat(port.restarts).isEmpty();
    assertThat(port.counted(Count.FIRMWARE_FAILED)).isEqualTo(1);
    // The device is free again: a second attempt starts (and fails) too.
    port.device.onMethod("firmwareUpdate", "f2", update("2.0.0"));
    assertThat(port.answers.get(1).status()).isEqualTo(200);
  }

  @Test
  void answersABadFirmwareRequest400AndTheCurrentVersionWithoutAnUpdate() {
    FakeDevicePort port = connected();

    port.device.onMethod("firmwareUpdate", "a", new JsonObject().put("version", "2.0.0"));
    port.device.onMethod("firmwareUpdate", "b", "not an object");
    port.device.onMethod("firmwareUpdate", "c", update("1.0.0"));

    assertThat(port.answers.get(0).status()).isEqualTo(400);
    assertThat(port.answers.get(0).payload().getString("error")).contains("fwPackageUri");
    assertThat(port.answers.get(1).status()).isEqualTo(400);
    assertThat(port.answers.get(2).status()).isEqualTo(200);
    assertThat(port.answers.get(2).payload().getString("result")).contains("already on version");
    assertThat(port.counted(Count.FIRMWARE_UPDATES)).isZero();
    assertThat(port.firmwareStatuses()).containsExactly("current");
  }

  @Test
  void answersAnotherOperation409WhileOneRunsAndUnknownMethods404() {
    FakeDevicePort port = connected();

    port.device.onMethod("firmwareUpdate", "f1", update("2.0.0"));
    port.device.onMethod("reboot", "r1", null);
    port.device.onMethod("selfDestruct", "x", null);

    assertThat(port.answers)
        .extracting(FakeDevicePort.Answer::status)
        .containsExactly(200, 409, 404);
    assertThat(port.answers.get(1).payload().getString("error"))
        .isEqualTo("busy: a firmware update is in progress");
    assertThat(port.counted(Count.REBOOTS)).isZero();
  }

  @Test
  void aLateDeviceAnswersAfterItsDelay() {
    FakeDevicePort port = device(false, true);
    port.connect();

    port.device.onMethod("reboot", "r1", null);
    port.advance(2_999);
    assertThat(port.answers).isEmpty();
    port.advance(1);

    assertThat(port.answers).hasSize(1);
    assertThat(port.counted(Count.METHODS_LATE)).isEqualTo(1);
  }

  @Test
  void configurationReportsPendingThenSuccessAndChangesTheTelemetryInterval() {
    FakeDevicePort port = connected();
    JsonObject config = new JsonObject().put("configId", "c1").put("sendFrequency", "250ms");

    port.writeDesired(new JsonObject().put("telemetryConfig", config));

    assertThat(port.reported.getJsonObject("telemetryConfig"))
        .isEqualTo(config.copy().put("status", "pending"));
    assertThat(port.device.telemetryIntervalMs()).isEqualTo(1_000);
    port.advance(APPLY);
    assertThat(port.reported.getJsonObject("telemetryConfig"))
        .isEqualTo(config.copy().put("status", "success"));
    assertThat(port.device.telemetryIntervalMs()).isEqualTo(250);
    assertThat(port.intervals).containsExactly(250L);
    assertThat(port.counted(Count.CONFIG_APPLIED)).isEqualTo(1);
  }

  @Test
  void anInvalidConfigurationReportsFailureWithAnErrorAndKeepsTheInterval() {
    FakeDevicePort port = connected();

    port.writeDesired(
        new JsonObject().put("telemetryConfig", new JsonObject().put("sendFrequency", "soon")));
    port.advance(APPLY);

    JsonObject reported = port.reported.getJsonObject("telemetryConfig");
    assertThat(reported.getString("status")).isEqualTo("failure");
    assertThat(reported.getString("error")).contains("'soon' is not a duration");
    assertThat(port.device.telemetryIntervalMs()).isEqualTo(1_000);
    assertThat(port.counted(Count.CONFIG_FAILED)).isEqualTo(1);
    // Success afterwards clears the error.
    port.writeDesired(
        new JsonObject().put("telemetryConfig", new JsonObject().put("sendFrequency", "2s")));
    port.advance(APPLY);
    assertThat(port.reported.getJsonObject("telemetryConfig"))
        .isEqualTo(new JsonObject().put("sendFrequency", "2s").put("status", "success"));
  }

  @Test
  void aNewerConfigurationSupersedesOneBeingApplied() {
    FakeDevicePort port = connected();

    port.writeDesired(
        new JsonObject().put("telemetryConfig", new JsonObject().put("sendFrequency", "5s")));
    port.advance(APPLY / 2);
    port.writeDesired(
        new JsonObject().put("telemetryConfig", new JsonObject().put("sendFrequency", "7s")));
    port.advance(APPLY * 2);

    assertThat(port.intervals).containsExactly(7_000L);
    assertThat(port.counted(Count.CONFIG_APPLIED)).isEqualTo(1);
  }

  @Test
  void ignoresDesiredNotificationsNoNewerThanTheTwinItRead() {
    FakeDevicePort port = device(false, false);
    port.desired.put("telemetryConfig", new JsonObject().put("sendFrequency", "5s"));
    port.desired.put("$version", 4);
    port.connect();
    port.advance(APPLY);
    assertThat(port.counted(Count.CONFIG_APPLIED)).isEqualTo(1);

    port.device.onDesired(
        4,
        new JsonObject()
            .put("telemetryConfig", new JsonObject().put("sendFrequency", "9s"))
            .put("$version", 4));
    port.advance(APPLY);

    assertThat(port.device.telemetryIntervalMs()).isEqualTo(5_000);
    assertThat(port.counted(Count.CONFIG_APPLIED)).isEqualTo(1);
  }

  @Test
  void catchesUpOnAConfigurationWrittenWhileOfflineButNotOnOneItHas() {
    FakeDevicePort port = connected();
    port.writeDesired(
        new JsonObject().put("telemetryConfig", new JsonObject().put("sendFrequency", "5s")));
    port.advance(APPLY);

    port.device.onTwin(port.twin()); // a reconnect with nothing new
    port.advance(APPLY);
    assertThat(port.counted(Count.CONFIG_APPLIED)).isEqualTo(1);

    // Written while the device was offline: no notification, the next twin read has it.
    JsonMergePatch.apply(
        port.desired,
        new JsonObject().put("telemetryConfig", new JsonObject().put("sendFrequency", "3s")));
    port.desired.put("$version", port.desired.getLong("$version") + 1);
    port.device.onTwin(port.twin());
    port.advance(APPLY);
    assertThat(port.device.telemetryIntervalMs()).isEqualTo(3_000);
    assertThat(port.counted(Count.CONFIG_APPLIED)).isEqualTo(2);
  }

  @Test
  void adoptsAConfigurationTheTwinShowsAppliedWithoutReportingIt() {
    FakeDevicePort port = device(false, false);
    JsonObject config = new JsonObject().put("configId", "c9").put("sendFrequency", "2s");
    port.desired.put("telemetryConfig", config);
    port.reported.put("telemetryConfig", config.copy().put("status", "success"));
    port.reported.put(
        "firmware", new JsonObject().put("status", "current").put("currentVersion", "1.0.0"));

    port.connect();

    assertThat(port.reports).isEmpty();
    assertThat(port.device.telemetryIntervalMs()).isEqualTo(2_000);
  }

  @Test
  void factoryResetClearsTheReportedConfigurationAndKeepsItClearedAfterReconnecting() {
    FakeDevicePort port = connected();
    port.writeDesired(
        new JsonObject().put("telemetryConfig", new JsonObject().put("sendFrequency", "5s")));
    port.advance(APPLY);
    assertThat(port.device.telemetryIntervalMs()).isEqualTo(5_000);

    port.device.onMethod("factoryReset", "z", null);

    assertThat(port.answers.get(0).status()).isEqualTo(200);
    assertThat(port.reported.getString("factoryResetStatus")).isEqualTo("resetting");
    assertThat(port.reported.containsKey("telemetryConfig")).isFalse();
    assertThat(port.device.telemetryIntervalMs()).isEqualTo(1_000);
    port.advance(OFFLINE);
    assertThat(port.reported.getString("factoryResetStatus")).isEqualTo("complete");
    assertThat(port.reported.getString("lastFactoryReset")).isNotNull();
    port.advance(APPLY);
    assertThat(port.reported.containsKey("telemetryConfig")).isFalse();
    assertThat(port.counted(Count.FACTORY_RESETS)).isEqualTo(1);

    // Written anew, the configuration applies again.
    port.writeDesired(
        new JsonObject().put("telemetryConfig", new JsonObject().put("sendFrequency", "5s")));
    port.advance(APPLY);
    assertThat(port.reported.getJsonObject("telemetryConfig").getString("status"))
        .isEqualTo("success");
  }

  @Test
  void aResetDropsAConfigurationBeingApplied() {
    FakeDevicePort port = connected();
    port.writeDesired(
        new JsonObject().put("telemetryConfig", new JsonObject().put("sendFrequency", "5s")));

    port.device.onMethod("factoryReset", "z", null);
    port.advance(OFFLINE + APPLY);

    assertThat(port.counted(Count.CONFIG_APPLIED)).isZero();
    assertThat(port.reported.containsKey("telemetryConfig")).isFalse();
  }
}
