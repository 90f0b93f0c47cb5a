package io.herd.core.twin;

import java.nio.ByteBuffer;
import java.util.Base64;

/**
 * An immutable device or module twin. Readers on any thread get these as snapshots; a change makes
 * a new one.
 *
 * @param version grows with every change of tags, desired or reported; the etag derives from it
 * @param desiredVersion {@code properties.desired.$version}
 * @param reportedVersion {@code properties.reported.$version}
 */
public record Twin(
    TwinKey key,
    long version,
    TwinNode tags,
    TwinNode desired,
    long desiredVersion,
    TwinNode reported,
    long reportedVersion,
    TwinIdentity identity) {

  /** A new, empty twin as IoT Hub creates it with its identity. */
  public static Twin empty(TwinKey key, TwinIdentity identity) {
    return new Twin(
        key, 1, TwinNode.EMPTY, new TwinNode.Builder(true).build(), 1, TwinNode.EMPTY, 1, identity);
  }

  /** The etag: base64 of the version as 8 big-endian bytes, like IoT Hub's {@code AAAAAAAAAAQ=}. */
  public String etag() {
    return etagOf(version);
  }

  public static String etagOf(long version) {
    return Base64.getEncoder().encodeToString(ByteBuffer.allocate(8).putLong(version).array());
  }

  /**
   * How many service-side changes (tags, desired properties) this twin has had, 0 for a new one:
   * the version less the device's own changes, which each count in both versions. Unlike the etag,
   * it stays put while the device reports.
   */
  public long serviceVersion() {
    return version - reportedVersion;
  }

  /** The next version with new tags and desired properties (the service side). */
  public Twin withServiceSide(TwinNode newTags, TwinNode newDesired, long newDesiredVersion) {
    return new Twin(
        key,
        version + 1,
        newTags,
        newDesired,
        newDesiredVersion,
        reported,
        reportedVersion,
        identity);
  }

  /** The next version with new reported properties (the device side). */
  public Twin withReported(TwinNode newReported, long newReportedVersion) {
    return new Twin(
        key, version + 1, tags, desired, desiredVersion, newReported, newReportedVersion, identity);
  }

  public Twin withIdentity(TwinIdentity id) {
    return new Twin(key, version, tags, desired, desiredVersion, reported, reportedVersion, id);
  }
}
