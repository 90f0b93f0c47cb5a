package io.herd.server.internal;

import io.herd.adapter.amqp.CloudToDeviceService;
import io.herd.core.HubException;
import io.herd.server.c2d.AckMode;
import io.herd.server.c2d.CloudToDeviceQueues;
import io.herd.server.c2d.Feedback;
import io.herd.server.c2d.OutgoingMessage;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The durable cloud-to-device queues as the service's AMQP links use them. */
public final class QueueService implements CloudToDeviceService {
  private static final Logger LOG = LoggerFactory.getLogger(QueueService.class);

  private final CloudToDeviceQueues queues;

  public QueueService(CloudToDeviceQueues queues) {
    this.queues = queues;
  }

  @Override
  public Future<Void> send(String deviceId, Outgoing m) {
    AckMode ack;
    try {
      ack = AckMode.parse(m.ack());
    } catch (HubException e) {
      return Future.failedFuture(e);
    }
    return queues
        .enqueue(
            deviceId,
            new OutgoingMessage(
                m.messageId(),
                m.correlationId(),
                ack,
                m.expiryTime(),
                m.contentType(),
                m.contentEncoding(),
                m.properties(),
                m.body()))
        .mapEmpty();
  }

  @Override
  public Future<FeedbackBatch> takeFeedback(int max) {
    return queues.takeFeedback(max).map(this::batch);
  }

  private FeedbackBatch batch(List<Feedback> taken) {
    List<JsonObject> records = new ArrayList<>(taken.size());
    for (Feedback f : taken) {
      records.add(f.toJson());
    }
    return new FeedbackBatch() {
      @Override
      public List<JsonObject> records() {
        return records;
      }

      @Override
      public void giveBack() {
        queues
            .restoreFeedback(taken)
            .onFailure(
                e ->
                    LOG.warn(
                        "feedback records taken but not delivered are lost [records: {}]",
                        taken.size(),
                        e));
      }
    };
  }
}
