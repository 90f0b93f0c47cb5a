package io.herd.query.eval;

import io.herd.core.twin.Ticks;
import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinIdentity;
import io.herd.core.twin.TwinNode;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Resolves attribute paths to {@link Accessor}s once, at compile time. System fields match
 * case-insensitively ({@code DeviceId} is {@code deviceId}, as IoT Hub does); names inside tags and
 * properties match exactly.
 *
 * <p>Paths: {@code deviceId moduleId etag version status statusUpdateTime connectionState
 * lastActivityTime cloudToDeviceMessageCount authenticationType modelId deviceEtag generationId
 * capabilities.iotEdge x509Thumbprint.primaryThumbprint x509Thumbprint.secondaryThumbprint
 * tags[.name...] properties.desired[.name...] properties.reported[.name...]
 * properties.(desired|reported).$version
 * properties.(desired|reported).$metadata[.name...].$lastUpdated} and {@code
 * properties.desired.$metadata[.name...].$lastUpdatedVersion}.
 */
public final class Fields {
  private Fields() {}

  /** A resolved path: how to read it and its canonical spelling. */
  public record Resolved(Accessor accessor, List<String> canonical) {}

  /** A path that names nothing a twin has, with a hint on what would. */
  public static final class UnknownFieldException extends RuntimeException {
    private final int segment;

    public UnknownFieldException(int segment, String message) {
      super(message);
      this.segment = segment;
    }

    /** The index of the segment that could not be resolved. */
    public int segment() {
      return segment;
    }
  }

  private static final Map<String, Accessor> ROOT;
  private static final Map<String, String> ROOT_NAMES;

  static {
    Map<String, Accessor> m =
        Map.ofEntries(
            Map.entry("deviceId", t -> t.key().deviceId()),
            Map.entry("moduleId", t -> t.key().moduleId()),
            Map.entry("etag", Twin::etag),
            Map.entry("version", Twin::version),
            Map.entry("status", identity(TwinIdentity::status)),
            Map.entry("statusUpdateTime", identity(i -> time(i.statusUpdateTime()))),
            Map.entry("connectionState", identity(TwinIdentity::connectionState)),
            Map.entry("lastActivityTime", identity(i -> time(i.lastActivityTime()))),
            Map.entry(
                "cloudToDeviceMessageCount", identity(i -> (long) i.cloudToDeviceMessageCount())),
            Map.entry("authenticationType", identity(TwinIdentity::authenticationType)),
            Map.entry("modelId", identity(TwinIdentity::modelId)),
            Map.entry("deviceEtag", identity(TwinIdentity::deviceEtag)),
            Map.entry("generationId", identity(TwinIdentity::generationId)),
            Map.entry("capabilities.iotEdge", identity(TwinIdentity::iotEdge)),
            Map.entry(
                "x509Thumbprint.primaryThumbprint", identity(TwinIdentity::primaryThumbprint)),
            Map.entry(
                "x509Thumbprint.secondaryThumbprint", identity(TwinIdentity::secondaryThumbprint)));
    ROOT = m;
    Map<String, String> names = new java.util.HashMap<>();
    for (String k : m.keySet()) {
      names.put(k.toLowerCase(Locale.ROOT), k);
    }
    ROOT_NAMES = Map.copyOf(names);
  }

  private static Accessor identity(Function<TwinIdentity, Object> f) {
    return t -> t.identity() == null ? null : f.apply(t.identity());
  }

  private static String time(Instant i) {
    return i == null ? null : Ticks.format(Ticks.of(i));
  }

  /**
   * Resolves a dotted path such as {@code tags.site}.
   *
   * @throws IllegalArgumentException when the path names nothing a twin has
   */
  public static Resolved resolve(String dotted) {
    if (dotted == null || dotted.isBlank()) {
      throw new IllegalArgumentException("expected a twin path such as tags.site");
    }
    try {
      return resolve(java.util.Arrays.asList(dotted.strip().split("\\.", -1)));
    } catch (UnknownFieldException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** Resolves {@code segments} or throws {@link UnknownFieldException}. */
  public static Resolved resolve(List<String> segments) {
    String first = segments.get(0);
    String firstLower = first.toLowerCase(Locale.ROOT);
    if (firstLower.equals("tags")) {
      List<String> canon = canon("tags", segments);
      return new Resolved(node(Twin::tags, segments.subList(1, segments.size()), 1), canon);
    }
    if (firstLower.equals("properties")) {
      if (segments.size() < 2) {
        throw new UnknownFieldException(0, "expected properties.desired or properties.reported");
      }
      String section = segments.get(1).toLowerCase(Locale.ROOT);
      boolean desired = section.equals("desired");
      if (!desired && !section.equals("reported")) {
        throw new UnknownFieldException(
            1, "expected desired or reported after 'properties.', found '" + segments.get(1) + "'");
      }
      Function<Twin, TwinNode> root = desired ? Twin::desired : Twin::reported;
      List<String> rest = segments.subList(2, segments.size());
      List<String> canon = canon("properties", segments);
      canon.set(1, desired ? "desired" : "reported");
      if (!rest.isEmpty() && rest.get(0).equals("$version")) {
        if (rest.size() > 1) {
          throw new UnknownFieldException(3, "expected nothing after '$version'");
        }
        return new Resolved(
            desired ? t -> t.desiredVersion() : t -> t.reportedVersion(), List.copyOf(canon));
      }
      if (!rest.isEmpty() && rest.get(0).equals("$metadata")) {
        return new Resolved(metadata(root, rest.subList(1, rest.size()), desired), canon);
      }
      return new Resolved(node(root, rest, 2), canon);
    }
    // system fields, possibly two segments (capabilities.iotEdge)
    String joined = String.join(".", segments).toLowerCase(Locale.ROOT);
    String name = ROOT_NAMES.get(joined);
    if (name == null) {
      throw new UnknownFieldException(
          0,
          "expected a twin field (deviceId, moduleId, status, connectionState, lastActivityTime,"
              + " tags.*, properties.desired.*, properties.reported.*, ...), found '"
              + String.join(".", segments)
              + "'");
    }
    return new Resolved(ROOT.get(name), List.of(name.split("\\.")));
  }

  private static List<String> canon(String first, List<String> segments) {
    List<String> c = new java.util.ArrayList<>(segments);
    c.set(0, first);
    return c;
  }

  private static Accessor node(Function<Twin, TwinNode> root, List<String> path, int base) {
    for (int i = 0; i < path.size(); i++) {
      if (path.get(i).startsWith("$")) {
        throw new UnknownFieldException(
            base + i, "expected a property name, found '" + path.get(i) + "'");
      }
    }
    String[] keys = path.toArray(new String[0]);
    return switch (keys.length) {
      case 0 -> root::apply;
      case 1 -> {
        String k = keys[0];
        yield t -> root.apply(t).get(k);
      }
      default ->
          t -> {
            Object v = root.apply(t);
            for (String k : keys) {
              if (!(v instanceof TwinNode n)) {
                return null;
              }
              v = n.get(k);
            }
            return v;
          };
    };
  }

  /**
   * {@code $metadata[.a.b].$lastUpdated} or, for desired, {@code .$lastUpdatedVersion}: when a
   * member (or the section itself) was last set.
   */
  private static Accessor metadata(
      Function<Twin, TwinNode> root, List<String> path, boolean desired) {
    if (path.isEmpty()) {
      throw new UnknownFieldException(3, "expected a property or $lastUpdated after '$metadata'");
    }
    String leaf = path.get(path.size() - 1);
    boolean lastUpdated = leaf.equals("$lastUpdated");
    if (!lastUpdated && !(desired && leaf.equals("$lastUpdatedVersion"))) {
      throw new UnknownFieldException(
          3 + path.size() - 1,
          "expected $lastUpdated"
              + (desired ? " or $lastUpdatedVersion" : "")
              + " at the end of a $metadata path");
    }
    String[] keys = path.subList(0, path.size() - 1).toArray(new String[0]);
    if (keys.length == 0) {
      return lastUpdated
          ? t -> Ticks.format(root.apply(t).selfUpdated())
          : t -> root.apply(t).selfVersion();
    }
    return t -> {
      TwinNode parent = root.apply(t);
      for (int i = 0; i < keys.length - 1; i++) {
        if (!(parent.get(keys[i]) instanceof TwinNode n)) {
          return null;
        }
        parent = n;
      }
      int i = parent.indexOf(keys[keys.length - 1]);
      if (i < 0) {
        return null;
      }
      return lastUpdated ? Ticks.format(parent.updated(i)) : (Object) parent.updatedVersion(i);
    };
  }
}
