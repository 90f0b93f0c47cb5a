package io.herd.server.c2d;

import java.time.Instant;

/** A committed enqueue: the message id and when it expires. */
public record Enqueued(
    String deviceId, String messageId, Instant enqueuedTime, Instant expiryTime) {}
