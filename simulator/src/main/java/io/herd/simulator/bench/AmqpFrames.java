package io.herd.simulator.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.herd.core.amqp.AmqpConstructors;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The few AMQP 1.0 frames {@link LeanAmqpBench} needs, encoded by hand, and a small decoder for
 * what the hub answers. Encoding follows the AMQP 1.0 type system (§1.6 of the spec): performatives
 * are described lists with numeric descriptors, written here as 32-bit lists; the decoder reads
 * every encoding a peer may choose (list0/list8/list32, the compact uint and ulong forms, symbol
 * descriptors are not used by proton-j and are refused).
 *
 * <p>Per message the generator only copies a pre-encoded transfer frame and patches its delivery
 * id, delivery tag and message id ({@link TransferTemplate}); flow and disposition frames are read
 * field by field from the input buffer without allocating.
 */
final class AmqpFrames {
  private AmqpFrames() {}

  // Performatives (AMQP 1.0 §2.7) and SASL frames (§5.3.3).
  static final int OPEN = 0x10;
  static final int BEGIN = 0x11;
  static final int ATTACH = 0x12;
  static final int FLOW = 0x13;
  static final int TRANSFER = 0x14;
  static final int DISPOSITION = 0x15;
  static final int DETACH = 0x16;
  static final int END = 0x17;
  static final int CLOSE = 0x18;
  static final int SASL_MECHANISMS = 0x40;
  static final int SASL_INIT = 0x41;
  static final int SASL_OUTCOME = 0x44;

  // Delivery states (§3.4) and other described types.
  static final int RECEIVED = 0x23;
  static final int ACCEPTED = 0x24;
  static final int REJECTED = 0x25;
  static final int RELEASED = 0x26;
  static final int MODIFIED = 0x27;
  static final int SOURCE = 0x28;
  static final int TARGET = 0x29;
  static final int ERROR = 0x1d;

  // Message sections (§3.2).
  static final int PROPERTIES = 0x73;
  static final int APPLICATION_PROPERTIES = 0x74;
  static final int DATA = 0x75;
  static final int AMQP_VALUE = 0x77;

  /** No descriptor, or a null field. */
  static final int NONE = -1;

  static final int FRAME_AMQP = 0;
  static final int FRAME_SASL = 1;

  /** Protocol headers (§2.2, §5.3.1). */
  static final byte[] AMQP_HEADER = {'A', 'M', 'Q', 'P', 0, 1, 0, 0};

  static final byte[] SASL_HEADER = {'A', 'M', 'Q', 'P', 3, 1, 0, 0};

  /** An empty frame: a heartbeat (§2.4.5). */
  static final byte[] EMPTY_FRAME = {0, 0, 0, 8, 2, 0, 0, 0};

  /** The largest uint, as a long. */
  static final long UINT_MAX = 0xFFFF_FFFFL;

  // ---- encoding

  /** Appends AMQP-encoded values to a growing byte array. */
  static final class Writer {
    private byte[] bytes = new byte[256];
    private int size;
    private final int[] lists = new int[8];
    private int depth;

    int size() {
      return size;
    }

    byte[] toByteArray() {
      return Arrays.copyOf(bytes, size);
    }

    private void ensure(int n) {
      if (size + n > bytes.length) {
        bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + n));
      }
    }

    Writer u8(int v) {
      ensure(1);
      bytes[size++] = (byte) v;
      return this;
    }

    Writer u16(int v) {
      return u8(v >>> 8).u8(v);
    }

    Writer u32(long v) {
      return u16((int) (v >>> 16) & 0xFFFF).u16((int) v & 0xFFFF);
    }

    Writer raw(byte[] b) {
      ensure(b.length);
      System.arraycopy(b, 0, bytes, size, b.length);
      size += b.length;
      return this;
    }

    void setU32(int at, long v) {
      bytes[at] = (byte) (v >>> 24);
      bytes[at + 1] = (byte) (v >>> 16);
      bytes[at + 2] = (byte) (v >>> 8);
      bytes[at + 3] = (byte) v;
    }

    Writer nul() {
      return u8(0x40);
    }

    Writer bool(boolean v) {
      return u8(v ? 0x41 : 0x42);
    }

    Writer ubyte(int v) {
      return u8(0x50).u8(v);
    }

    Writer ushort(int v) {
      return u8(0x60).u16(v);
    }

    /** A uint in its shortest form. */
    Writer uint(long v) {
      if (v == 0) {
        return u8(0x43);
      }
      if (v < 256) {
        return u8(0x52).u8((int) v);
      }
      return u8(0x70).u32(v);
    }

    /** A uint always in 4 bytes, e.g. a field patched later; returns where its value starts. */
    int uint32() {
      u8(0x70);
      int at = size;
      u32(0);
      return at;
    }

    Writer string(String s) {
      return variable(0xa1, s.getBytes(UTF_8));
    }

    Writer symbol(String s) {
      return variable(0xa3, s.getBytes(UTF_8));
    }

    Writer binary(byte[] b) {
      return variable(0xa0, b);
    }

    /** A string, symbol or binary: {@code code8} for up to 255 bytes, its 32-bit twin above. */
    private Writer variable(int code8, byte[] b) {
      if (b.length < 256) {
        u8(code8).u8(b.length);
      } else {
        u8(code8 + 0x10).u32(b.length);
      }
      return raw(b);
    }

    Writer uuid(UUID id) {
      u8(0x98);
      u32(id.getMostSignificantBits() >>> 32).u32(id.getMostSignificantBits());
      return u32(id.getLeastSignificantBits() >>> 32).u32(id.getLeastSignificantBits());
    }

    /** A described value's descriptor: a small ulong. The value follows. */
    Writer descriptor(int code) {
      return u8(0x00).u8(0x53).u8(code);
    }

    /** Starts a list32 (or, with {@code map}, a map32); {@link #end} closes it. */
    Writer begin(boolean map) {
      u8(map ? 0xd1 : 0xd0);
      lists[depth++] = size;
      return u32(0).u32(0);
    }

    Writer beginList() {
      return begin(false);
    }

    Writer beginMap() {
      return begin(true);
    }

    /** Closes the innermost list or map holding {@code count} elements (a map: keys and values). */
    Writer end(int count) {
      int at = lists[--depth];
      setU32(at, size - at - 4);
      setU32(at + 4, count);
      return this;
    }
  }

  /** An AMQP frame ({@code type} 0) or SASL frame (1) holding the performative in {@code body}. */
  static byte[] frame(int type, int channel, Writer body) {
    Writer w = new Writer();
    w.u32(8 + body.size()).u8(2).u8(type).u16(channel);
    w.raw(body.toByteArray());
    return w.toByteArray();
  }

  static byte[] saslInit(String mechanism, String hostname) {
    Writer w = new Writer().descriptor(SASL_INIT).beginList();
    w.symbol(mechanism).nul().string(hostname);
    return frame(FRAME_SASL, 0, w.end(3));
  }

  /** Open (§2.7.1): no idle timeout of ours, so the hub sends no heartbeats. */
  static byte[] open(String containerId, String hostname, long maxFrameSize) {
    Writer w = new Writer().descriptor(OPEN).beginList();
    w.string(containerId).string(hostname).uint(maxFrameSize).ushort(0xFFFF);
    return frame(FRAME_AMQP, 0, w.end(4));
  }

  /** Begin (§2.7.2) of a session the client starts. */
  static byte[] begin(int channel, long nextOutgoingId, long incomingWindow, long outgoingWindow) {
    Writer w = new Writer().descriptor(BEGIN).beginList();
    w.nul().uint(nextOutgoingId).uint(incomingWindow).uint(outgoingWindow);
    return frame(FRAME_AMQP, channel, w.end(4));
  }

  /**
   * Attach (§2.7.3). A sender sends its messages unsettled and lets the receiver settle first (the
   * QoS 1 equivalent the Azure SDKs use for telemetry); a receiver leaves the hub's settlement mode
   * to the hub. Every link carries {@code com.microsoft:client-version} as the SDKs' do (wire
   * §3.1).
   */
  static byte[] attach(
      int channel,
      String name,
      long handle,
      boolean receiver,
      String source,
      String target,
      String clientVersion) {
    Writer w = new Writer().descriptor(ATTACH).beginList();
    w.string(name).uint(handle).bool(receiver);
    if (receiver) {
      w.nul().nul();
    } else {
      w.ubyte(0).ubyte(0); // snd-settle-mode unsettled, rcv-settle-mode first
    }
    w.descriptor(SOURCE).beginList().string(source).end(1);
    w.descriptor(TARGET).beginList().string(target).end(1);
    w.nul().bool(false); // unsettled, incomplete-unsettled
    if (receiver) {
      w.nul();
    } else {
      w.uint(0); // initial-delivery-count
    }
    w.nul().nul().nul(); // max-message-size, offered and desired capabilities
    w.beginMap().symbol("com.microsoft:client-version").string(clientVersion).end(2);
    return frame(FRAME_AMQP, channel, w.end(14));
  }

  /** Flow (§2.7.4) of the session and, with {@code handle} >= 0, of one link. */
  static byte[] flow(
      int channel,
      long nextIncomingId,
      long incomingWindow,
      long nextOutgoingId,
      long outgoingWindow,
      long handle,
      long deliveryCount,
      long linkCredit,
      boolean drain) {
    Writer w = new Writer().descriptor(FLOW).beginList();
    w.uint(nextIncomingId).uint(incomingWindow).uint(nextOutgoingId).uint(outgoingWindow);
    if (handle < 0) {
      return frame(FRAME_AMQP, channel, w.end(4));
    }
    w.uint(handle).uint(deliveryCount).uint(linkCredit).nul().bool(drain);
    return frame(FRAME_AMQP, channel, w.end(9));
  }

  /**
   * Disposition (§2.7.6) settling {@code first..last} with an outcome (a descriptor, e.g.
   * ACCEPTED).
   */
  static byte[] disposition(int channel, boolean receiver, long first, long last, int outcome) {
    Writer w = new Writer().descriptor(DISPOSITION).beginList();
    w.bool(receiver).uint(first).uint(last).bool(true);
    w.descriptor(outcome).beginList().end(0);
    return frame(FRAME_AMQP, channel, w.end(5));
  }

  static byte[] close() {
    return frame(FRAME_AMQP, 0, new Writer().descriptor(CLOSE).beginList().end(0));
  }

  /**
   * A single-frame transfer (§2.7.5) of {@code message}, unsettled, with its delivery id, delivery
   * tag and message number to patch.
   */
  static TransferTemplate transfer(int channel, long handle, EncodedMessage message) {
    Writer w = new Writer();
    w.u32(0).u8(2).u8(FRAME_AMQP).u16(channel);
    w.descriptor(TRANSFER).beginList();
    w.uint(handle);
    int deliveryId = w.uint32();
    w.u8(0xa0).u8(4);
    int tag = w.size();
    w.u32(0);
    w.uint(0).bool(false); // message-format 0, not settled
    w.end(5);
    int number = message.numberAt() < 0 ? -1 : w.size() + message.numberAt();
    w.raw(message.bytes());
    w.setU32(0, w.size());
    return new TransferTemplate(w.toByteArray(), deliveryId, tag, number);
  }

  /**
   * A transfer frame to copy per message, with the offsets of its 4-byte delivery id, its 4-byte
   * delivery tag (the delivery id: unique among the link's unsettled deliveries) and the 8 bytes
   * that number the message (-1: none).
   */
  record TransferTemplate(byte[] bytes, int deliveryIdAt, int tagAt, int numberAt) {
    /** Appends the frame of delivery {@code deliveryId}, message {@code number}, to {@code out}. */
    void write(ByteBuf out, int deliveryId, long number) {
      int start = out.writerIndex();
      out.writeBytes(bytes);
      out.setInt(start + deliveryIdAt, deliveryId);
      out.setInt(start + tagAt, deliveryId);
      if (numberAt >= 0) {
        out.setLong(start + numberAt, number);
      }
    }
  }

  /**
   * A device's telemetry message as the Azure SDKs send it (wire §3.4): the properties section with
   * a {@code message-id} (a UUID-shaped id goes as an AMQP uuid), optional application properties,
   * and the body as a data section. Returns the bytes and where the message id's last 8 bytes are,
   * to patch a per-message number into.
   */
  static EncodedMessage telemetry(UUID messageId, Map<String, String> properties, byte[] body) {
    Writer w = new Writer();
    w.descriptor(PROPERTIES).beginList();
    int id = w.size() + 9;
    w.uuid(messageId).end(1);
    if (!properties.isEmpty()) {
      w.descriptor(APPLICATION_PROPERTIES).beginMap();
      properties.forEach((k, v) -> w.string(k).string(v));
      w.end(properties.size() * 2);
    }
    w.descriptor(DATA).binary(body);
    return new EncodedMessage(w.toByteArray(), id);
  }

  /** An encoded message and the offset of the 8 bytes that number it. */
  record EncodedMessage(byte[] bytes, int numberAt) {}

  /**
   * A CBS put-token request (wire §3.2): {@code to "$cbs"}, {@code reply_to "cbs"}, the operation,
   * token type and audience as application properties, the token as an AMQP string value.
   */
  static byte[] putToken(String messageId, String audience, String token) {
    Writer w = new Writer();
    w.descriptor(PROPERTIES).beginList();
    w.string(messageId).nul().string("$cbs").nul().string("cbs").end(5);
    w.descriptor(APPLICATION_PROPERTIES).beginMap();
    w.string("operation").string("put-token");
    w.string("type").string("servicebus.windows.net:sastoken");
    w.string("name").string(audience);
    w.end(6);
    w.descriptor(AMQP_VALUE).string(token);
    return w.toByteArray();
  }

  // ---- decoding

  /** Thrown when the input is not the AMQP the decoder expects. */
  static final class DecodeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DecodeException(String message) {
      super(message, null, false, false);
    }
  }

  /** A symbol value as decoded, to tell it apart from a string. */
  record Symbol(String name) {
    @Override
    public String toString() {
      return name;
    }
  }

  /** A described value other than a known performative: its numeric descriptor and value. */
  record Described(long descriptor, Object value) {}

  /**
   * Reads AMQP values from a region of a {@link ByteBuf} without moving its indices. A list is read
   * by {@link #list}, which returns how many fields it holds; the caller reads them in order and
   * may stop early. Reading does not allocate unless a value is an object (strings, maps, ...).
   */
  static final class Reader {
    private ByteBuf buf;
    private int pos;
    private int end;
    private int listEnd;

    /** Reads {@code buf[from, to)}. */
    Reader reset(ByteBuf buf, int from, int to) {
      this.buf = buf;
      this.pos = from;
      this.end = to;
      return this;
    }

    ByteBuf buffer() {
      return buf;
    }

    int position() {
      return pos;
    }

    /** Where the list last opened by {@link #list} ends: e.g. a transfer's payload starts there. */
    int listEnd() {
      return listEnd;
    }

    int end() {
      return end;
    }

    private int u8() {
      if (pos >= end) {
        throw new DecodeException("truncated value");
      }
      return buf.getUnsignedByte(pos++);
    }

    private int u16() {
      need(2);
      int v = buf.getUnsignedShort(pos);
      pos += 2;
      return v;
    }

    private long u32() {
      need(4);
      long v = buf.getUnsignedInt(pos);
      pos += 4;
      return v;
    }

    private long u64() {
      need(8);
      long v = buf.getLong(pos);
      pos += 8;
      return v;
    }

    private void need(int n) {
      if (end - pos < n) {
        throw new DecodeException("truncated value");
      }
    }

    /**
     * The descriptor of a described value with a numeric descriptor; {@link #NONE} for null. The
     * described value follows.
     */
    int descriptor() {
      int c = u8();
      if (c == 0x40) {
        return NONE;
      }
      if (c != 0x00) {
        throw new DecodeException("expected a described value, found constructor 0x" + hex(c));
      }
      int d = u8();
      switch (d) {
        case 0x53:
          return u8();
        case 0x44:
          return 0;
        case 0x80:
          long v = u64();
          if (v < 0 || v > Integer.MAX_VALUE) {
            throw new DecodeException("descriptor out of range: " + v);
          }
          return (int) v;
        default:
          throw new DecodeException("unsupported descriptor constructor 0x" + hex(d));
      }
    }

    /** The element count of a list (list0, list8, list32); -1 for null. */
    int list() {
      int c = u8();
      switch (c) {
        case 0x40:
          listEnd = pos;
          return -1;
        case 0x45:
          listEnd = pos;
          return 0;
        case 0xc0:
          {
            int size = u8();
            need(size);
            listEnd = pos + size;
            return u8();
          }
        case 0xd0:
          {
            long size = u32();
            need((int) Math.min(Integer.MAX_VALUE, size));
            listEnd = pos + (int) size;
            return (int) u32();
          }
        default:
          throw new DecodeException("expected a list, found constructor 0x" + hex(c));
      }
    }

    /** A uint, ushort, ubyte or ulong that fits a long; {@code ifNull} for null. */
    long uint(long ifNull) {
      int c = u8();
      switch (c) {
        case 0x40:
          return ifNull;
        case 0x43:
        case 0x44:
          return 0;
        case 0x52:
        case 0x53:
        case 0x50:
          return u8();
        case 0x60:
          return u16();
        case 0x70:
          return u32();
        case 0x80:
          return u64();
        default:
          throw new DecodeException("expected an unsigned integer, found constructor 0x" + hex(c));
      }
    }

    boolean bool(boolean ifNull) {
      int c = u8();
      switch (c) {
        case 0x40:
          return ifNull;
        case 0x41:
          return true;
        case 0x42:
          return false;
        case 0x56:
          return u8() != 0;
        default:
          throw new DecodeException("expected a boolean, found constructor 0x" + hex(c));
      }
    }

    /** Skips one value of any type. */
    void skip() {
      int c = u8();
      if (c == 0x00) {
        skip(); // the descriptor
        skip(); // the value
        return;
      }
      int width = AmqpConstructors.width(c);
      if (width == AmqpConstructors.SIZE_IN_ONE_BYTE) {
        width = u8();
      } else if (width == AmqpConstructors.SIZE_IN_FOUR_BYTES) {
        long w = u32();
        if (w > end - pos) {
          throw new DecodeException("truncated value");
        }
        width = (int) w;
      } else if (width == AmqpConstructors.NOT_PRIMITIVE) {
        throw new DecodeException("unknown constructor 0x" + hex(c));
      }
      need(width);
      pos += width;
    }

    /** Skips {@code n} values. */
    void skip(int n) {
      for (int i = 0; i < n; i++) {
        skip();
      }
    }

    /**
     * One value as a Java object: null, Boolean, Long (unsigned integers), Integer (int, short,
     * byte), String, {@link Symbol}, byte[] (binary), UUID, List, Map or {@link Described}. For the
     * rare frames (attach, errors, CBS answers), not for the per-message ones.
     */
    Object value() {
      int c = u8();
      switch (c) {
        case 0x00:
          {
            Object d = value();
            Object v = value();
            if (!(d instanceof Long code)) {
              throw new DecodeException("unsupported descriptor " + d);
            }
            return new Described(code, v);
          }
        case 0x40:
          return null;
        case 0x41:
          return true;
        case 0x42:
          return false;
        case 0x56:
          return u8() != 0;
        case 0x43:
        case 0x44:
          return 0L;
        case 0x50:
        case 0x52:
        case 0x53:
          return (long) u8();
        case 0x60:
          return (long) u16();
        case 0x70:
          return u32();
        case 0x80:
          return u64();
        case 0x51:
        case 0x54:
          return (int) (byte) u8();
        case 0x61:
          return (int) (short) u16();
        case 0x71:
          return (int) u32();
        case 0x81:
          return u64();
        case 0x98:
          {
            long hi = u64();
            long lo = u64();
            return new UUID(hi, lo);
          }
        case 0xa0:
          return bytes(u8());
        case 0xb0:
          return bytes(length());
        case 0xa1:
          return new String(bytes(u8()), UTF_8);
        case 0xb1:
          return new String(bytes(length()), UTF_8);
        case 0xa3:
          return new Symbol(new String(bytes(u8()), UTF_8));
        case 0xb3:
          return new Symbol(new String(bytes(length()), UTF_8));
        case 0x45:
          return List.of();
        case 0xc0:
          u8();
          return elements(u8());
        case 0xd0:
          u32();
          return elements(length());
        case 0xc1:
          u8();
          return entries(u8());
        case 0xd1:
          u32();
          return entries(length());
        default:
          pos--;
          skip();
          return new Described(-1, "unsupported constructor 0x" + hex(c));
      }
    }

    private int length() {
      long n = u32();
      if (n > end - pos) {
        throw new DecodeException("truncated value");
      }
      return (int) n;
    }

    private byte[] bytes(int n) {
      need(n);
      byte[] b = new byte[n];
      buf.getBytes(pos, b);
      pos += n;
      return b;
    }

    private List<Object> elements(int n) {
      List<Object> out = new ArrayList<>(Math.min(n, 64));
      for (int i = 0; i < n; i++) {
        out.add(value());
      }
      return out;
    }

    private Map<Object, Object> entries(int n) {
      if (n % 2 != 0) {
        throw new DecodeException("a map with an odd number of elements: " + n);
      }
      Map<Object, Object> out = new LinkedHashMap<>();
      for (int i = 0; i < n; i += 2) {
        Object k = value();
        out.put(k, value());
      }
      return out;
    }

    /**
     * A delivery state or outcome (§3.4): its descriptor ({@link #ACCEPTED}, {@link #REJECTED},
     * ...), {@link #NONE} for null. The state's fields are skipped unless {@code keepFields}: then
     * read them next, e.g. a rejection's error with {@link #rejection}.
     */
    int state(boolean keepFields) {
      int d = descriptor();
      if (d != NONE && !keepFields) {
        skip();
      }
      return d;
    }

    /**
     * A rejected outcome's error (§3.4.2), read after {@link #state} with {@code keepFields}: its
     * condition and description, "no error" when absent.
     */
    String rejection() {
      return list() < 1 ? "no error" : error();
    }

    /** An error field (§2.8.14): its condition and description, "no error" for null. */
    String error() {
      int d = descriptor();
      if (d == NONE) {
        return "no error";
      }
      if (d != ERROR) {
        return "unexpected error descriptor 0x" + hex(d);
      }
      int fields = list();
      Object condition = fields > 0 ? value() : null;
      Object description = fields > 1 ? value() : null;
      return description == null ? String.valueOf(condition) : condition + " (" + description + ")";
    }
  }

  private static String hex(int c) {
    return Integer.toHexString(c);
  }
}
