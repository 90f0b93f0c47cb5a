package io.herd.core.twin;

import io.herd.core.Timestamps;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Renders twins as the service API shows them ({@link TwinJson#twin}) straight into one growing
 * byte array: the bytes the encoded {@code JsonObject} tree gives (compact, strings escaped as
 * Jackson escapes them: quote, backslash, control characters and surrogates), without building the
 * tree or a generator's per-character checks; for twin reads and query pages of a thousand twins.
 * The {@code $lastUpdated} stamps of a twin mostly repeat, so the last one is rendered once and
 * copied. One writer per response; not thread-safe.
 */
public final class TwinJsonWriter {
  private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NULL = bytes("null");
  private static final byte[] TRUE = bytes("true");
  private static final byte[] FALSE = bytes("false");
  private static final byte[] DEVICE_ID = bytes("{\"deviceId\":");
  private static final byte[] MODULE_ID = bytes(",\"moduleId\":");
  private static final byte[] ETAG = bytes(",\"etag\":");
  private static final byte[] DEVICE_ETAG = bytes(",\"deviceEtag\":");
  private static final byte[] STATUS = bytes(",\"status\":");
  private static final byte[] STATUS_UPDATE_TIME = bytes(",\"statusUpdateTime\":");
  private static final byte[] CONNECTION_STATE = bytes(",\"connectionState\":");
  private static final byte[] LAST_ACTIVITY_TIME = bytes(",\"lastActivityTime\":");
  private static final byte[] C2D_COUNT = bytes(",\"cloudToDeviceMessageCount\":");
  private static final byte[] AUTHENTICATION_TYPE = bytes(",\"authenticationType\":");
  private static final byte[] PRIMARY = bytes(",\"x509Thumbprint\":{\"primaryThumbprint\":");
  private static final byte[] SECONDARY = bytes(",\"secondaryThumbprint\":");
  private static final byte[] MODEL_ID = bytes("},\"modelId\":");
  private static final byte[] VERSION = bytes(",\"version\":");
  private static final byte[] TAGS = bytes(",\"tags\":");
  private static final byte[] DESIRED = bytes(",\"properties\":{\"desired\":");
  private static final byte[] REPORTED = bytes(",\"reported\":");
  private static final byte[] CAPABILITIES = bytes(",\"capabilities\":{\"iotEdge\":");
  private static final byte[] METADATA = bytes("\"$metadata\":");
  private static final byte[] SECTION_VERSION = bytes(",\"$version\":");
  private static final byte[] LAST_UPDATED = bytes("{\"$lastUpdated\":\"");
  private static final byte[] LAST_UPDATED_VERSION = bytes(",\"$lastUpdatedVersion\":");

  private byte[] buf;
  private int len;
  private long stampTicks = Long.MIN_VALUE;
  private final byte[] stamp = new byte[32];
  private int stampLength;

  public TwinJsonWriter(int capacity) {
    buf = new byte[Math.max(64, capacity)];
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /** The bytes written so far. */
  public int length() {
    return len;
  }

  /** A copy of the bytes written so far. */
  public byte[] toByteArray() {
    return Arrays.copyOf(buf, len);
  }

  /** Forgets what was written, keeping the array for the next twin. */
  public TwinJsonWriter reset() {
    len = 0;
    return this;
  }

  /** The bytes written so far, as a Buffer. */
  public Buffer toBuffer() {
    return Buffer.buffer(len).appendBytes(buf, 0, len);
  }

  /** Appends one byte (a bracket or comma between rendered values). */
  public TwinJsonWriter raw(char c) {
    ensure(1);
    buf[len++] = (byte) c;
    return this;
  }

  /** Appends bytes that are already JSON. */
  public TwinJsonWriter raw(byte[] json) {
    put(json);
    return this;
  }

  /** Appends a twin as {@link TwinJson#write} renders it. */
  public TwinJsonWriter twin(Twin t) {
    TwinIdentity id = t.identity();
    put(DEVICE_ID);
    string(t.key().deviceId());
    if (t.key().isModule()) {
      put(MODULE_ID);
      string(t.key().moduleId());
    }
    put(ETAG);
    string(t.etag());
    put(DEVICE_ETAG);
    string(id.deviceEtag());
    put(STATUS);
    string(id.status());
    put(STATUS_UPDATE_TIME);
    string(Timestamps.format(id.statusUpdateTime()));
    put(CONNECTION_STATE);
    string(id.connectionState());
    put(LAST_ACTIVITY_TIME);
    string(Timestamps.format(id.lastActivityTime()));
    put(C2D_COUNT);
    number(id.cloudToDeviceMessageCount());
    put(AUTHENTICATION_TYPE);
    string(id.authenticationType());
    put(PRIMARY);
    string(id.primaryThumbprint());
    put(SECONDARY);
    string(id.secondaryThumbprint());
    put(MODEL_ID);
    string(id.modelId() == null ? "" : id.modelId());
    put(VERSION);
    number(t.version());
    put(TAGS);
    object(t.tags());
    put(DESIRED);
    section(t.desired(), t.desiredVersion());
    put(REPORTED);
    section(t.reported(), t.reportedVersion());
    raw('}');
    if (!t.key().isModule()) {
      put(CAPABILITIES);
      put(id.iotEdge() ? TRUE : FALSE);
      raw('}');
    }
    raw('}');
    return this;
  }

  private void section(TwinNode node, long version) {
    raw('{');
    members(node);
    if (node.size() > 0) {
      raw(',');
    }
    put(METADATA);
    metadata(node, node.selfUpdated(), node.selfVersion());
    put(SECTION_VERSION);
    number(version);
    raw('}');
  }

  private void object(TwinNode node) {
    raw('{');
    members(node);
    raw('}');
  }

  private void members(TwinNode node) {
    for (int i = 0; i < node.size(); i++) {
      if (i > 0) {
        raw(',');
      }
      string(node.key(i));
      raw(':');
      value(node.value(i));
    }
  }

  private void value(Object v) {
    if (v == null) {
      put(NULL);
    } else if (v instanceof String s) {
      string(s);
    } else if (v instanceof Long l) {
      number(l);
    } else if (v instanceof Double d) {
      doubleNumber(d);
    } else if (v instanceof Boolean b) {
      put(b ? TRUE : FALSE);
    } else if (v instanceof TwinNode n) {
      object(n);
    } else if (v instanceof TwinArray a) {
      raw('[');
      for (int i = 0; i < a.size(); i++) {
        if (i > 0) {
          raw(',');
        }
        value(a.get(i));
      }
      raw(']');
    } else {
      throw new IllegalArgumentException("not a twin value: " + v.getClass());
    }
  }

  private void metadata(TwinNode node, long updated, long version) {
    put(LAST_UPDATED);
    stamp(updated);
    raw('"');
    if (node.tracksVersions()) {
      put(LAST_UPDATED_VERSION);
      number(version);
    }
    for (int i = 0; i < node.size(); i++) {
      raw(',');
      string(node.key(i));
      raw(':');
      if (node.value(i) instanceof TwinNode child) {
        metadata(child, node.updated(i), node.updatedVersion(i));
      } else {
        put(LAST_UPDATED);
        stamp(node.updated(i));
        raw('"');
        if (node.tracksVersions()) {
          put(LAST_UPDATED_VERSION);
          number(node.updatedVersion(i));
        }
        raw('}');
      }
    }
    raw('}');
  }

  /** The text of a {@code $lastUpdated} without quotes; the previous one is reused. */
  private void stamp(long ticks) {
    if (ticks != stampTicks) {
      String s = ticks == 0 ? Timestamps.NEVER : Ticks.format(ticks);
      stampLength = s.length();
      for (int i = 0; i < stampLength; i++) {
        stamp[i] = (byte) s.charAt(i);
      }
      stampTicks = ticks;
    }
    ensure(stampLength);
    System.arraycopy(stamp, 0, buf, len, stampLength);
    len += stampLength;
  }

  private void number(long n) {
    if (n >= 0 && n < 10) {
      raw((char) ('0' + n));
    } else {
      ascii(Long.toString(n));
    }
  }

  private void doubleNumber(double d) {
    if (Double.isFinite(d)) {
      ascii(Double.toString(d));
    } else {
      string(Double.toString(d)); // as Jackson quotes NaN and the infinities
    }
  }

  private void ascii(String s) {
    int n = s.length();
    ensure(n);
    for (int i = 0; i < n; i++) {
      buf[len++] = (byte) s.charAt(i);
    }
  }

  /** A JSON string (or null), escaped as Jackson escapes: quote, backslash, control characters. */
  private void string(String s) {
    if (s == null) {
      put(NULL);
      return;
    }
    int n = s.length();
    ensure(n + 2);
    byte[] b = buf;
    int at = len;
    b[at++] = '"';
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
        b[at++] = (byte) c;
      } else {
        len = at;
        escaped(s, i);
        return;
      }
    }
    b[at++] = '"';
    len = at;
  }

  /**
   * The rest of a string from {@code from}, with escapes, and UTF-8 beyond ASCII except for
   * surrogates, which Jackson escapes one by one.
   */
  private void escaped(String s, int from) {
    int n = s.length();
    for (int i = from; i < n; i++) {
      char c = s.charAt(i);
      ensure(12);
      if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
        buf[len++] = (byte) c;
      } else if (c == '"' || c == '\\') {
        buf[len++] = '\\';
        buf[len++] = (byte) c;
      } else if (c < 0x20) {
        control(c);
      } else if (Character.isSurrogate(c)) {
        // Jackson writes each half of a surrogate pair (or a lone one) as an escape.
        buf[len++] = '\\';
        buf[len++] = 'u';
        buf[len++] = HEX[c >> 12];
        buf[len++] = HEX[(c >> 8) & 0xF];
        buf[len++] = HEX[(c >> 4) & 0xF];
        buf[len++] = HEX[c & 0xF];
      } else if (c < 0x800) {
        buf[len++] = (byte) (0xC0 | (c >> 6));
        buf[len++] = (byte) (0x80 | (c & 0x3F));
      } else {
        buf[len++] = (byte) (0xE0 | (c >> 12));
        buf[len++] = (byte) (0x80 | ((c >> 6) & 0x3F));
        buf[len++] = (byte) (0x80 | (c & 0x3F));
      }
    }
    ensure(1);
    buf[len++] = '"';
  }

  private void control(char c) {
    buf[len++] = '\\';
    switch (c) {
      case '\b' -> buf[len++] = 'b';
      case '\t' -> buf[len++] = 't';
      case '\n' -> buf[len++] = 'n';
      case '\f' -> buf[len++] = 'f';
      case '\r' -> buf[len++] = 'r';
      default -> {
        buf[len++] = 'u';
        buf[len++] = '0';
        buf[len++] = '0';
        buf[len++] = HEX[c >> 4];
        buf[len++] = HEX[c & 0xF];
      }
    }
  }

  private void put(byte[] b) {
    ensure(b.length);
    System.arraycopy(b, 0, buf, len, b.length);
    len += b.length;
  }

  private void ensure(int more) {
    if (len + more > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(len + more, buf.length * 2));
    }
  }
}
