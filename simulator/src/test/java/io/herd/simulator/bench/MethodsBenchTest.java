package io.herd.simulator.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.simulator.bench.MethodsBench.Options;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class MethodsBenchTest {

  @Test
  void acceptsOnlyA200WithDeviceStatus200AndItsOwnEcho() {
    assertThat(MethodsBench.checkAnswer(200, "{\"status\":200,\"payload\":{\"n\":42}}", 42))
        .isNull();
  }

  @Test
  void namesWhatIsWrongWithAnAnswer() {
    assertThat(MethodsBench.checkAnswer(404, "{\"errorCode\":404103}", 1)).startsWith("HTTP 404: ");
    assertThat(MethodsBench.checkAnswer(200, "{\"status\":500,\"payload\":{\"n\":1}}", 1))
        .startsWith("device status 500: ");
    assertThat(MethodsBench.checkAnswer(200, "{\"status\":200,\"payload\":{\"n\":2}}", 1))
        .startsWith("wrong echo: sent 1");
    assertThat(MethodsBench.checkAnswer(200, "{\"status\":200,\"payload\":null}", 1))
        .startsWith("wrong echo");
    assertThat(MethodsBench.checkAnswer(200, "not json", 1)).startsWith("unreadable body: ");
    assertThat(MethodsBench.checkAnswer(200, null, 1)).startsWith("unreadable body: ");
  }

  @Test
  void countsErrorsByTheKindBeforeTheFirstColon() {
    assertThat(MethodsBench.kind(MethodsBench.checkAnswer(504, "{\"m\":\"a:b\"}", 1)))
        .isEqualTo("HTTP 504");
    assertThat(MethodsBench.kind("TimeoutException")).isEqualTo("TimeoutException");
  }

  @Test
  void sendsTheServiceApiBodyWithTheNumberToEcho() {
    JsonObject body = new JsonObject(MethodsBench.requestBody(4_503_599_627_370_495L, 30));

    assertThat(body.getString("methodName")).isEqualTo("bench");
    assertThat(body.getJsonObject("payload").getLong("n")).isEqualTo(4_503_599_627_370_495L);
    assertThat(body.getInteger("responseTimeoutInSeconds")).isEqualTo(30);
    assertThat(body.getInteger("connectTimeoutInSeconds")).isZero();
    assertThat(MethodsBench.methodsUri("p-1"))
        .isEqualTo("/twins/p-1/methods?api-version=2021-04-12");
  }

  @Test
  void requiresTimeForBothPhasesAndTheResponseTimeout() {
    assertThatThrownBy(
            () ->
                Options.parse(
                    new String[] {
                      "--hub-json", "h.json", "--prefix", "p", "--timeout-seconds", "60"
                    }))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--timeout-seconds");
    Options o = Options.parse(new String[] {"--hub-json", "h.json", "--prefix", "p"});
    assertThat(o.concurrency()).isEqualTo(128);
    assertThat(o.rate()).isEqualTo(5_000);
    assertThat(o.openSeconds()).isEqualTo(o.seconds());
    assertThat(o.watch()).containsKey("driver");
  }
}
