package io.herd.server.jobs;

/** One device's progress in a job, as {@code devices.jobs} rows show it (wire §6). */
public enum DeviceJobStatus {
  PENDING("pending"),
  RUNNING("running"),
  COMPLETED("completed"),
  FAILED("failed"),
  CANCELLED("canceled");

  public final String wire;

  DeviceJobStatus(String wire) {
    this.wire = wire;
  }

  public boolean done() {
    return this == COMPLETED || this == FAILED || this == CANCELLED;
  }

  public static DeviceJobStatus ofWire(String s) {
    for (DeviceJobStatus t : values()) {
      if (t.wire.equals(s)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown device job status " + s);
  }
}
