package io.herd.server.c2d;

import io.herd.adapter.common.CloudToDeviceMessage;
import io.herd.adapter.common.DeliveryOutcome;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Devices whose deliveries wait in a queue until the test settles them. */
final class FakeRecipients implements Recipients {
  record Delivery(String deviceId, CloudToDeviceMessage message, Promise<DeliveryOutcome> outcome) {
    String messageId() {
      return message.systemProperties().get("$.mid");
    }
  }

  final Map<String, String> generations = new ConcurrentHashMap<>();
  final Map<String, Integer> counts = new ConcurrentHashMap<>();
  final Map<String, Object> connections = new ConcurrentHashMap<>();
  final BlockingQueue<Delivery> deliveries = new LinkedBlockingQueue<>();

  @Override
  public String generationId(String deviceId) {
    return generations.get(deviceId);
  }

  @Override
  public void pendingChanged(String deviceId, int count) {
    counts.put(deviceId, count);
  }

  @Override
  public Object connection(String deviceId) {
    return connections.get(deviceId);
  }

  @Override
  public Future<DeliveryOutcome> deliver(String deviceId, CloudToDeviceMessage message) {
    Promise<DeliveryOutcome> p = Promise.promise();
    deliveries.add(new Delivery(deviceId, message, p));
    return p.future();
  }

  Delivery next() throws InterruptedException {
    Delivery d = deliveries.poll(5, TimeUnit.SECONDS);
    if (d == null) {
      throw new AssertionError("no delivery within 5 s");
    }
    return d;
  }
}
