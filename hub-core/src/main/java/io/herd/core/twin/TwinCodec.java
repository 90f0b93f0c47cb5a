package io.herd.core.twin;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Herd's binary storage form of a twin's documents: compact, and decoded without a JSON parser or a
 * sorted map (members are stored in key order), so millions of twins load in seconds.
 *
 * <pre>
 * twin    = FORMAT tags:node(no versions) desired:node(versions) varlong reported:node varlong
 * node    = long(selfTicks) varlong(selfVersion) varint(n) member*n
 * member  = str(key) long(ticks) [varlong(version) if versions] value
 * value   = NULL | STRING str | LONG zigzag | DOUBLE 8 bytes | TRUE | FALSE
 *         | NODE node | ARRAY varint(n) value*n | PLAIN varint(n) (str value)*n
 * str     = varint(byte length) UTF-8 bytes
 * </pre>
 */
public final class TwinCodec {
  private static final byte FORMAT = 1;
  private static final byte NULL = 0;
  private static final byte STRING = 1;
  private static final byte LONG = 2;
  private static final byte DOUBLE = 3;
  private static final byte TRUE = 4;
  private static final byte FALSE = 5;
  private static final byte NODE = 6;
  private static final byte ARRAY = 7;
  private static final byte PLAIN = 8;

  /** Property names repeat across a fleet; one copy each. */
  private static final ConcurrentHashMap<String, String> KEYS = new ConcurrentHashMap<>();

  /**
   * Recently seen short string values, by hash slot. A fleet repeats values (firmware versions,
   * sites, modes) across millions of twins; this keeps one copy of the frequent ones with a fixed
   * memory cost. Races are benign: a slot holds some complete immutable String or null.
   */
  private static final String[] VALUES = new String[1 << 16];

  private static final int MAX_SHARED_VALUE = 256;

  private TwinCodec() {}

  /** Returns a shared instance equal to {@code v} when one is at hand, else {@code v}. */
  static String value(String v) {
    if (v.length() > MAX_SHARED_VALUE) {
      return v;
    }
    int slot = (v.hashCode() * 0x9E3779B9) >>> 16;
    String seen = VALUES[slot];
    if (v.equals(seen)) {
      return seen;
    }
    VALUES[slot] = v;
    return v;
  }

  /** Returns the one shared instance of a property name. */
  static String key(String k) {
    String known = KEYS.putIfAbsent(k, k);
    return known == null ? k : known;
  }

  // ---- encoding

  public static byte[] encode(Twin t) {
    Out out = new Out(512);
    out.write(FORMAT);
    node(out, t.tags(), false);
    node(out, t.desired(), true);
    out.varlong(t.desiredVersion());
    node(out, t.reported(), false);
    out.varlong(t.reportedVersion());
    return out.toByteArray();
  }

  private static void node(Out out, TwinNode n, boolean versions) {
    out.fixed(n.selfUpdated());
    out.varlong(n.selfVersion());
    out.varint(n.size());
    for (int i = 0; i < n.size(); i++) {
      out.str(n.key(i));
      out.fixed(n.updated(i));
      if (versions) {
        out.varlong(n.updatedVersion(i));
      }
      value(out, n.value(i), versions);
    }
  }

  private static void value(Out out, Object v, boolean versions) {
    if (v == null) {
      out.write(NULL);
    } else if (v instanceof String s) {
      out.write(STRING);
      out.str(s);
    } else if (v instanceof Long l) {
      out.write(LONG);
      out.varlong((l << 1) ^ (l >> 63));
    } else if (v instanceof Double d) {
      out.write(DOUBLE);
      out.fixed(Double.doubleToRawLongBits(d));
    } else if (v instanceof Boolean b) {
      out.write(b ? TRUE : FALSE);
    } else if (v instanceof TwinNode n) {
      out.write(NODE);
      node(out, n, versions);
    } else if (v instanceof TwinArray a) {
      out.write(ARRAY);
      out.varint(a.size());
      for (int i = 0; i < a.size(); i++) {
        Object item = a.get(i);
        if (item instanceof TwinNode plain) {
          out.write(PLAIN);
          out.varint(plain.size());
          for (int j = 0; j < plain.size(); j++) {
            out.str(plain.key(j));
            value(out, plain.value(j), false);
          }
        } else {
          value(out, item, false);
        }
      }
    } else {
      throw new IllegalArgumentException("not a twin value: " + v.getClass());
    }
  }

  // ---- decoding

  /** Decodes {@link #encode}'s output; the identity is attached separately. */
  public static Twin decode(TwinKey key, long version, byte[] bytes, TwinIdentity identity) {
    In in = new In(bytes);
    byte format = in.read();
    if (format != FORMAT) {
      throw new IllegalArgumentException("unknown twin storage format " + format + " of " + key);
    }
    TwinNode tags = node(in, false);
    TwinNode desired = node(in, true);
    long dv = in.varlong();
    TwinNode reported = node(in, false);
    long rv = in.varlong();
    return new Twin(key, version, tags, desired, dv, reported, rv, identity);
  }

  private static TwinNode node(In in, boolean versions) {
    long self = in.fixed();
    long selfVersion = in.varlong();
    int n = in.varint();
    String[] keys = new String[n];
    Object[] values = new Object[n];
    long[] updated = new long[n];
    long[] updatedVersion = versions ? new long[n] : null;
    for (int i = 0; i < n; i++) {
      keys[i] = key(in.str());
      updated[i] = in.fixed();
      if (versions) {
        updatedVersion[i] = in.varlong();
      }
      values[i] = value(in, versions);
    }
    return new TwinNode(keys, values, updated, updatedVersion, self, selfVersion);
  }

  private static Object value(In in, boolean versions) {
    byte tag = in.read();
    switch (tag) {
      case NULL:
        return null;
      case STRING:
        return value(in.str());
      case LONG:
        long z = in.varlong();
        return (z >>> 1) ^ -(z & 1);
      case DOUBLE:
        return Double.longBitsToDouble(in.fixed());
      case TRUE:
        return Boolean.TRUE;
      case FALSE:
        return Boolean.FALSE;
      case NODE:
        return node(in, versions);
      case ARRAY:
        int n = in.varint();
        Object[] items = new Object[n];
        for (int i = 0; i < n; i++) {
          items[i] = arrayItem(in);
        }
        return new TwinArray(items);
      default:
        throw new IllegalArgumentException("bad twin value tag " + tag);
    }
  }

  private static Object arrayItem(In in) {
    if (in.peek() != PLAIN) {
      return value(in, false);
    }
    in.read();
    int n = in.varint();
    TwinNode.Builder b = new TwinNode.Builder(false);
    for (int i = 0; i < n; i++) {
      String k = in.str();
      b.put(k, value(in, false), 0, 0);
    }
    return b.build();
  }

  private static final class Out extends ByteArrayOutputStream {
    Out(int size) {
      super(size);
    }

    void fixed(long v) {
      for (int i = 56; i >= 0; i -= 8) {
        write((int) (v >>> i));
      }
    }

    void varint(int v) {
      varlong(v & 0xffffffffL);
    }

    void varlong(long v) {
      while ((v & ~0x7fL) != 0) {
        write((int) ((v & 0x7f) | 0x80));
        v >>>= 7;
      }
      write((int) v);
    }

    void str(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      varint(b.length);
      write(b, 0, b.length);
    }
  }

  private static final class In {
    private final byte[] b;
    private int pos;

    In(byte[] b) {
      this.b = b;
    }

    byte read() {
      return b[pos++];
    }

    byte peek() {
      return b[pos];
    }

    long fixed() {
      long v = 0;
      for (int i = 0; i < 8; i++) {
        v = (v << 8) | (b[pos++] & 0xff);
      }
      return v;
    }

    int varint() {
      return (int) varlong();
    }

    long varlong() {
      long v = 0;
      int shift = 0;
      while (true) {
        byte x = b[pos++];
        v |= (long) (x & 0x7f) << shift;
        if (x >= 0) {
          return v;
        }
        shift += 7;
      }
    }

    String str() {
      int len = varint();
      String s = new String(b, pos, len, StandardCharsets.UTF_8);
      pos += len;
      return s;
    }
  }
}
