package io.herd.twin;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinKey;
import io.vertx.core.json.JsonObject;

/**
 * One committed change of a twin, delivered to subscribers in commit order per twin.
 *
 * @param patch for DESIRED, what a device is sent: the patch as applied (or the whole document
 *     after a replace) with {@code $version}; for TAGS and REPORTED the patch; else null
 * @param twin the twin after the change (the last state for DELETED)
 */
public record TwinChange(Kind kind, TwinKey key, JsonObject patch, Twin twin) {
  public enum Kind {
    CREATED,
    TAGS,
    DESIRED,
    REPORTED,
    /** A registry field other than the connection state changed (status, etag, activity). */
    IDENTITY,
    /** The device or module connected (connectionState became Connected). */
    CONNECTED,
    /** The device or module disconnected (connectionState became Disconnected). */
    DISCONNECTED,
    DELETED
  }
}
