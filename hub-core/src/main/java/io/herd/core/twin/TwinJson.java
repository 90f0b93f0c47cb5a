package io.herd.core.twin;

import io.herd.core.Timestamps;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Renders twin sections as IoT Hub shows them (values, a {@code $metadata} tree mirroring them,
 * {@code $version}), and to and from Herd's compact storage form, which keeps timestamps as numbers
 * so millions of twins load without parsing dates.
 */
public final class TwinJson {
  private TwinJson() {}

  /** Just the values, as plain JSON. */
  public static JsonObject values(TwinNode node) {
    JsonObject out = new JsonObject();
    for (int i = 0; i < node.size(); i++) {
      out.put(node.key(i), plain(node.value(i)));
    }
    return out;
  }

  private static Object plain(Object v) {
    if (v instanceof TwinNode n) {
      return values(n);
    }
    if (v instanceof TwinArray a) {
      JsonArray out = new JsonArray();
      for (int i = 0; i < a.size(); i++) {
        out.add(plain(a.get(i)));
      }
      return out;
    }
    return v;
  }

  /** A properties section: values, {@code $metadata} and {@code $version}. */
  public static JsonObject section(TwinNode node, long version) {
    JsonObject out = values(node);
    out.put("$metadata", metadata(node, node.selfUpdated(), node.selfVersion()));
    out.put("$version", version);
    return out;
  }

  private static JsonObject metadata(TwinNode node, long updated, long version) {
    JsonObject m = new JsonObject();
    m.put("$lastUpdated", Timestamps.format(updated == 0 ? null : Ticks.toInstant(updated)));
    if (node.tracksVersions()) {
      m.put("$lastUpdatedVersion", version);
    }
    for (int i = 0; i < node.size(); i++) {
      Object v = node.value(i);
      if (v instanceof TwinNode child) {
        m.put(node.key(i), metadata(child, node.updated(i), node.updatedVersion(i)));
      } else {
        JsonObject leaf =
            new JsonObject()
                .put("$lastUpdated", Timestamps.format(Ticks.toInstant(node.updated(i))));
        if (node.tracksVersions()) {
          leaf.put("$lastUpdatedVersion", node.updatedVersion(i));
        }
        m.put(node.key(i), leaf);
      }
    }
    return m;
  }

  // ---- storage form: {"t":ticks,"v":version,"m":[key, value, ticks, version, ...]}

  public static JsonObject store(TwinNode node) {
    JsonArray members = new JsonArray();
    for (int i = 0; i < node.size(); i++) {
      Object v = node.value(i);
      members.add(node.key(i));
      members.add(v instanceof TwinNode n ? store(n) : plain(v));
      members.add(node.updated(i));
      members.add(node.updatedVersion(i));
    }
    return new JsonObject()
        .put("t", node.selfUpdated())
        .put("v", node.selfVersion())
        .put("m", members);
  }

  public static TwinNode load(JsonObject stored, boolean versions) {
    TwinNode.Builder b = new TwinNode.Builder(versions);
    JsonArray m = stored.getJsonArray("m");
    for (int i = 0; i + 3 < m.size(); i += 4) {
      String key = m.getString(i);
      Object raw = m.getValue(i + 1);
      Object value = raw instanceof JsonObject o ? load(o, versions) : fromPlain(raw);
      b.put(key, value, m.getLong(i + 2), m.getLong(i + 3));
    }
    return b.self(stored.getLong("t", 0L), stored.getLong("v", 0L)).build();
  }

  private static Object fromPlain(Object raw) {
    if (raw instanceof JsonArray a) {
      Object[] items = new Object[a.size()];
      for (int i = 0; i < a.size(); i++) {
        items[i] = fromPlain(a.getValue(i));
      }
      return new TwinArray(items);
    }
    if (raw instanceof JsonObject o) {
      TwinNode.Builder b = new TwinNode.Builder(false);
      o.forEach(e -> b.put(e.getKey(), fromPlain(e.getValue()), 0, 0));
      return b.build();
    }
    if (raw instanceof Integer n) {
      return n.longValue();
    }
    if (raw instanceof Float f) {
      return f.doubleValue();
    }
    return raw;
  }

  /** The whole twin as the service REST API returns it (azure-iothub-wire.md §5.4). */
  public static JsonObject twin(Twin t) {
    TwinIdentity id = t.identity();
    JsonObject out = new JsonObject().put("deviceId", t.key().deviceId());
    if (t.key().isModule()) {
      out.put("moduleId", t.key().moduleId());
    }
    out.put("etag", t.etag())
        .put("deviceEtag", id.deviceEtag())
        .put("status", id.status())
        .put("statusUpdateTime", Timestamps.format(id.statusUpdateTime()))
        .put("connectionState", id.connectionState())
        .put("lastActivityTime", Timestamps.format(id.lastActivityTime()))
        .put("cloudToDeviceMessageCount", id.cloudToDeviceMessageCount())
        .put("authenticationType", id.authenticationType())
        .put(
            "x509Thumbprint",
            new JsonObject()
                .put("primaryThumbprint", id.primaryThumbprint())
                .put("secondaryThumbprint", id.secondaryThumbprint()))
        .put("modelId", id.modelId() == null ? "" : id.modelId())
        .put("version", t.version())
        .put("tags", values(t.tags()))
        .put(
            "properties",
            new JsonObject()
                .put("desired", section(t.desired(), t.desiredVersion()))
                .put("reported", section(t.reported(), t.reportedVersion())));
    if (!t.key().isModule()) {
      out.put("capabilities", new JsonObject().put("iotEdge", id.iotEdge()));
    }
    return out;
  }

  /** What the device sees on a twin GET: desired and reported with their versions, no metadata. */
  public static JsonObject deviceView(Twin t) {
    return new JsonObject()
        .put("desired", values(t.desired()).put("$version", t.desiredVersion()))
        .put("reported", values(t.reported()).put("$version", t.reportedVersion()));
  }

  /** The storage form of a whole twin (everything but the identity). */
  public static JsonObject store(Twin t) {
    return new JsonObject()
        .put("tags", store(t.tags()))
        .put("desired", store(t.desired()))
        .put("dv", t.desiredVersion())
        .put("reported", store(t.reported()))
        .put("rv", t.reportedVersion());
  }

  /** Reads {@link #store(Twin)} back. */
  public static Twin load(TwinKey key, long version, JsonObject stored, TwinIdentity identity) {
    return new Twin(
        key,
        version,
        load(stored.getJsonObject("tags"), false),
        load(stored.getJsonObject("desired"), true),
        stored.getLong("dv"),
        load(stored.getJsonObject("reported"), false),
        stored.getLong("rv"),
        identity);
  }
}
