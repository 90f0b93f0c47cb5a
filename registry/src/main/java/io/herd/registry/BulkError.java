package io.herd.registry;

import io.herd.core.ErrorCode;

/** Why one entry of a bulk request failed; the others still apply. */
public record BulkError(String deviceId, String moduleId, ErrorCode errorCode, String message) {}
