package io.herd.simulator.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.herd.simulator.internal.AmqpDeviceMessages.MethodCall;
import io.herd.simulator.internal.AmqpDeviceMessages.TwinMessage;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.UUID;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.MessageAnnotations;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.message.Message;
import org.junit.jupiter.api.Test;

class AmqpDeviceMessagesTest {

  private static Message message(
      Object correlationId, Map<String, Object> annotations, String body) {
    Message m = Message.Factory.create();
    if (correlationId != null) {
      Properties p = new Properties();
      p.setCorrelationId(correlationId);
      m.setProperties(p);
    }
    if (annotations != null) {
      Map<Symbol, Object> a = new java.util.LinkedHashMap<>();
      annotations.forEach((k, v) -> a.put(Symbol.valueOf(k), v));
      m.setMessageAnnotations(new MessageAnnotations(a));
    }
    m.setBody(new Data(new Binary(body.getBytes(UTF_8))));
    return m;
  }

  private static Object annotation(Message m, String key) {
    return m.getMessageAnnotations().getValue().get(Symbol.valueOf(key));
  }

  private static String body(Message m) {
    Binary b = ((Data) m.getBody()).getValue();
    return new String(b.getArray(), b.getArrayOffset(), b.getLength(), UTF_8);
  }

  @Test
  void namesTheDeviceLinksAsTheSdkDoes() {
    assertThat(AmqpDeviceMessages.eventsAddress("d1")).isEqualTo("/devices/d1/messages/events");
    assertThat(AmqpDeviceMessages.twinAddress("d1")).isEqualTo("/devices/d1/twin");
    assertThat(AmqpDeviceMessages.methodsAddress("d1"))
        .isEqualTo("/devices/d1/methods/devicebound");
  }

  @Test
  void pairsAChannelsLinksByOneCorrelationIdWithTheApiVersion() {
    UUID channel = UUID.fromString("0b7a3c1e-5d3f-4f8e-9a51-2b1c9e8d7f60");

    Map<Symbol, Object> p = AmqpDeviceMessages.channelProperties("twin", channel);

    assertThat(p)
        .containsEntry(
            Symbol.valueOf("com.microsoft:channel-correlation-id"),
            "twin:0b7a3c1e-5d3f-4f8e-9a51-2b1c9e8d7f60")
        .containsEntry(Symbol.valueOf("com.microsoft:api-version"), "2021-04-12")
        .containsKey(Symbol.valueOf("com.microsoft:client-version"));
  }

  @Test
  void sendsTelemetryAsAJsonDataSection() {
    Message m = AmqpDeviceMessages.telemetry("{\"t\":1}".getBytes(UTF_8));

    assertThat((Object) m.getProperties().getContentType())
        .isEqualTo(Symbol.valueOf("application/json"));
    assertThat((Object) m.getProperties().getContentEncoding()).isEqualTo(Symbol.valueOf("utf-8"));
    assertThat(body(m)).isEqualTo("{\"t\":1}");
  }

  @Test
  void twinRequestsCarryOperationResourceAndAStringCorrelationId() {
    Message patch =
        AmqpDeviceMessages.twinRequest(
            "PATCH", AmqpDeviceMessages.REPORTED, "1f", "{\"a\":1}".getBytes(UTF_8));
    Message get = AmqpDeviceMessages.twinRequest("GET", null, "get", null);

    assertThat(annotation(patch, "operation")).isEqualTo("PATCH");
    assertThat(annotation(patch, "resource")).isEqualTo("/properties/reported");
    assertThat(patch.getProperties().getCorrelationId()).isEqualTo("1f");
    assertThat(body(patch)).isEqualTo("{\"a\":1}");
    assertThat(annotation(get, "operation")).isEqualTo("GET");
    assertThat(get.getMessageAnnotations().getValue())
        .doesNotContainKey(Symbol.valueOf("resource"));
    assertThat(body(get)).isEqualTo(" "); // what the Node SDK sends
  }

  @Test
  void readsAnAnswerByItsCorrelationIdStatusAndVersion() {
    TwinMessage t =
        AmqpDeviceMessages.twinMessage(message("1f", Map.of("status", 204, "version", 7L), ""));

    assertThat(t).isEqualTo(new TwinMessage("1f", 204, 7, null));
    assertThat(t.isNotification()).isFalse();
  }

  @Test
  void readsANotificationWithoutCorrelationIdTakingItsVersionFromTheBodyIfNeeded() {
    TwinMessage annotated =
        AmqpDeviceMessages.twinMessage(
            message(null, Map.of("version", 5L), "{\"telemetryConfig\":null,\"$version\":5}"));
    TwinMessage bare = AmqpDeviceMessages.twinMessage(message(null, null, "{\"$version\":6}"));

    assertThat(annotated.isNotification()).isTrue();
    assertThat(annotated.version()).isEqualTo(5);
    assertThat(annotated.body())
        .isEqualTo(new JsonObject("{\"telemetryConfig\":null,\"$version\":5}"));
    assertThat(bare.version()).isEqualTo(6);
  }

  @Test
  void refusesTwinMessagesItCannotUse() {
    assertThat(AmqpDeviceMessages.twinMessage(message("1f", Map.of("version", 1L), ""))).isNull();
    assertThat(AmqpDeviceMessages.twinMessage(message(null, null, "{\"a\":1}"))).isNull();
    assertThat(AmqpDeviceMessages.twinMessage(message(null, Map.of("version", 2L), "[1]")))
        .isNull();
  }

  @Test
  void keepsAMethodRequestsCorrelationIdAsTheHubSentIt() {
    UUID id = UUID.randomUUID();
    Message request = message(id, null, "{\"version\":\"2.0.0\"}");
    request.setApplicationProperties(
        new ApplicationProperties(Map.of("IoThub-methodname", "firmwareUpdate")));

    MethodCall call = AmqpDeviceMessages.methodCall(request);
    Message answer =
        AmqpDeviceMessages.methodResponse(call.correlationId(), 200, "{}".getBytes(UTF_8));

    assertThat(call.name()).isEqualTo("firmwareUpdate");
    assertThat(call.rid()).isEqualTo(id.toString());
    assertThat(call.payload()).isEqualTo(new JsonObject().put("version", "2.0.0"));
    assertThat(answer.getProperties().getCorrelationId()).isEqualTo(id); // a uuid, not a string
    assertThat(answer.getApplicationProperties().getValue().get("IoThub-status")).isEqualTo(200);
  }

  @Test
  void refusesAMethodRequestWithoutNameOrCorrelationId() {
    Message noName = message(UUID.randomUUID(), null, "{}");
    Message noId = message(null, null, "{}");
    noId.setApplicationProperties(new ApplicationProperties(Map.of("IoThub-methodname", "reboot")));

    assertThat(AmqpDeviceMessages.methodCall(noName)).isNull();
    assertThat(AmqpDeviceMessages.methodCall(noId)).isNull();
  }

  @Test
  void readsJsonFromDataOrAStringValueAndNothingElse() {
    Message value = Message.Factory.create();
    value.setBody(new AmqpValue("{\"a\":1}"));
    Message number = Message.Factory.create();
    number.setBody(new AmqpValue(5));

    assertThat(AmqpDeviceMessages.json(value)).isEqualTo(new JsonObject().put("a", 1));
    assertThat(AmqpDeviceMessages.json(number)).isNull();
    assertThat(AmqpDeviceMessages.json(message(null, null, "not json"))).isNull();
  }
}
