package io.herd.twin;

import io.vertx.core.json.JsonObject;

/**
 * A service-side twin change: tags and desired properties, merged ({@code PATCH}) or replaced
 * ({@code PUT}). Reported properties are the device's alone and never part of it.
 *
 * @param tags the tags patch or document, or null to leave tags alone
 * @param desired the desired patch or document, or null to leave them alone
 * @param ifMatch the expected etag (quotes allowed), or null / {@code *} for any
 */
public record TwinUpdate(JsonObject tags, JsonObject desired, boolean replace, String ifMatch) {}
