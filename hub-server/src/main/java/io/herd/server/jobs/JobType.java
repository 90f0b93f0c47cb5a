package io.herd.server.jobs;

import io.herd.core.HubException;

/** The kinds of jobs v2 (azure-iothub-wire.md §5.7). */
public enum JobType {
  SCHEDULE_UPDATE_TWIN("scheduleUpdateTwin"),
  SCHEDULE_DEVICE_METHOD("scheduleDeviceMethod");

  public final String wire;

  JobType(String wire) {
    this.wire = wire;
  }

  /** Parses the wire name; 400 naming the accepted values otherwise. */
  public static JobType parse(String s) {
    for (JobType t : values()) {
      if (t.wire.equalsIgnoreCase(s)) {
        return t;
      }
    }
    throw HubException.badRequest(
        "type must be scheduleUpdateTwin or scheduleDeviceMethod, got '" + s + "'");
  }
}
