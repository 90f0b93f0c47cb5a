package io.herd.core.twin;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.herd.core.Timestamps;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
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
    m.put("$lastUpdated", updated == 0 ? Timestamps.NEVER : Ticks.format(updated));
    if (node.tracksVersions()) {
      m.put("$lastUpdatedVersion", version);
    }
    for (int i = 0; i < node.size(); i++) {
      Object v = node.value(i);
      if (v instanceof TwinNode child) {
        m.put(node.key(i), metadata(child, node.updated(i), node.updatedVersion(i)));
      } else {
        JsonObject leaf = new JsonObject().put("$lastUpdated", Ticks.format(node.updated(i)));
        if (node.tracksVersions()) {
          leaf.put("$lastUpdatedVersion", node.updatedVersion(i));
        }
        m.put(node.key(i), leaf);
      }
    }
    return m;
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

  // ---- streaming: the hot path of twin reads and PATCH responses, without a JsonObject tree

  private static final JsonFactory FACTORY = new JsonFactory();

  /** {@link #twin(Twin)} written straight to bytes. */
  public static Buffer write(Twin t) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(2048);
    try (JsonGenerator g = FACTORY.createGenerator(bytes)) {
      write(g, t);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Buffer.buffer(bytes.toByteArray());
  }

  /** A JSON array of {@link #twin(Twin)} documents, written straight to bytes. */
  public static Buffer writeArray(Collection<Twin> twins) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(2 + 2048 * twins.size());
    try (JsonGenerator g = FACTORY.createGenerator(bytes)) {
      g.writeStartArray();
      for (Twin t : twins) {
        write(g, t);
      }
      g.writeEndArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Buffer.buffer(bytes.toByteArray());
  }

  private static void write(JsonGenerator g, Twin t) throws IOException {
    TwinIdentity id = t.identity();
    g.writeStartObject();
    g.writeStringField("deviceId", t.key().deviceId());
    if (t.key().isModule()) {
      g.writeStringField("moduleId", t.key().moduleId());
    }
    g.writeStringField("etag", t.etag());
    g.writeStringField("deviceEtag", id.deviceEtag());
    g.writeStringField("status", id.status());
    g.writeStringField("statusUpdateTime", Timestamps.format(id.statusUpdateTime()));
    g.writeStringField("connectionState", id.connectionState());
    g.writeStringField("lastActivityTime", Timestamps.format(id.lastActivityTime()));
    g.writeNumberField("cloudToDeviceMessageCount", id.cloudToDeviceMessageCount());
    g.writeStringField("authenticationType", id.authenticationType());
    g.writeObjectFieldStart("x509Thumbprint");
    g.writeStringField("primaryThumbprint", id.primaryThumbprint());
    g.writeStringField("secondaryThumbprint", id.secondaryThumbprint());
    g.writeEndObject();
    g.writeStringField("modelId", id.modelId() == null ? "" : id.modelId());
    g.writeNumberField("version", t.version());
    g.writeFieldName("tags");
    writeValues(g, t.tags());
    g.writeObjectFieldStart("properties");
    g.writeFieldName("desired");
    writeSection(g, t.desired(), t.desiredVersion());
    g.writeFieldName("reported");
    writeSection(g, t.reported(), t.reportedVersion());
    g.writeEndObject();
    if (!t.key().isModule()) {
      g.writeObjectFieldStart("capabilities");
      g.writeBooleanField("iotEdge", id.iotEdge());
      g.writeEndObject();
    }
    g.writeEndObject();
  }

  private static void writeSection(JsonGenerator g, TwinNode node, long version)
      throws IOException {
    g.writeStartObject();
    writeMembers(g, node);
    g.writeFieldName("$metadata");
    writeMetadata(g, node, node.selfUpdated(), node.selfVersion(), new Stamp());
    g.writeNumberField("$version", version);
    g.writeEndObject();
  }

  private static void writeValues(JsonGenerator g, TwinNode node) throws IOException {
    g.writeStartObject();
    writeMembers(g, node);
    g.writeEndObject();
  }

  private static void writeMembers(JsonGenerator g, TwinNode node) throws IOException {
    for (int i = 0; i < node.size(); i++) {
      g.writeFieldName(node.key(i));
      writeValue(g, node.value(i));
    }
  }

  private static void writeValue(JsonGenerator g, Object v) throws IOException {
    if (v == null) {
      g.writeNull();
    } else if (v instanceof String s) {
      g.writeString(s);
    } else if (v instanceof Long l) {
      g.writeNumber(l);
    } else if (v instanceof Double d) {
      g.writeNumber(d);
    } else if (v instanceof Boolean b) {
      g.writeBoolean(b);
    } else if (v instanceof TwinNode n) {
      writeValues(g, n);
    } else if (v instanceof TwinArray a) {
      g.writeStartArray();
      for (int i = 0; i < a.size(); i++) {
        writeValue(g, a.get(i));
      }
      g.writeEndArray();
    }
  }

  /** Members changed together share a timestamp; format each distinct one once. */
  private static final class Stamp {
    long ticks = Long.MIN_VALUE;
    String text;

    String of(long t) {
      if (t != ticks) {
        ticks = t;
        text = t == 0 ? Timestamps.NEVER : Ticks.format(t);
      }
      return text;
    }
  }

  private static void writeMetadata(
      JsonGenerator g, TwinNode node, long updated, long version, Stamp stamp) throws IOException {
    g.writeStartObject();
    g.writeStringField("$lastUpdated", stamp.of(updated));
    if (node.tracksVersions()) {
      g.writeNumberField("$lastUpdatedVersion", version);
    }
    for (int i = 0; i < node.size(); i++) {
      g.writeFieldName(node.key(i));
      if (node.value(i) instanceof TwinNode child) {
        writeMetadata(g, child, node.updated(i), node.updatedVersion(i), stamp);
      } else {
        g.writeStartObject();
        g.writeStringField("$lastUpdated", stamp.of(node.updated(i)));
        if (node.tracksVersions()) {
          g.writeNumberField("$lastUpdatedVersion", node.updatedVersion(i));
        }
        g.writeEndObject();
      }
    }
    g.writeEndObject();
  }
}
