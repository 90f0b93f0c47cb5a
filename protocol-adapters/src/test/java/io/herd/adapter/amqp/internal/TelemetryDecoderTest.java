package io.herd.adapter.amqp.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.UnsignedByte;
import org.apache.qpid.proton.amqp.UnsignedInteger;
import org.apache.qpid.proton.amqp.UnsignedLong;
import org.apache.qpid.proton.amqp.UnsignedShort;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.DeliveryAnnotations;
import org.apache.qpid.proton.amqp.messaging.Header;
import org.apache.qpid.proton.amqp.messaging.MessageAnnotations;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.message.Message;
import org.junit.jupiter.api.Test;

/**
 * {@link TelemetryDecoder} reads what proton-j's decoding gives through {@link AmqpMessages}, for
 * messages of the shape the SDKs send, and leaves every other shape to proton-j.
 */
class TelemetryDecoderTest {

  private static byte[] encode(Message m) {
    AmqpMessages.Encoded e = AmqpMessages.encode(m, 4096);
    byte[] out = new byte[e.length()];
    System.arraycopy(e.bytes(), 0, out, 0, e.length());
    return out;
  }

  /** What the hub read before the decoder: proton-j's message through AmqpMessages. */
  private static AmqpMessages.Telemetry viaProton(byte[] encoded) {
    Message m = AmqpMessages.decode(encoded);
    return new AmqpMessages.Telemetry(
        AmqpMessages.systemProperties(m),
        AmqpMessages.applicationProperties(m),
        AmqpMessages.body(m));
  }

  private static void assertSame(AmqpMessages.Telemetry fast, AmqpMessages.Telemetry slow) {
    assertThat(fast).isNotNull();
    assertThat(fast.systemProperties()).isEqualTo(slow.systemProperties());
    assertThat(new ArrayList<>(fast.properties().entrySet()))
        .isEqualTo(new ArrayList<>(slow.properties().entrySet()));
    assertThat(fast.body()).isEqualTo(slow.body());
  }

  @Test
  void readsTheMessageTheNodeSdkSends() {
    Message m = Message.Factory.create();
    Properties p = new Properties();
    p.setMessageId(UUID.fromString("8c0d4f44-1d2e-4b8e-9a3c-2f1e0d9c8b7a"));
    p.setContentType(Symbol.valueOf("application/json"));
    p.setContentEncoding(Symbol.valueOf("utf-8"));
    m.setProperties(p);
    Map<String, Object> app = new LinkedHashMap<>();
    app.put("temperatureAlert", "true");
    app.put("iothub-outputname", "out1");
    m.setApplicationProperties(new ApplicationProperties(app));
    m.setBody(new Data(new Binary("{\"t\":21.5}".getBytes(UTF_8))));
    byte[] bytes = encode(m);

    AmqpMessages.Telemetry t = TelemetryDecoder.decode(bytes);
    assertSame(t, viaProton(bytes));
    assertThat(t.systemProperties())
        .containsEntry("message-id", "8c0d4f44-1d2e-4b8e-9a3c-2f1e0d9c8b7a")
        .containsEntry("content-type", "application/json")
        .containsEntry("iothub-outputname", "out1");
    assertThat(t.properties()).containsOnlyKeys("temperatureAlert");
  }

  @Test
  void readsEveryPropertyAndValueTypeAsProtonJDoes() {
    Random random = new Random(42);
    for (int i = 0; i < 2_000; i++) {
      Message m = randomMessage(random);
      byte[] bytes = encode(m);
      assertSame(TelemetryDecoder.decode(bytes), viaProton(bytes));
    }
  }

  @Test
  void leavesOtherShapesToProtonJ() {
    Message annotated = Message.Factory.create();
    Map<Symbol, Object> ma = new LinkedHashMap<>();
    ma.put(Symbol.valueOf("iothub-interface-id"), "dtmi:x;1");
    annotated.setMessageAnnotations(new MessageAnnotations(ma));
    annotated.setBody(new Data(new Binary(new byte[] {1})));
    assertThat(TelemetryDecoder.decode(encode(annotated))).isNull();

    Message value = Message.Factory.create();
    value.setBody(new AmqpValue("text"));
    assertThat(TelemetryDecoder.decode(encode(value))).isNull();

    Message listValue = Message.Factory.create();
    Map<String, Object> app = new LinkedHashMap<>();
    app.put("list", List.of(1, 2));
    listValue.setApplicationProperties(new ApplicationProperties(app));
    assertThat(TelemetryDecoder.decode(encode(listValue))).isNull();
  }

  @Test
  void leavesMalformedInputToProtonJ() {
    Message m = randomMessage(new Random(7));
    byte[] bytes = encode(m);
    for (int cut = 0; cut < bytes.length; cut++) {
      byte[] part = new byte[cut];
      System.arraycopy(bytes, 0, part, 0, cut);
      AmqpMessages.Telemetry t = TelemetryDecoder.decode(part);
      if (t != null) {
        // A cut between sections is a shorter message; proton-j reads it the same.
        assertSame(t, viaProton(part));
      }
    }
  }

  @Test
  void aMessageWithoutBodyHasAnEmptyOne() {
    Message m = Message.Factory.create();
    m.setHeader(new Header());
    byte[] bytes = encode(m);
    assertSame(TelemetryDecoder.decode(bytes), viaProton(bytes));
    assertThat(TelemetryDecoder.decode(bytes).body()).isEmpty();
  }

  private static Message randomMessage(Random r) {
    Message m = Message.Factory.create();
    if (r.nextBoolean()) {
      Header h = new Header();
      h.setDurable(r.nextBoolean());
      m.setHeader(h);
    }
    if (r.nextInt(4) == 0) {
      Map<Symbol, Object> da = new LinkedHashMap<>();
      da.put(Symbol.valueOf("x-opt"), "v");
      m.setDeliveryAnnotations(new DeliveryAnnotations(da));
    }
    if (r.nextInt(5) != 0) {
      Properties p = new Properties();
      p.setMessageId(randomId(r));
      p.setCorrelationId(randomId(r));
      if (r.nextBoolean()) {
        p.setUserId(new Binary(("user" + r.nextInt(100)).getBytes(UTF_8)));
      }
      if (r.nextBoolean()) {
        p.setTo("/devices/d" + r.nextInt(10) + "/messages/events");
      }
      if (r.nextBoolean()) {
        p.setSubject("s");
        p.setReplyTo("r");
      }
      if (r.nextBoolean()) {
        p.setContentType(Symbol.valueOf("application/json"));
      }
      if (r.nextBoolean()) {
        p.setContentEncoding(Symbol.valueOf("utf-8"));
      }
      if (r.nextBoolean()) {
        p.setAbsoluteExpiryTime(new Date(1_700_000_000_000L + r.nextInt(1_000_000)));
      }
      if (r.nextBoolean()) {
        p.setCreationTime(new Date(1_700_000_000_000L));
        p.setGroupId("g");
        p.setGroupSequence(UnsignedInteger.valueOf(3));
      }
      m.setProperties(p);
    }
    if (r.nextInt(4) != 0) {
      Map<String, Object> app = new LinkedHashMap<>();
      int n = r.nextInt(r.nextInt(10) == 0 ? 40 : 6);
      for (int i = 0; i < n; i++) {
        app.put(r.nextInt(10) == 0 ? "iothub-outputname" : "k" + i, randomValue(r));
      }
      m.setApplicationProperties(new ApplicationProperties(app));
    }
    int bodySize = r.nextInt(10) == 0 ? 300 + r.nextInt(2000) : r.nextInt(200);
    byte[] body = new byte[bodySize];
    r.nextBytes(body);
    if (r.nextInt(10) != 0) {
      m.setBody(new Data(new Binary(body)));
    }
    return m;
  }

  private static Object randomId(Random r) {
    switch (r.nextInt(6)) {
      case 0:
        return null;
      case 1:
        return UUID.randomUUID();
      case 2:
        return UnsignedLong.valueOf(r.nextLong() >>> r.nextInt(64));
      case 3:
        return new Binary(("bin-" + r.nextInt()).getBytes(UTF_8));
      case 4:
        return "x".repeat(r.nextInt(300));
      default:
        return "id-" + r.nextInt();
    }
  }

  private static Object randomValue(Random r) {
    switch (r.nextInt(17)) {
      case 0:
        return null;
      case 1:
        return r.nextBoolean();
      case 2:
        // Small values take the one-byte encodings (smallint, smalllong).
        return r.nextBoolean() ? r.nextInt() : r.nextInt(256) - 128;
      case 3:
        return r.nextBoolean() ? r.nextLong() : (long) (r.nextInt(256) - 128);
      case 4:
        return (short) r.nextInt();
      case 5:
        return (byte) r.nextInt();
      case 6:
        return UnsignedByte.valueOf((byte) r.nextInt());
      case 7:
        return UnsignedShort.valueOf((short) r.nextInt(65536));
      case 8:
        return UnsignedInteger.valueOf(r.nextInt() & 0xffffffffL);
      case 9:
        return UnsignedLong.valueOf(r.nextLong());
      case 10:
        return r.nextDouble() * 1000;
      case 11:
        return r.nextFloat();
      case 12:
        return new Date(r.nextInt(2_000_000_000) * 1000L);
      case 13:
        return UUID.randomUUID();
      case 14:
        return new Binary(("b" + r.nextInt()).getBytes(UTF_8));
      case 15:
        return Symbol.valueOf("sym" + r.nextInt(5));
      default:
        return "value-" + "y".repeat(r.nextInt(r.nextInt(10) == 0 ? 400 : 20));
    }
  }
}
