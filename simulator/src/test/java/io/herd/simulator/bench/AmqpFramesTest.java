package io.herd.simulator.bench;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.simulator.bench.AmqpFrames.DecodeException;
import io.herd.simulator.bench.AmqpFrames.Reader;
import io.herd.simulator.bench.AmqpFrames.TransferTemplate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.UnsignedByte;
import org.apache.qpid.proton.amqp.UnsignedInteger;
import org.apache.qpid.proton.amqp.UnsignedLong;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.messaging.Released;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.amqp.security.SaslInit;
import org.apache.qpid.proton.amqp.security.SaslOutcome;
import org.apache.qpid.proton.amqp.transport.Attach;
import org.apache.qpid.proton.amqp.transport.Begin;
import org.apache.qpid.proton.amqp.transport.Disposition;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.amqp.transport.Flow;
import org.apache.qpid.proton.amqp.transport.Open;
import org.apache.qpid.proton.amqp.transport.ReceiverSettleMode;
import org.apache.qpid.proton.amqp.transport.Role;
import org.apache.qpid.proton.amqp.transport.SenderSettleMode;
import org.apache.qpid.proton.amqp.transport.Transfer;
import org.apache.qpid.proton.codec.AMQPDefinedTypes;
import org.apache.qpid.proton.codec.DecoderImpl;
import org.apache.qpid.proton.codec.EncoderImpl;
import org.apache.qpid.proton.message.Message;
import org.junit.jupiter.api.Test;

/**
 * {@link AmqpFrames} against proton-j's codec: what it encodes, proton-j reads as meant; what
 * proton-j encodes (as the hub's engine does), it reads.
 */
class AmqpFramesTest {
  private final DecoderImpl decoder = new DecoderImpl();
  private final EncoderImpl encoder = new EncoderImpl(decoder);

  AmqpFramesTest() {
    AMQPDefinedTypes.registerAllTypes(decoder, encoder);
  }

  /** The performative of a frame, decoded by proton-j; checks the frame header on the way. */
  private Object performative(byte[] frame, int type, int channel) {
    ByteBuffer b = ByteBuffer.wrap(frame);
    assertThat(b.getInt(0)).isEqualTo(frame.length);
    assertThat(b.get(4)).isEqualTo((byte) 2);
    assertThat(b.get(5)).isEqualTo((byte) type);
    assertThat(b.getShort(6)).isEqualTo((short) channel);
    decoder.setByteBuffer(ByteBuffer.wrap(frame, 8, frame.length - 8));
    return decoder.readObject();
  }

  /** {@code value} as proton-j encodes it. */
  private ByteBuf encoded(Object value) {
    ByteBuffer out = ByteBuffer.allocate(64 * 1024);
    encoder.setByteBuffer(out);
    encoder.writeObject(value);
    out.flip();
    return Unpooled.wrappedBuffer(out);
  }

  private static Reader reader(ByteBuf b) {
    return new Reader().reset(b, b.readerIndex(), b.writerIndex());
  }

  @Test
  void saslInitOpenAndBeginDecodeAsSent() {
    SaslInit init = (SaslInit) performative(AmqpFrames.saslInit("ANONYMOUS", "hub.local"), 1, 0);
    assertThat((Object) init.getMechanism()).isEqualTo(Symbol.valueOf("ANONYMOUS"));
    assertThat(init.getHostname()).isEqualTo("hub.local");

    Open open = (Open) performative(AmqpFrames.open("c-1", "hub.local", 65536), 0, 0);
    assertThat(open.getContainerId()).isEqualTo("c-1");
    assertThat(open.getHostname()).isEqualTo("hub.local");
    assertThat(open.getMaxFrameSize()).isEqualTo(UnsignedInteger.valueOf(65536));
    assertThat(open.getIdleTimeOut()).isNull();

    Begin begin = (Begin) performative(AmqpFrames.begin(3, 0, 70_000, 2), 0, 3);
    assertThat(begin.getRemoteChannel()).isNull();
    assertThat(begin.getNextOutgoingId()).isEqualTo(UnsignedInteger.ZERO);
    assertThat(begin.getIncomingWindow()).isEqualTo(UnsignedInteger.valueOf(70_000));
    assertThat(begin.getOutgoingWindow()).isEqualTo(UnsignedInteger.valueOf(2));
  }

  @Test
  void attachOfASenderAsksForUnsettledTransfersAndCarriesTheClientVersion() {
    Attach a =
        (Attach)
            performative(
                AmqpFrames.attach(
                    0, "events", 2, false, "src", "/devices/d1/messages/events", "v1"),
                0,
                0);
    assertThat(a.getName()).isEqualTo("events");
    assertThat(a.getHandle()).isEqualTo(UnsignedInteger.valueOf(2));
    assertThat(a.getRole()).isEqualTo(Role.SENDER);
    assertThat(a.getSndSettleMode()).isEqualTo(SenderSettleMode.UNSETTLED);
    assertThat(a.getRcvSettleMode()).isEqualTo(ReceiverSettleMode.FIRST);
    assertThat(((Source) a.getSource()).getAddress()).isEqualTo("src");
    assertThat(((Target) a.getTarget()).getAddress()).isEqualTo("/devices/d1/messages/events");
    assertThat(a.getInitialDeliveryCount()).isEqualTo(UnsignedInteger.ZERO);
    assertThat(a.getProperties())
        .containsEntry(Symbol.valueOf("com.microsoft:client-version"), "v1");

    Attach r =
        (Attach) performative(AmqpFrames.attach(0, "cbs", 1, true, "$cbs", "cbs", "v1"), 0, 0);
    assertThat(r.getRole()).isEqualTo(Role.RECEIVER);
    assertThat(((Source) r.getSource()).getAddress()).isEqualTo("$cbs");
    assertThat(r.getInitialDeliveryCount()).isNull();
  }

  @Test
  void flowAndDispositionDecodeAsSent() {
    Flow f = (Flow) performative(AmqpFrames.flow(0, 7, 1_000_000, 300, 5, 1, 12, 64, true), 0, 0);
    assertThat(f.getNextIncomingId()).isEqualTo(UnsignedInteger.valueOf(7));
    assertThat(f.getIncomingWindow()).isEqualTo(UnsignedInteger.valueOf(1_000_000));
    assertThat(f.getNextOutgoingId()).isEqualTo(UnsignedInteger.valueOf(300));
    assertThat(f.getOutgoingWindow()).isEqualTo(UnsignedInteger.valueOf(5));
    assertThat(f.getHandle()).isEqualTo(UnsignedInteger.ONE);
    assertThat(f.getDeliveryCount()).isEqualTo(UnsignedInteger.valueOf(12));
    assertThat(f.getLinkCredit()).isEqualTo(UnsignedInteger.valueOf(64));
    assertThat(f.getDrain()).isTrue();

    Flow session = (Flow) performative(AmqpFrames.flow(0, 1, 2, 3, 4, -1, 0, 0, false), 0, 0);
    assertThat(session.getHandle()).isNull();
    assertThat(session.getLinkCredit()).isNull();

    Disposition d =
        (Disposition)
            performative(AmqpFrames.disposition(0, true, 4, 9, AmqpFrames.ACCEPTED), 0, 0);
    assertThat(d.getRole()).isEqualTo(Role.RECEIVER);
    assertThat(d.getFirst()).isEqualTo(UnsignedInteger.valueOf(4));
    assertThat(d.getLast()).isEqualTo(UnsignedInteger.valueOf(9));
    assertThat(d.getSettled()).isTrue();
    assertThat(d.getState()).isInstanceOf(Accepted.class);
  }

  @Test
  void transferTemplateWritesEachDeliveryWithItsIdTagAndMessageId() {
    byte[] body = AmqpBench.body(160);
    UUID base = new UUID(0x1234_5678_9abc_def0L, 0);
    TransferTemplate t =
        AmqpFrames.transfer(0, 2, AmqpFrames.telemetry(base, Map.of("k", "v"), body));
    ByteBuf out = Unpooled.buffer();
    t.write(out, 300, 41);
    t.write(out, 301, 42);
    assertThat(out.readableBytes()).isEqualTo(2 * t.bytes().length);

    for (int i = 0; i < 2; i++) {
      byte[] frame = new byte[t.bytes().length];
      out.readBytes(frame);
      Transfer tr = (Transfer) performative(frame, 0, 0);
      assertThat(tr.getHandle()).isEqualTo(UnsignedInteger.valueOf(2));
      assertThat(tr.getDeliveryId()).isEqualTo(UnsignedInteger.valueOf(300 + i));
      assertThat(tr.getDeliveryTag()).isEqualTo(new Binary(new byte[] {0, 0, 1, (byte) (44 + i)}));
      assertThat(tr.getSettled()).isFalse();
      assertThat(tr.getMore()).isFalse();
      assertThat(tr.getMessageFormat()).isEqualTo(UnsignedInteger.ZERO);

      // The message follows the performative, as the hub's engine hands it over.
      int payload = 8 + performativeLength(frame);
      Message m = Message.Factory.create();
      m.decode(frame, payload, frame.length - payload);
      assertThat(m.getMessageId()).isEqualTo(new UUID(base.getMostSignificantBits(), 41 + i));
      assertThat(m.getApplicationProperties().getValue()).containsEntry("k", "v");
      assertThat(((Data) m.getBody()).getValue()).isEqualTo(new Binary(body));
    }
  }

  /** Bytes of the performative of {@code frame}: where proton-j's decoder stopped. */
  private int performativeLength(byte[] frame) {
    ByteBuffer b = ByteBuffer.wrap(frame, 8, frame.length - 8);
    decoder.setByteBuffer(b);
    decoder.readObject();
    return b.position() - 8;
  }

  @Test
  void aBodyOfMoreThan255BytesTakesTheLongBinaryForm() {
    byte[] body = AmqpBench.body(1000);
    byte[] m = AmqpFrames.telemetry(UUID.randomUUID(), Map.of(), body).bytes();
    Message decoded = Message.Factory.create();
    decoded.decode(m, 0, m.length);
    assertThat(((Data) decoded.getBody()).getValue()).isEqualTo(new Binary(body));
  }

  @Test
  void putTokenIsTheRequestTheSdksSend() {
    byte[] m = AmqpFrames.putToken("id-1", "hub%2Fdevices%2Fd1", "SharedAccessSignature sr=x");
    Message decoded = Message.Factory.create();
    decoded.decode(m, 0, m.length);
    assertThat(decoded.getMessageId()).isEqualTo("id-1");
    assertThat(decoded.getAddress()).isEqualTo("$cbs");
    assertThat(decoded.getReplyTo()).isEqualTo("cbs");
    assertThat(decoded.getApplicationProperties().getValue())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "operation", "put-token",
                "type", "servicebus.windows.net:sastoken",
                "name", "hub%2Fdevices%2Fd1"));
    assertThat(((AmqpValue) decoded.getBody()).getValue()).isEqualTo("SharedAccessSignature sr=x");
  }

  @Test
  void readsADispositionRangeAsProtonJEncodesIt() {
    Disposition d = new Disposition();
    d.setRole(Role.RECEIVER);
    d.setFirst(UnsignedInteger.valueOf(70_000));
    d.setLast(UnsignedInteger.valueOf(70_015));
    d.setSettled(true);
    d.setState(Accepted.getInstance());
    Reader r = reader(encoded(d));
    assertThat(r.descriptor()).isEqualTo(AmqpFrames.DISPOSITION);
    int n = r.list();
    assertThat(n).isGreaterThanOrEqualTo(5);
    assertThat(r.bool(false)).isTrue();
    assertThat(r.uint(-1)).isEqualTo(70_000);
    assertThat(r.uint(-1)).isEqualTo(70_015);
    assertThat(r.bool(false)).isTrue();
    assertThat(r.state(false)).isEqualTo(AmqpFrames.ACCEPTED);
  }

  @Test
  void readsASingleDeliveryDispositionWithoutLast() {
    Disposition d = new Disposition();
    d.setRole(Role.RECEIVER);
    d.setFirst(UnsignedInteger.valueOf(3));
    d.setSettled(true);
    d.setState(Released.getInstance());
    Reader r = reader(encoded(d));
    r.descriptor();
    r.list();
    r.bool(false);
    assertThat(r.uint(-1)).isEqualTo(3);
    assertThat(r.uint(-1)).isEqualTo(-1);
    assertThat(r.bool(false)).isTrue();
    assertThat(r.state(false)).isEqualTo(AmqpFrames.RELEASED);
  }

  @Test
  void readsTheConditionOfARejection() {
    Disposition d = new Disposition();
    d.setRole(Role.RECEIVER);
    d.setFirst(UnsignedInteger.valueOf(1));
    d.setSettled(true);
    Rejected rejected = new Rejected();
    rejected.setError(
        new ErrorCondition(Symbol.valueOf("amqp:resource-limit-exceeded"), "queue full"));
    d.setState(rejected);
    Reader r = reader(encoded(d));
    r.descriptor();
    r.list();
    r.skip(4);
    assertThat(r.state(true)).isEqualTo(AmqpFrames.REJECTED);
    assertThat(r.rejection()).isEqualTo("amqp:resource-limit-exceeded (queue full)");
  }

  @Test
  void readsAFlowAsProtonJEncodesIt() {
    Flow f = new Flow();
    f.setNextIncomingId(UnsignedInteger.valueOf(5));
    f.setIncomingWindow(UnsignedInteger.valueOf(2_147_483_647));
    f.setNextOutgoingId(UnsignedInteger.ONE);
    f.setOutgoingWindow(UnsignedInteger.ZERO);
    f.setHandle(UnsignedInteger.valueOf(2));
    f.setDeliveryCount(UnsignedInteger.valueOf(4_000_000_000L));
    f.setLinkCredit(UnsignedInteger.valueOf(64));
    Reader r = reader(encoded(f));
    assertThat(r.descriptor()).isEqualTo(AmqpFrames.FLOW);
    int n = r.list();
    assertThat(n).isGreaterThanOrEqualTo(7);
    assertThat(r.uint(-1)).isEqualTo(5);
    assertThat(r.uint(-1)).isEqualTo(2_147_483_647L);
    assertThat(r.uint(-1)).isEqualTo(1);
    assertThat(r.uint(-1)).isEqualTo(0);
    assertThat(r.uint(-1)).isEqualTo(2);
    assertThat(r.uint(-1)).isEqualTo(4_000_000_000L);
    assertThat(r.uint(-1)).isEqualTo(64);
  }

  @Test
  void readsTheAttachAndSaslOutcomeOfTheHub() {
    Attach a = new Attach();
    a.setName("events");
    a.setHandle(UnsignedInteger.valueOf(9));
    a.setRole(Role.RECEIVER);
    a.setSndSettleMode(SenderSettleMode.UNSETTLED);
    a.setRcvSettleMode(ReceiverSettleMode.FIRST);
    a.setSource(new Source());
    a.setTarget(null);
    a.setMaxMessageSize(UnsignedLong.valueOf(327_680));
    Reader r = reader(encoded(a));
    assertThat(r.descriptor()).isEqualTo(AmqpFrames.ATTACH);
    r.list();
    assertThat(r.value()).isEqualTo("events");
    assertThat(r.value()).isEqualTo(9L);
    r.skip(3);
    assertThat(r.value()).isInstanceOf(AmqpFrames.Described.class);
    assertThat(r.value()).isNull();

    SaslOutcome o = new SaslOutcome();
    o.setCode(org.apache.qpid.proton.amqp.security.SaslCode.AUTH);
    Reader s = reader(encoded(o));
    assertThat(s.descriptor()).isEqualTo(AmqpFrames.SASL_OUTCOME);
    s.list();
    assertThat(s.uint(-1)).isEqualTo(1);
  }

  @Test
  void skipsAndReadsEveryKindOfValue() {
    Map<Object, Object> map = new LinkedHashMap<>();
    map.put("status-code", 200);
    map.put(Symbol.valueOf("sym"), "x".repeat(300));
    map.put("bytes", new Binary(new byte[300]));
    map.put("list", Arrays.asList(1L, (short) 2, (byte) 3, UnsignedByte.valueOf((byte) 4), null));
    map.put("array", new String[] {"a", "b"});
    map.put("uuid", new UUID(1, 2));
    map.put("time", new Date(1_000));
    map.put("double", 1.5);
    map.put("described", Accepted.getInstance());
    List<Object> values = List.of(map, "tail");
    ByteBuf b = encoded(values);
    Reader r = reader(b);
    r.skip();
    assertThat(r.position()).isEqualTo(b.writerIndex());

    Reader v = reader(b);
    @SuppressWarnings("unchecked")
    List<Object> decoded = (List<Object>) v.value();
    @SuppressWarnings("unchecked")
    Map<Object, Object> m = (Map<Object, Object>) decoded.get(0);
    assertThat(m.get("status-code")).isEqualTo(200);
    assertThat(m.get(new AmqpFrames.Symbol("sym"))).isEqualTo("x".repeat(300));
    assertThat((byte[]) m.get("bytes")).hasSize(300);
    assertThat(m.get("uuid")).isEqualTo(new UUID(1, 2));
    assertThat(decoded.get(1)).isEqualTo("tail");
  }

  @Test
  void refusesTruncatedInput() {
    Disposition d = new Disposition();
    d.setRole(Role.RECEIVER);
    d.setFirst(UnsignedInteger.valueOf(70_000));
    d.setState(Accepted.getInstance());
    ByteBuf whole = encoded(d);
    ByteBuf cut = whole.slice(0, whole.readableBytes() - 3);
    Reader r = reader(cut);
    r.descriptor();
    assertThatThrownBy(r::list).isInstanceOf(DecodeException.class);

    Reader s = reader(Unpooled.wrappedBuffer("AMQP".getBytes(UTF_8)));
    assertThatThrownBy(s::descriptor).isInstanceOf(DecodeException.class);
  }
}
