package io.herd.server.bulk;

import io.herd.core.HubException;
import java.util.Locale;

/** What a registry bulk job does: read a device list into the registry, or write it out. */
public enum BulkJobType {
  IMPORT,
  EXPORT;

  /** The name in JobProperties: {@code import}, {@code export}. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a wire name, any case; anything else is a 400 naming the field. */
  public static BulkJobType parse(String field, String value) {
    for (BulkJobType t : values()) {
      if (t.wire().equalsIgnoreCase(value)) {
        return t;
      }
    }
    throw HubException.badRequest(
        "Field '"
            + field
            + "' must be 'import' or 'export', got "
            + (value == null ? "nothing" : "'" + value + "'"));
  }
}
