package io.herd.server.api;

import io.herd.core.Timestamps;
import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinArray;
import io.herd.core.twin.TwinJson;
import io.herd.core.twin.TwinKey;
import io.herd.core.twin.TwinNode;
import io.herd.server.jobs.DeviceJob;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * {@code devices.jobs} rows (azure-iothub-wire.md §6) for the query engine: each row becomes a twin
 * whose tags hold the row's fields and whose key is (device, job), which is the shape the compiled
 * job paths read and the order paging needs.
 */
final class JobRows {
  private JobRows() {}

  static Twin twin(DeviceJob d) {
    TwinNode.Builder b = new TwinNode.Builder(false);
    b.put("jobId", d.jobId(), 0, 0);
    b.put("jobType", d.jobType().wire, 0, 0);
    b.put("status", d.status().wire, 0, 0);
    b.put("startTimeUtc", time(d.started()), 0, 0);
    b.put("endTimeUtc", time(d.ended()), 0, 0);
    b.put("createdDateTimeUtc", time(d.created()), 0, 0);
    b.put("lastUpdatedDateTimeUtc", time(d.lastUpdated()), 0, 0);
    b.put("outcome", d.outcome() == null ? null : node(d.outcome()), 0, 0);
    if (d.errorCode() != null) {
      TwinNode error =
          new TwinNode.Builder(false)
              .put("code", d.errorCode(), 0, 0)
              .put("description", d.errorDescription(), 0, 0)
              .build();
      b.put("error", error, 0, 0);
    }
    return new Twin(
        TwinKey.module(d.deviceId(), d.jobId()),
        1,
        b.build(),
        TwinNode.EMPTY,
        0,
        TwinNode.EMPTY,
        0,
        null);
  }

  /** The row as IoT Hub returns it: deviceId first, then the job fields. */
  static JsonObject json(Twin row) {
    JsonObject o = new JsonObject().put("deviceId", row.key().deviceId());
    o.mergeIn(TwinJson.values(row.tags()));
    return o;
  }

  private static String time(Instant t) {
    return t == null ? Timestamps.NEVER : Timestamps.format(t);
  }

  private static TwinNode node(JsonObject o) {
    TwinNode.Builder b = new TwinNode.Builder(false);
    for (String k : o.fieldNames()) {
      b.put(k, value(o.getValue(k)), 0, 0);
    }
    return b.build();
  }

  private static Object value(Object v) {
    if (v instanceof JsonObject o) {
      return node(o);
    }
    if (v instanceof JsonArray a) {
      Object[] items = new Object[a.size()];
      for (int i = 0; i < a.size(); i++) {
        items[i] = value(a.getValue(i));
      }
      return TwinArray.of(items);
    }
    if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof Float f) {
      return f.doubleValue();
    }
    return v;
  }
}
