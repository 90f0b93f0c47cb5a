package io.herd.simulator.internal;

import io.vertx.core.json.JsonObject;

/** JSON merge patches (RFC 7386), as IoT Hub applies them to twin properties. */
public final class JsonMergePatch {
  private JsonMergePatch() {}

  /**
   * Applies {@code patch} to {@code target} in place: a null value removes the member, an object
   * merges into an object, anything else replaces. Members whose names start with {@code $} (the
   * twin's {@code $version}, {@code $metadata}) are not properties and are skipped.
   */
  public static void apply(JsonObject target, JsonObject patch) {
    for (String key : patch.fieldNames()) {
      if (key.startsWith("$")) {
        continue;
      }
      Object value = patch.getValue(key);
      if (value == null) {
        target.remove(key);
      } else if (value instanceof JsonObject p) {
        Object current = target.getValue(key);
        JsonObject merged = current instanceof JsonObject c ? c : new JsonObject();
        apply(merged, p);
        target.put(key, merged);
      } else {
        target.put(key, value instanceof io.vertx.core.json.JsonArray a ? a.copy() : value);
      }
    }
  }
}
