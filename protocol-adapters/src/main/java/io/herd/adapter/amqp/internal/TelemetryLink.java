package io.herd.adapter.amqp.internal;

import io.herd.adapter.amqp.AmqpConfig;
import io.herd.adapter.common.AdapterServices;
import io.herd.adapter.common.DeviceMessage;
import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import java.time.Instant;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.Receiver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A device's telemetry link ({@code .../messages/events}, the device sends): each message is
 * accepted once the events endpoint has it, or rejected with the AMQP condition of why not. Credit
 * comes back as messages are done, no faster than the optional per-device rate.
 */
final class TelemetryLink implements LinkHandler {
  private static final Logger LOG = LoggerFactory.getLogger(TelemetryLink.class);
  static final Symbol DECODE_ERROR = Symbol.valueOf("amqp:decode-error");

  private final AmqpDeviceSession session;
  private final AmqpEngine engine;
  private final AdapterServices services;
  private final AmqpConfig config;
  private final Receiver receiver;
  private boolean open = true;
  private int owedCredit;
  private double tokens;
  private long tokensAtNanos = System.nanoTime();
  private boolean creditTimer;

  TelemetryLink(AmqpDeviceSession session, Receiver receiver) {
    this.session = session;
    this.engine = session.engine();
    this.services = session.services();
    this.config = session.config();
    this.receiver = receiver;
    this.tokens = config.deviceMessagesPerSecond();
  }

  Receiver link() {
    return receiver;
  }

  void open() {
    engine.accept(receiver, this);
    receiver.flow(config.linkCredit());
  }

  @Override
  public void onMessage(Delivery d, byte[] encoded) {
    session.activity();
    AmqpMessages.Telemetry t;
    try {
      t = AmqpMessages.telemetry(encoded);
    } catch (AmqpMessages.MalformedMessage e) {
      done(d, AmqpMessages.rejected(DECODE_ERROR, e.getMessage()));
      return;
    }
    byte[] body = t.body();
    if (body == null) {
      done(
          d,
          AmqpMessages.rejected(
              DECODE_ERROR, "the body must be data sections, a string or a binary value"));
      return;
    }
    if (body.length > config.maxMessageBytes()) {
      done(
          d,
          AmqpMessages.rejected(
              Symbol.valueOf(ErrorCode.MESSAGE_TOO_LARGE.amqpCondition()),
              "message body of "
                  + body.length
                  + " bytes exceeds the limit of "
                  + config.maxMessageBytes()));
      return;
    }
    Instant now = services.clock().instant();
    DeviceMessage message =
        DeviceMessage.telemetry(
            session.identity(),
            t.systemProperties(),
            t.properties(),
            body,
            now,
            session.protocol());
    Future<Long> stored = services.events().accept(message);
    if (stored.isComplete()) {
      // Answered at once (the in-memory endpoint): still on this connection's context.
      onStored(d, stored);
    } else {
      stored.onComplete(ar -> session.onContext(() -> onStored(d, ar)));
    }
  }

  /** Accepted once the events endpoint has the message, rejected with why not. */
  private void onStored(Delivery d, AsyncResult<Long> ar) {
    if (!open) {
      return;
    }
    if (ar.succeeded()) {
      engine.settleAccepted(d);
      giveCredit();
      return;
    }
    HubException e = HubException.from(ar.cause());
    if (e.errorCode().httpStatus() >= 500) {
      LOG.warn("telemetry not accepted [device: {}]", session.identity(), e);
    }
    done(d, AmqpMessages.rejected(e));
  }

  /**
   * Settles a message with {@code outcome} (unless the device sent it settled); credit goes back.
   */
  private void done(Delivery d, DeliveryState outcome) {
    if (!d.remotelySettled()) {
      d.disposition(outcome);
    }
    d.settle();
    giveCredit();
    engine.scheduleFlush();
  }

  /**
   * One message done: its credit goes back, no faster than the device's rate allows. Without a
   * rate, credit goes back in batches of half the window: one flow frame per batch rather than per
   * message, while a device that keeps fewer than half the credit in flight never waits for it.
   */
  private void giveCredit() {
    owedCredit++;
    int rate = config.deviceMessagesPerSecond();
    if (rate == 0) {
      if (owedCredit >= Math.max(1, config.linkCredit() / 2)) {
        receiver.flow(owedCredit);
        owedCredit = 0;
      }
      return;
    }
    long now = System.nanoTime();
    tokens = Math.min(rate, tokens + (now - tokensAtNanos) * rate / 1e9);
    tokensAtNanos = now;
    int grant = (int) Math.min(owedCredit, Math.floor(tokens));
    if (grant > 0) {
      tokens -= grant;
      owedCredit -= grant;
      receiver.flow(grant);
    }
    if (owedCredit > 0 && !creditTimer) {
      creditTimer = true;
      long waitMs = Math.max(1, (long) Math.ceil((1 - tokens) * 1000 / rate));
      session
          .vertx()
          .setTimer(
              waitMs,
              t -> {
                creditTimer = false;
                if (open && owedCredit > 0) {
                  owedCredit--;
                  giveCredit();
                  engine.scheduleFlush();
                }
              });
    }
  }

  @Override
  public void onClosed(ErrorCondition remoteError) {
    open = false;
    session.linkClosed(this);
  }
}
