package io.herd.adapter.amqp.internal;

import io.herd.adapter.common.CloudToDeviceMessage;
import io.herd.adapter.common.DeliveryOutcome;
import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Modified;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.messaging.Released;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.Sender;

/**
 * A device's cloud-to-device link ({@code /devices/{d}/messages/devicebound}, the device receives).
 * Messages go out unsettled; the device's outcome settles them in the queue (wire §3.3): accepted
 * completes, rejected rejects (dead-letters), released or modified abandons. Without credit, at
 * most {@code linkCredit} messages wait; more fail with 429 so the queue tries again later.
 */
final class CloudToDeviceLink implements LinkHandler {
  private final AmqpDeviceSession session;
  private final AmqpEngine engine;
  private final Sender sender;
  private final int maxWaiting;
  private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
  private final Map<Delivery, Promise<DeliveryOutcome>> unsettled = new LinkedHashMap<>();
  private boolean open = true;

  private record Waiting(AmqpMessages.Encoded message, Promise<DeliveryOutcome> outcome) {}

  CloudToDeviceLink(AmqpDeviceSession session, Sender sender) {
    this.session = session;
    this.engine = session.engine();
    this.sender = sender;
    this.maxWaiting = session.config().linkCredit();
  }

  Sender link() {
    return sender;
  }

  void open() {
    engine.accept(sender, this);
  }

  /** Sends {@code message}; completes with the device's outcome. Runs on the context. */
  void deliver(CloudToDeviceMessage message, Promise<DeliveryOutcome> outcome) {
    if (!open) {
      outcome.fail(session.notOnline("detached its cloud-to-device link"));
      return;
    }
    if (waiting.size() >= maxWaiting) {
      outcome.fail(
          new HubException(
              ErrorCode.THROTTLING_EXCEPTION,
              "Device "
                  + session.identity()
                  + " gives no credit for cloud-to-device messages; "
                  + waiting.size()
                  + " wait"));
      return;
    }
    waiting.add(
        new Waiting(
            AmqpMessages.encode(AmqpMessages.cloudToDevice(message), message.body().length),
            outcome));
    sendWaiting();
  }

  private void sendWaiting() {
    while (!waiting.isEmpty() && sender.getCredit() > 0) {
      Waiting w = waiting.poll();
      Delivery d = engine.send(sender, w.message().bytes(), w.message().length(), false, null);
      unsettled.put(d, w.outcome());
    }
  }

  @Override
  public void onCredit() {
    sendWaiting();
  }

  @Override
  public void onUpdate(Delivery d) {
    DeliveryState state = d.getRemoteState();
    DeliveryOutcome outcome;
    if (state instanceof Accepted) {
      outcome = DeliveryOutcome.COMPLETED;
    } else if (state instanceof Rejected) {
      outcome = DeliveryOutcome.REJECTED;
    } else if (state instanceof Released || state instanceof Modified) {
      outcome = DeliveryOutcome.ABANDONED;
    } else if (d.remotelySettled()) {
      // Settled without an outcome: the device has it (AMQP 1.0 §3.4, default outcome).
      outcome = DeliveryOutcome.COMPLETED;
    } else {
      return;
    }
    d.settle();
    engine.scheduleFlush();
    Promise<DeliveryOutcome> p = unsettled.remove(d);
    if (p != null) {
      p.complete(outcome);
    }
  }

  @Override
  public void onClosed(ErrorCondition remoteError) {
    open = false;
    List<Promise<DeliveryOutcome>> failed = new ArrayList<>(unsettled.values());
    unsettled.clear();
    for (Waiting w : waiting) {
      failed.add(w.outcome());
    }
    waiting.clear();
    for (Promise<DeliveryOutcome> p : failed) {
      p.tryFail(session.notOnline("detached its cloud-to-device link before settling"));
    }
    session.linkClosed(this);
  }
}
