package io.herd.core.twin;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * An immutable JSON object inside a twin section, with IoT Hub's per-key metadata: when each member
 * was last updated and, for desired properties, at which section version. Members are kept sorted
 * in parallel arrays rather than maps, because a fleet holds millions of these and every byte per
 * twin counts; keys are shared through one table, since twins of one fleet share their property
 * names.
 *
 * <p>Values are {@link String}, {@link Long}, {@link Double}, {@link Boolean}, a nested {@code
 * TwinNode}, or a {@link TwinArray}. JSON null is never stored: a null in a patch removes.
 */
public final class TwinNode {
  public static final TwinNode EMPTY =
      new TwinNode(new String[0], new Object[0], new long[0], null, 0, 0);

  private final String[] keys;
  private final Object[] values;
  private final long[] updated;
  private final long[] updatedVersion;
  private final long selfUpdated;
  private final long selfVersion;

  /**
   * @param updated per member, when it was last set, in {@link Ticks}
   * @param updatedVersion per member, the section version that set it, or null when the section
   *     does not track versions (reported properties, tags)
   */
  TwinNode(
      String[] keys,
      Object[] values,
      long[] updated,
      long[] updatedVersion,
      long selfUpdated,
      long selfVersion) {
    this.keys = keys;
    this.values = values;
    this.updated = updated;
    this.updatedVersion = updatedVersion;
    this.selfUpdated = selfUpdated;
    this.selfVersion = selfVersion;
  }

  public int size() {
    return keys.length;
  }

  public boolean isEmpty() {
    return keys.length == 0;
  }

  public String key(int i) {
    return keys[i];
  }

  public Object value(int i) {
    return values[i];
  }

  public long updated(int i) {
    return updated[i];
  }

  /** The version that last set member {@code i}, or 0 when versions are not tracked. */
  public long updatedVersion(int i) {
    return updatedVersion == null ? 0 : updatedVersion[i];
  }

  public boolean tracksVersions() {
    return updatedVersion != null;
  }

  /** When anything in this object last changed, in {@link Ticks}. */
  public long selfUpdated() {
    return selfUpdated;
  }

  public long selfVersion() {
    return selfVersion;
  }

  /** Index of {@code key}, or a negative number when absent (binary search over sorted keys). */
  public int indexOf(String key) {
    return Arrays.binarySearch(keys, key);
  }

  /** The member's value, or null when absent. */
  public Object get(String key) {
    int i = indexOf(key);
    return i < 0 ? null : values[i];
  }

  /** Builds nodes member by member; keys may come in any order. */
  public static final class Builder {
    private final TreeMap<String, Object[]> members = new TreeMap<>();
    private final boolean versions;
    private long selfUpdated;
    private long selfVersion;

    public Builder(boolean versions) {
      this.versions = versions;
    }

    /** Starts from {@code base}'s members. */
    public Builder(TwinNode base) {
      this.versions = base.tracksVersions();
      for (int i = 0; i < base.keys.length; i++) {
        members.put(
            base.keys[i], new Object[] {base.values[i], base.updated[i], base.updatedVersion(i)});
      }
      this.selfUpdated = base.selfUpdated;
      this.selfVersion = base.selfVersion;
    }

    public Builder put(String key, Object value, long updated, long version) {
      members.put(key, new Object[] {value, updated, version});
      return this;
    }

    public boolean remove(String key) {
      return members.remove(key) != null;
    }

    public Object get(String key) {
      Object[] m = members.get(key);
      return m == null ? null : m[0];
    }

    public Builder self(long updated, long version) {
      this.selfUpdated = updated;
      this.selfVersion = version;
      return this;
    }

    public TwinNode build() {
      int n = members.size();
      String[] k = new String[n];
      Object[] v = new Object[n];
      long[] u = new long[n];
      long[] ver = versions ? new long[n] : null;
      int i = 0;
      for (Map.Entry<String, Object[]> e : members.entrySet()) {
        k[i] = TwinCodec.key(e.getKey());
        v[i] = e.getValue()[0];
        u[i] = (Long) e.getValue()[1];
        if (ver != null) {
          ver[i] = (Long) e.getValue()[2];
        }
        i++;
      }
      return new TwinNode(k, v, u, ver, selfUpdated, selfVersion);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TwinNode n
        && Arrays.equals(keys, n.keys)
        && Arrays.deepEquals(values, n.values)
        && Arrays.equals(updated, n.updated)
        && Arrays.equals(updatedVersion, n.updatedVersion)
        && selfUpdated == n.selfUpdated
        && selfVersion == n.selfVersion;
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(keys) * 31 + Arrays.deepHashCode(values);
  }

  @Override
  public String toString() {
    return TwinJson.values(this).encode();
  }
}
