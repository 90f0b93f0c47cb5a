package io.herd.adapter.amqp.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.qpid.proton.amqp.UnsignedInteger;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.transport.Disposition;
import org.apache.qpid.proton.amqp.transport.Role;
import org.apache.qpid.proton.codec.AMQPDefinedTypes;
import org.apache.qpid.proton.codec.DecoderImpl;
import org.apache.qpid.proton.codec.EncoderImpl;
import org.junit.jupiter.api.Test;

/** The frames of {@link DispositionRanges}, read back with proton-j's decoder. */
class DispositionRangesTest {

  /** A disposition frame as read: its channel and performative. */
  private record Frame(int channel, Disposition disposition) {}

  private static List<Frame> read(DispositionRanges ranges) {
    ByteBuf out = Unpooled.buffer();
    int expected = ranges.bytes();
    ranges.writeTo(out);
    assertThat(out.readableBytes()).isEqualTo(expected);
    DecoderImpl decoder = new DecoderImpl();
    AMQPDefinedTypes.registerAllTypes(decoder, new EncoderImpl(decoder));
    List<Frame> frames = new ArrayList<>();
    while (out.isReadable()) {
      int size = out.readInt();
      assertThat(size).isEqualTo(DispositionRanges.FRAME_BYTES);
      assertThat(out.readByte()).isEqualTo((byte) 2);
      assertThat(out.readByte()).isEqualTo((byte) 0);
      int channel = out.readUnsignedShort();
      byte[] body = new byte[size - 8];
      out.readBytes(body);
      ByteBuffer b = ByteBuffer.wrap(body);
      decoder.setByteBuffer(b);
      frames.add(new Frame(channel, (Disposition) decoder.readObject()));
      assertThat(b.hasRemaining()).isFalse();
    }
    return frames;
  }

  private static void assertRange(Frame f, int channel, long first, long last) {
    assertThat(f.channel()).isEqualTo(channel);
    Disposition d = f.disposition();
    assertThat(d.getRole()).isEqualTo(Role.RECEIVER);
    assertThat(d.getFirst()).isEqualTo(UnsignedInteger.valueOf(first));
    assertThat(d.getLast()).isEqualTo(UnsignedInteger.valueOf(last));
    assertThat(d.getSettled()).isTrue();
    assertThat(d.getState()).isInstanceOf(Accepted.class);
    assertThat(d.getBatchable()).isFalse();
  }

  @Test
  void consecutiveDeliveriesOfASessionTakeOneFrame() {
    DispositionRanges r = new DispositionRanges();
    for (long id = 7; id <= 22; id++) {
      r.add(0, id);
    }
    List<Frame> frames = read(r);
    assertThat(frames).hasSize(1);
    assertRange(frames.get(0), 0, 7, 22);
    assertThat(r.isEmpty()).isTrue();
  }

  @Test
  void aGapAnotherSessionOrAWrapStartsAnotherFrame() {
    DispositionRanges r = new DispositionRanges();
    r.add(0, 1);
    r.add(0, 2);
    r.add(0, 4);
    r.add(3, 5);
    r.add(0, 5);
    r.add(0, 0xFFFF_FFFFL);
    r.add(0, 0);
    for (int i = 0; i < 20; i++) {
      r.add(1, 100 + 2 * i); // more frames than the first arrays hold
    }
    List<Frame> frames = read(r);
    assertThat(frames).hasSize(26);
    assertRange(frames.get(0), 0, 1, 2);
    assertRange(frames.get(1), 0, 4, 4);
    assertRange(frames.get(2), 3, 5, 5);
    assertRange(frames.get(3), 0, 5, 5);
    assertRange(frames.get(4), 0, 0xFFFF_FFFFL, 0xFFFF_FFFFL);
    assertRange(frames.get(5), 0, 0, 0);
    assertRange(frames.get(25), 1, 138, 138);
  }
}
