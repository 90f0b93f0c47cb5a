package io.herd.server.bulk.internal;

import io.vertx.core.buffer.Buffer;
import java.util.function.Consumer;

/**
 * Cuts a byte stream into numbered lines ({@code \n} or {@code \r\n}), dropping a UTF-8 byte order
 * mark before the first. A line longer than the limit is handed on without its text, so one bad
 * line costs neither memory nor the rest of the file.
 */
public final class LineSplitter {
  private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

  /**
   * One line.
   *
   * @param number 1-based
   * @param text the line without its end, null when it was longer than the limit
   * @param end bytes of the stream up to and including this line's end
   */
  public record Line(long number, Buffer text, long end) {}

  private final int maxLineBytes;
  private Buffer partial = Buffer.buffer();
  private boolean tooLong;
  private long number;
  private long offset;

  public LineSplitter(int maxLineBytes) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Hands the lines {@code data} completes to {@code sink}; keeps the rest for later. */
  public void feed(Buffer data, Consumer<Line> sink) {
    int from = 0;
    int len = data.length();
    for (int i = 0; i < len; i++) {
      if (data.getByte(i) == '\n') {
        append(data, from, i);
        offset += i + 1 - from;
        emit(sink);
        from = i + 1;
      }
    }
    append(data, from, len);
    offset += len - from;
  }

  /** At the end of the stream: hands on the last line when it had no line end. */
  public void finish(Consumer<Line> sink) {
    if (partial.length() > 0 || tooLong) {
      emit(sink);
    }
  }

  private void append(Buffer data, int from, int to) {
    if (tooLong || from == to) {
      return;
    }
    if (partial.length() + (to - from) > maxLineBytes + 1) { // + 1: room for a '\r'
      tooLong = true;
      partial = Buffer.buffer();
      return;
    }
    partial.appendBuffer(data, from, to - from);
  }

  private void emit(Consumer<Line> sink) {
    number++;
    Buffer text = null;
    if (!tooLong) {
      int end = partial.length();
      if (end > 0 && partial.getByte(end - 1) == '\r') {
        end--;
      }
      int start = number == 1 && startsWithBom(partial) ? BOM.length : 0;
      text = partial.getBuffer(start, Math.max(start, end));
    }
    partial = Buffer.buffer();
    tooLong = false;
    sink.accept(new Line(number, text, offset));
  }

  private static boolean startsWithBom(Buffer b) {
    if (b.length() < BOM.length) {
      return false;
    }
    for (int i = 0; i < BOM.length; i++) {
      if (b.getByte(i) != BOM[i]) {
        return false;
      }
    }
    return true;
  }
}
