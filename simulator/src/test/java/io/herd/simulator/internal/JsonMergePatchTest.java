package io.herd.simulator.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class JsonMergePatchTest {

  @Test
  void mergesObjectsRemovesNullsReplacesTheRestAndSkipsDollarMembers() {
    JsonObject target =
        new JsonObject()
            .put("a", new JsonObject().put("x", 1).put("y", 2))
            .put("b", "keep")
            .put("c", "drop");

    JsonMergePatch.apply(
        target,
        new JsonObject()
            .put("a", new JsonObject().put("y", 3).putNull("x"))
            .putNull("c")
            .put("d", new JsonArray().add(1))
            .put("$version", 9));

    assertThat(target)
        .isEqualTo(
            new JsonObject()
                .put("a", new JsonObject().put("y", 3))
                .put("b", "keep")
                .put("d", new JsonArray().add(1)));
  }
}
