package io.herd.registry;

import io.vertx.core.json.JsonObject;

/**
 * One entry of a bulk registry request or import file.
 *
 * @param etag the identity etag for the *IfMatchETag modes (quotes stripped), else null
 * @param twin the twin part of the entry ({@code tags}, {@code properties}, {@code twinETag}), or
 *     null when it has none
 */
public record BulkOperation(ImportMode mode, DeviceSpec device, String etag, JsonObject twin) {}
