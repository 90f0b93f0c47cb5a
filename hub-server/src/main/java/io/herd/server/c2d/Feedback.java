package io.herd.server.c2d;

import io.herd.core.Timestamps;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/** One feedback record for the service side, as IoT Hub's feedback messages carry them. */
public record Feedback(
    String originalMessageId,
    String deviceId,
    String deviceGenerationId,
    Instant enqueuedTimeUtc,
    FeedbackStatus statusCode,
    String description) {

  public static Feedback of(QueuedMessage m, FeedbackStatus status) {
    return new Feedback(
        m.messageId(),
        m.deviceId(),
        m.generationId(),
        m.enqueuedTime(),
        status,
        status.description());
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("originalMessageId", originalMessageId)
        .put("enqueuedTimeUtc", Timestamps.format(enqueuedTimeUtc))
        .put("statusCode", statusCode.wire())
        .put("description", description)
        .put("deviceId", deviceId)
        .put("deviceGenerationId", deviceGenerationId);
  }
}
