package io.herd.simulator.internal;

import io.vertx.core.json.Json;

/** Message bodies as the simulated devices read them, whatever the protocol. */
final class JsonBody {

  private JsonBody() {}

  /** {@code text} as JSON (an object, array, string, number or boolean); null when empty or not. */
  static Object parse(String text) {
    String t = text.trim();
    if (t.isEmpty()) {
      return null;
    }
    try {
      return Json.decodeValue(t);
    } catch (RuntimeException e) {
      return null;
    }
  }
}
