package io.herd.core.amqp;

/**
 * The width of an AMQP 1.0 encoded value from its constructor byte (AMQP 1.0 §1.6.2: the high
 * nibble fixes it), for readers that skip values they do not need: the hub's telemetry decoder and
 * the load generator's frame reader.
 */
public final class AmqpConstructors {
  /** The value's size in bytes is the next byte. */
  public static final int SIZE_IN_ONE_BYTE = -1;

  /** The value's size in bytes is the next four bytes, big-endian. */
  public static final int SIZE_IN_FOUR_BYTES = -4;

  /** Not the constructor of a primitive type ({@code 0x00} starts a described value). */
  public static final int NOT_PRIMITIVE = -100;

  private AmqpConstructors() {}

  /**
   * Bytes after the constructor for the fixed-width categories (0, 1, 2, 4, 8 or 16), else {@link
   * #SIZE_IN_ONE_BYTE}, {@link #SIZE_IN_FOUR_BYTES} or {@link #NOT_PRIMITIVE}.
   */
  public static int width(int constructor) {
    switch ((constructor & 0xff) >>> 4) {
      case 0x4:
        return 0;
      case 0x5:
        return 1;
      case 0x6:
        return 2;
      case 0x7:
        return 4;
      case 0x8:
        return 8;
      case 0x9:
        return 16;
      case 0xa:
      case 0xc:
      case 0xe:
        return SIZE_IN_ONE_BYTE;
      case 0xb:
      case 0xd:
      case 0xf:
        return SIZE_IN_FOUR_BYTES;
      default:
        return NOT_PRIMITIVE;
    }
  }
}
