package io.herd.server.jobs;

import io.herd.core.HubException;

/** A job's status as IoT Hub spells it on the wire (wire §5.7: {@code cancelled}, double l). */
public enum JobStatus {
  QUEUED("queued"),
  SCHEDULED("scheduled"),
  RUNNING("running"),
  COMPLETED("completed"),
  FAILED("failed"),
  CANCELLED("cancelled");

  public final String wire;

  JobStatus(String wire) {
    this.wire = wire;
  }

  public boolean terminal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED;
  }

  public static JobStatus parse(String s) {
    for (JobStatus t : values()) {
      if (t.wire.equalsIgnoreCase(s)) {
        return t;
      }
    }
    // IoT Hub's enum also has these; no Herd job is ever in them.
    if ("unknown".equalsIgnoreCase(s) || "enqueued".equalsIgnoreCase(s)) {
      return null;
    }
    throw HubException.badRequest(
        "jobStatus must be one of queued, scheduled, running, completed, failed, cancelled; got '"
            + s
            + "'");
  }
}
