package io.herd.query;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinKey;
import io.herd.core.twin.TwinNode;
import org.junit.jupiter.api.Test;

class DeviceJobQueryTest {
  /** A job row as the hub feeds it: the row's fields in the tags, keyed by device and job. */
  private static Twin row(String device, String job, String status, long methodStatus) {
    TwinNode response = new TwinNode.Builder(false).put("status", methodStatus, 0, 0).build();
    TwinNode outcome =
        new TwinNode.Builder(false).put("deviceMethodResponse", response, 0, 0).build();
    TwinNode fields =
        new TwinNode.Builder(false)
            .put("jobId", job, 0, 0)
            .put("jobType", "scheduleDeviceMethod", 0, 0)
            .put("status", status, 0, 0)
            .put("outcome", outcome, 0, 0)
            .build();
    return new Twin(
        TwinKey.module(device, job), 1, fields, TwinNode.EMPTY, 0, TwinNode.EMPTY, 0, null);
  }

  @Test
  void jobFieldsMatchWithOrWithoutTheDevicesJobsPrefix() {
    CompiledQuery q =
        QueryEngine.compile(
            "SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'j1' AND status = 'failed'");
    assertThat(q.itemType()).isEqualTo(CompiledQuery.ItemType.DEVICE_JOB);
    assertThat(q.matches(row("d1", "j1", "failed", 0))).isTrue();
    assertThat(q.matches(row("d1", "j1", "completed", 0))).isFalse();
    assertThat(q.matches(row("d1", "j2", "failed", 0))).isFalse();
  }

  @Test
  void outcomesAndDeviceIdsAreQueryable() {
    CompiledQuery q =
        QueryEngine.compile(
            "SELECT deviceId, outcome.deviceMethodResponse.status AS s FROM devices.jobs"
                + " WHERE outcome.deviceMethodResponse.status >= 400 AND deviceId != 'd2'");
    assertThat(q.itemType()).isEqualTo(CompiledQuery.ItemType.RAW);
    assertThat(q.matches(row("d1", "j1", "completed", 500))).isTrue();
    assertThat(q.matches(row("d2", "j1", "completed", 500))).isFalse();
    assertThat(q.matches(row("d1", "j1", "completed", 200))).isFalse();
  }
}
