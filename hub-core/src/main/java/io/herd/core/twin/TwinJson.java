package io.herd.core.twin;

import io.herd.core.Timestamps;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Collection;

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
    m.put("$lastUpdated", stamp(updated));
    if (node.tracksVersions()) {
      m.put("$lastUpdatedVersion", version);
    }
    for (int i = 0; i < node.size(); i++) {
      Object v = node.value(i);
      if (v instanceof TwinNode child) {
        m.put(node.key(i), metadata(child, node.updated(i), node.updatedVersion(i)));
      } else {
        JsonObject leaf = new JsonObject().put("$lastUpdated", stamp(node.updated(i)));
        if (node.tracksVersions()) {
          leaf.put("$lastUpdatedVersion", node.updatedVersion(i));
        }
        m.put(node.key(i), leaf);
      }
    }
    return m;
  }

  /** A {@code $lastUpdated} text: {@link Timestamps#NEVER} for a time never set. */
  private static String stamp(long ticks) {
    return ticks == 0 ? Timestamps.NEVER : Ticks.format(ticks);
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

  // ---- straight to bytes: the hot path of twin reads, PATCH responses and query pages

  /** {@link #twin(Twin)} written straight to bytes (see {@link TwinJsonWriter}). */
  public static Buffer write(Twin t) {
    return new TwinJsonWriter(2048).twin(t).toBuffer();
  }

  /** A JSON array of {@link #twin(Twin)} documents, written straight to bytes. */
  public static Buffer writeArray(Collection<Twin> twins) {
    TwinJsonWriter w = new TwinJsonWriter(2 + 2048 * twins.size());
    w.raw('[');
    boolean first = true;
    for (Twin t : twins) {
      if (!first) {
        w.raw(',');
      }
      first = false;
      w.twin(t);
    }
    return w.raw(']').toBuffer();
  }
}
