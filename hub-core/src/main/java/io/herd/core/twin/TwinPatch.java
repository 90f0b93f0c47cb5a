package io.herd.core.twin;

import io.herd.core.HubException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Map;

/**
 * Applies IoT Hub's twin update rules (azure-iothub-wire.md §5.4): merge patch (null removes,
 * objects merge, arrays replace) or whole replacement, with the limits on keys, values, depth and
 * section size. Every violation is a 400 naming the path and the limit. Pure: no I/O, no clock.
 */
public final class TwinPatch {
  public static final int MAX_DEPTH = 10;
  public static final int MAX_KEY_BYTES = 1024;
  public static final int MAX_VALUE_BYTES = 4096;
  public static final long MAX_SAFE_INTEGER = 4_503_599_627_370_495L;

  /** The twin's three documents and their size limits. */
  public enum Section {
    TAGS("tags", 8 * 1024, false),
    DESIRED("properties.desired", 32 * 1024, true),
    REPORTED("properties.reported", 32 * 1024, false);

    private final String path;
    private final int maxBytes;
    private final boolean versions;

    Section(String path, int maxBytes, boolean versions) {
      this.path = path;
      this.maxBytes = maxBytes;
      this.versions = versions;
    }

    public String path() {
      return path;
    }

    public int maxBytes() {
      return maxBytes;
    }

    /** Whether members carry {@code $lastUpdatedVersion}. */
    public boolean tracksVersions() {
      return versions;
    }
  }

  private TwinPatch() {}

  /**
   * Merges {@code patch} into {@code base}; changed members get {@code ticks} and {@code version}.
   */
  public static TwinNode merge(
      TwinNode base, JsonObject patch, Section section, long ticks, long version) {
    TwinNode merged = mergeObject(base, patch, section, section.path(), 0, ticks, version, true);
    checkSize(merged, section);
    return merged;
  }

  /** Replaces the whole section with {@code doc}. */
  public static TwinNode replace(JsonObject doc, Section section, long ticks, long version) {
    TwinNode empty = new TwinNode.Builder(section.tracksVersions()).build();
    return merge(empty, doc == null ? new JsonObject() : doc, section, ticks, version);
  }

  private static TwinNode mergeObject(
      TwinNode base,
      JsonObject patch,
      Section section,
      String path,
      int depth,
      long ticks,
      long version,
      boolean root) {
    TwinNode.Builder b = new TwinNode.Builder(base);
    if (!base.tracksVersions() && section.tracksVersions()) {
      b = rebuildWithVersions(base);
    }
    for (Map.Entry<String, Object> e : patch) {
      String key = e.getKey();
      if (root && ("$metadata".equals(key) || "$version".equals(key))) {
        continue; // read-only; clients echo them back from a fetched twin
      }
      String childPath = path + "." + key;
      checkKey(key, childPath);
      Object v = e.getValue();
      if (v == null) {
        b.remove(key);
      } else if (v instanceof JsonObject obj) {
        if (depth + 1 > MAX_DEPTH) {
          throw HubException.badRequest(
              "'" + childPath + "' nests objects deeper than the limit of " + MAX_DEPTH);
        }
        Object current = b.get(key);
        TwinNode child =
            current instanceof TwinNode n
                ? n
                : new TwinNode.Builder(section.tracksVersions()).build();
        b.put(
            key,
            mergeObject(child, obj, section, childPath, depth + 1, ticks, version, false),
            ticks,
            version);
      } else {
        b.put(key, leaf(v, childPath, depth), ticks, version);
      }
    }
    return b.self(ticks, version).build();
  }

  private static TwinNode.Builder rebuildWithVersions(TwinNode base) {
    TwinNode.Builder b = new TwinNode.Builder(true);
    for (int i = 0; i < base.size(); i++) {
      b.put(base.key(i), base.value(i), base.updated(i), 0);
    }
    return b.self(base.selfUpdated(), base.selfVersion());
  }

  /** Converts a JSON leaf (anything but an object) to its twin form, checking limits. */
  private static Object leaf(Object v, String path, int depth) {
    if (v instanceof String s) {
      if (utf8Length(s) > MAX_VALUE_BYTES) {
        throw HubException.badRequest(
            "'" + path + "' is longer than the limit of " + MAX_VALUE_BYTES + " bytes");
      }
      return TwinCodec.value(s);
    }
    if (v instanceof Boolean) {
      return v;
    }
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      return checkInteger(((Number) v).longValue(), path);
    }
    if (v instanceof BigInteger bi) {
      throw outOfRange(path, bi.toString());
    }
    if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) {
        throw HubException.badRequest("'" + path + "' is not a finite number");
      }
      return d;
    }
    if (v instanceof BigDecimal bd) {
      return bd.doubleValue();
    }
    if (v instanceof JsonArray a) {
      Object[] items = new Object[a.size()];
      long bytes = 0;
      for (int i = 0; i < a.size(); i++) {
        Object item = a.getValue(i);
        String itemPath = path + "[" + i + "]";
        if (item == null) {
          items[i] = null;
        } else if (item instanceof JsonObject o) {
          if (depth + 1 > MAX_DEPTH) {
            throw HubException.badRequest(
                "'" + itemPath + "' nests objects deeper than the limit of " + MAX_DEPTH);
          }
          items[i] = plainObject(o, itemPath, depth + 1);
        } else {
          items[i] = leaf(item, itemPath, depth + 1);
        }
        bytes += sizeOf(items[i]);
      }
      if (bytes > MAX_VALUE_BYTES) {
        throw HubException.badRequest(
            "'" + path + "' is larger than the limit of " + MAX_VALUE_BYTES + " bytes");
      }
      return new TwinArray(items);
    }
    throw HubException.badRequest("'" + path + "' has an unsupported JSON value");
  }

  /** An object inside an array: no metadata, nulls kept out. */
  private static TwinNode plainObject(JsonObject o, String path, int depth) {
    TwinNode.Builder b = new TwinNode.Builder(false);
    for (Map.Entry<String, Object> e : o) {
      String childPath = path + "." + e.getKey();
      checkKey(e.getKey(), childPath);
      Object v = e.getValue();
      if (v == null) {
        continue;
      }
      if (v instanceof JsonObject child) {
        if (depth + 1 > MAX_DEPTH) {
          throw HubException.badRequest(
              "'" + childPath + "' nests objects deeper than the limit of " + MAX_DEPTH);
        }
        b.put(e.getKey(), plainObject(child, childPath, depth + 1), 0, 0);
      } else {
        b.put(e.getKey(), leaf(v, childPath, depth), 0, 0);
      }
    }
    return b.build();
  }

  private static long checkInteger(long n, String path) {
    if (n > MAX_SAFE_INTEGER || n < -MAX_SAFE_INTEGER - 1) {
      throw outOfRange(path, Long.toString(n));
    }
    return n;
  }

  private static HubException outOfRange(String path, String value) {
    return HubException.badRequest(
        "'"
            + path
            + "' = "
            + value
            + " is outside the integer range -4503599627370496..4503599627370495");
  }

  /** Keys: 1 KB at most, no control characters, no '.', '$' or space. */
  static void checkKey(String key, String path) {
    if (key.isEmpty()) {
      throw HubException.badRequest("'" + path + "' has an empty property name");
    }
    if (utf8Length(key) > MAX_KEY_BYTES) {
      throw HubException.badRequest(
          "property name at '"
              + path
              + "' is longer than the limit of "
              + MAX_KEY_BYTES
              + " bytes");
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c == '.' || c == '$' || c == ' ' || c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
        throw HubException.badRequest(
            "property name '"
                + printable(key)
                + "' at '"
                + path
                + "' must not contain '.', '$', spaces or control characters");
      }
    }
  }

  private static String printable(String s) {
    StringBuilder b = new StringBuilder();
    for (char c : s.toCharArray()) {
      b.append(c < 0x20 || (c >= 0x7f && c <= 0x9f) ? String.format("\\u%04x", (int) c) : c);
    }
    return b.toString();
  }

  private static void checkSize(TwinNode node, Section section) {
    long size = sizeOf(node);
    if (size > section.maxBytes()) {
      throw HubException.badRequest(
          "'"
              + section.path()
              + "' would be "
              + size
              + " bytes, over the limit of "
              + section.maxBytes());
    }
  }

  /**
   * IoT Hub's size measure: keys and string values by UTF-8 length, numbers 8, booleans 4, metadata
   * excluded.
   */
  public static long sizeOf(Object v) {
    if (v == null) {
      return 0;
    }
    if (v instanceof String s) {
      return utf8Length(s);
    }
    if (v instanceof Boolean) {
      return 4;
    }
    if (v instanceof Number) {
      return 8;
    }
    if (v instanceof TwinNode n) {
      long sum = 0;
      for (int i = 0; i < n.size(); i++) {
        sum += utf8Length(n.key(i)) + sizeOf(n.value(i));
      }
      return sum;
    }
    if (v instanceof TwinArray a) {
      long sum = 0;
      for (int i = 0; i < a.size(); i++) {
        sum += sizeOf(a.get(i));
      }
      return sum;
    }
    return 0;
  }

  private static int utf8Length(String s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n++;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c)) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }
}
