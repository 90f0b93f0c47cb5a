package io.herd.server.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.core.HubException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.util.List;
import org.junit.jupiter.api.Test;

class RolloutTest {
  private static JsonObject twinJob() {
    return new JsonObject()
        .put("type", "scheduleUpdateTwin")
        .put("queryCondition", "*")
        .put(
            "updateTwin",
            new JsonObject()
                .put("properties", new JsonObject().put("desired", new JsonObject().put("a", 1))));
  }

  @Test
  void aWindowPastMidnightIsOpenOnBothSidesOfIt() {
    MaintenanceWindow w = new MaintenanceWindow(LocalTime.of(23, 0), Duration.ofHours(2));
    assertThat(w.contains(Instant.parse("2026-11-27T23:30:00Z"))).isTrue();
    assertThat(w.contains(Instant.parse("2026-11-28T00:59:59Z"))).isTrue();
    assertThat(w.contains(Instant.parse("2026-11-28T01:00:00Z"))).isFalse();
    assertThat(w.contains(Instant.parse("2026-11-27T22:59:59Z"))).isFalse();
    assertThat(w.nextOpening(Instant.parse("2026-11-28T01:00:00Z")))
        .isEqualTo(Instant.parse("2026-11-28T23:00:00Z"));
  }

  @Test
  void theRampMultipliesTheRateAndTheCeilingCapsIt() {
    JsonObject body =
        twinJob()
            .put("maxDevicesPerMinute", 500)
            .put(
                "exponentialRate",
                new JsonObject()
                    .put("baseRatePerMinute", 60)
                    .put("incrementFactor", 2)
                    .put(
                        "rateIncreaseCriteria",
                        new JsonObject().put("numberOfNotifiedDevices", 10)));
    Job j = new Job(JobCodec.parse("ramp", body), Instant.EPOCH);
    assertThat(j.rate()).isEqualTo(1.0);
    j.started(10);
    assertThat(j.rate()).isEqualTo(2.0);
    j.started(20);
    assertThat(j.rate()).isEqualTo(8.0);
    j.started(100);
    assertThat(j.rate()).isEqualTo(500 / 60.0);
  }

  @Test
  void theBucketNeverBanksMoreThanATenthOfASecond() {
    Job j =
        new Job(JobCodec.parse("rate", twinJob().put("maxDevicesPerMinute", 6000)), Instant.EPOCH);
    j.resetRate(0);
    j.refill(5_000_000_000L);
    assertThat(j.tokens).isEqualTo(10.0);
    Job free = new Job(JobCodec.parse("free", twinJob()), Instant.EPOCH);
    free.resetRate(0);
    free.refill(1);
    assertThat(free.tokens).isInfinite();
  }

  @Test
  void abortTripsOnlyPastTheMinimumAndTheThreshold() {
    Rollout.Abort a = new Rollout.Abort(20, 10);
    assertThat(a.trips(9, 9)).isFalse();
    assertThat(a.trips(10, 2)).isFalse();
    assertThat(a.trips(10, 3)).isTrue();
  }

  @Test
  void theSpecSurvivesItsStoredForm() {
    JsonObject body =
        twinJob()
            .put("startTime", "2030-01-01T00:00:00Z")
            .put("maxConcurrency", 7)
            .put(
                "abortCriteria",
                new JsonObject().put("failureThresholdPercentage", 5).put("minNumberOfDevices", 3))
            .put(
                "maintenanceWindows",
                new JsonArray()
                    .add(new JsonObject().put("startTime", "02:30").put("durationInMinutes", 90)));
    JobSpec spec = JobCodec.parse("rt", body);
    JobSpec again = JobCodec.parse("rt", JobCodec.specJson(spec));
    assertThat(again.rollout()).isEqualTo(spec.rollout());
    assertThat(again.startTime()).isEqualTo(spec.startTime());
    assertThat(again.updateTwin()).isEqualTo(spec.updateTwin());
    assertThat(spec.rollout().windows())
        .isEqualTo(List.of(new MaintenanceWindow(LocalTime.of(2, 30), Duration.ofMinutes(90))));
  }

  @Test
  void badRolloutSettingsNameTheField() {
    assertThatThrownBy(() -> JobCodec.parse("x", twinJob().put("maxDevicesPerMinute", 0)))
        .isInstanceOf(HubException.class)
        .hasMessageContaining("maxDevicesPerMinute must be at least 1");
    assertThatThrownBy(
            () ->
                JobCodec.parse(
                    "x",
                    twinJob()
                        .put(
                            "maintenanceWindows",
                            new JsonArray()
                                .add(
                                    new JsonObject()
                                        .put("startTime", "25:00")
                                        .put("durationInMinutes", 5)))))
        .hasMessageContaining("maintenanceWindows[0].startTime must be a UTC time of day");
    assertThatThrownBy(() -> JobCodec.parse("x", twinJob().put("deviceTimeoutInSeconds", 5)))
        .hasMessageContaining("applies to scheduleDeviceMethod jobs");
    assertThatThrownBy(
            () ->
                JobCodec.parse(
                    "x",
                    twinJob()
                        .put(
                            "exponentialRate",
                            new JsonObject()
                                .put("baseRatePerMinute", 10)
                                .put("incrementFactor", 0.5))))
        .hasMessageContaining("incrementFactor must be a number above 1");
  }
}
