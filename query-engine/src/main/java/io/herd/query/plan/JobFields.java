package io.herd.query.plan;

import io.herd.query.eval.Fields;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Paths over {@code devices.jobs} rows (azure-iothub-wire.md §6): {@code devices.jobs.<field>} or
 * the bare field. A job row is evaluated as a twin whose tags hold the row's fields and whose key
 * is the device, so these paths become {@code deviceId} or {@code tags.<field>...} and compile like
 * any other.
 */
final class JobFields {
  private JobFields() {}

  private static final Map<String, String> FIELDS;

  static {
    Map<String, String> m = new java.util.HashMap<>();
    for (String f :
        List.of(
            "jobId",
            "jobType",
            "status",
            "startTimeUtc",
            "endTimeUtc",
            "createdDateTimeUtc",
            "lastUpdatedDateTimeUtc",
            "outcome",
            "error")) {
      m.put(f.toLowerCase(Locale.ROOT), f);
    }
    FIELDS = Map.copyOf(m);
  }

  static List<String> canonical(List<String> segments) {
    int base = 0;
    if (segments.size() > 2
        && segments.get(0).equalsIgnoreCase("devices")
        && segments.get(1).equalsIgnoreCase("jobs")) {
      base = 2;
    }
    String first = segments.get(base);
    if (first.equalsIgnoreCase("deviceId") && segments.size() == base + 1) {
      return List.of("deviceId");
    }
    String field = FIELDS.get(first.toLowerCase(Locale.ROOT));
    if (field == null) {
      throw new Fields.UnknownFieldException(
          base,
          "expected a devices.jobs field (deviceId, jobId, jobType, status, startTimeUtc,"
              + " endTimeUtc, createdDateTimeUtc, lastUpdatedDateTimeUtc, outcome, error), found '"
              + String.join(".", segments)
              + "'");
    }
    List<String> out = new ArrayList<>();
    out.add("tags");
    out.add(field);
    out.addAll(segments.subList(base + 1, segments.size()));
    return Fields.resolve(out).canonical();
  }
}
