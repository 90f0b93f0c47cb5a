package io.herd.adapter.amqp;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the service's AMQP links need from the hub (azure-iothub-wire.md §3.5): the durable
 * cloud-to-device queues and their feedback records.
 */
public interface CloudToDeviceService {

  /**
   * A message the service sends to a device.
   *
   * @param messageId null for a generated one
   * @param ack the {@code iothub-ack} property: none, positive, negative or full; null for none
   * @param expiryTime absolute expiry, null for the default time-to-live
   * @param properties the application properties but {@code iothub-ack}, in order
   */
  record Outgoing(
      String messageId,
      String correlationId,
      String ack,
      Instant expiryTime,
      String contentType,
      String contentEncoding,
      Map<String, String> properties,
      byte[] body) {
    public Outgoing {
      properties = new LinkedHashMap<>(properties);
    }
  }

  /**
   * Queues a message; completes once it is stored. Fails with a {@link io.herd.core.HubException}:
   * DeviceNotFound, 403004 when the device's queue is full, 413 for a large body, 400 for a bad ack
   * or expiry, 429 when the store falls behind.
   */
  Future<Void> send(String deviceId, Outgoing message);

  /** Takes up to {@code max} feedback records, oldest first; an empty batch when there are none. */
  Future<FeedbackBatch> takeFeedback(int max);

  /** Feedback records taken from the store. */
  interface FeedbackBatch {
    /** The records as IoT Hub's feedback messages carry them ({@code originalMessageId}, ...). */
    List<JsonObject> records();

    /** Puts the records back, e.g. because the service did not accept the message holding them. */
    void giveBack();
  }
}
