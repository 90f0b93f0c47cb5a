package io.herd.adapter.amqp.internal;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * Deliveries the hub received and settled as accepted, kept until the next write and written as few
 * disposition frames as possible: one per run of consecutive delivery ids on a session (AMQP 1.0
 * §2.7.6: a disposition settles first..last). Under telemetry load the deliveries of one read are
 * settled together and in order, so one frame settles them all instead of one frame each.
 */
final class DispositionRanges {
  /** Bytes of one frame: every field has a fixed-width encoding. */
  static final int FRAME_BYTES = 30;

  private int[] channels = new int[8];
  private long[] firsts = new long[8];
  private long[] lasts = new long[8];
  private int count;

  boolean isEmpty() {
    return count == 0;
  }

  /** Adds delivery {@code id} (unsigned 32 bits) of the session on {@code channel}. */
  void add(int channel, long id) {
    int last = count - 1;
    if (last >= 0 && channels[last] == channel && lasts[last] + 1 == id) {
      lasts[last] = id;
      return;
    }
    if (count == channels.length) {
      channels = Arrays.copyOf(channels, count * 2);
      firsts = Arrays.copyOf(firsts, count * 2);
      lasts = Arrays.copyOf(lasts, count * 2);
    }
    channels[count] = channel;
    firsts[count] = id;
    lasts[count] = id;
    count++;
  }

  /** Bytes {@link #writeTo} writes. */
  int bytes() {
    return count * FRAME_BYTES;
  }

  /**
   * Writes the frames and forgets them: the receiver's role, first, last, settled, and the outcome
   * accepted (§3.4.2), batchable left at its default.
   */
  void writeTo(ByteBuf out) {
    for (int i = 0; i < count; i++) {
      out.writeInt(FRAME_BYTES);
      out.writeByte(2); // data offset in 4-byte words
      out.writeByte(0); // AMQP frame
      out.writeShort(channels[i]);
      out.writeByte(0x00).writeByte(0x53).writeByte(0x15); // disposition
      out.writeByte(0xc0).writeByte(17).writeByte(5); // list8: size, 5 fields
      out.writeByte(0x41); // role: receiver
      out.writeByte(0x70).writeInt((int) firsts[i]);
      out.writeByte(0x70).writeInt((int) lasts[i]);
      out.writeByte(0x41); // settled
      out.writeByte(0x00).writeByte(0x53).writeByte(0x24).writeByte(0x45); // accepted, no fields
    }
    count = 0;
  }
}
