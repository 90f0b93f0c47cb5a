package io.herd.adapter.amqp.internal;

import io.herd.adapter.common.MethodResult;
import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.message.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A device's direct-method links ({@code .../methods/devicebound}, azure-iothub-wire.md §3.3):
 * requests leave on the device's receiver with a uuid correlation id and the application property
 * {@code IoThub-methodname}; responses arrive on its sender with that correlation id (as uuid or
 * string: compared by value) and the int property {@code IoThub-status}.
 */
final class MethodChannel {
  private static final Logger LOG = LoggerFactory.getLogger(MethodChannel.class);

  private final AmqpDeviceSession session;
  private final AmqpEngine engine;
  private RequestLink requests;
  private ResponseLink responses;
  private final Map<String, Pending> pending = new HashMap<>();

  private record Pending(Promise<MethodResult> promise, long timer) {}

  MethodChannel(AmqpDeviceSession session) {
    this.session = session;
    this.engine = session.engine();
  }

  /** Whether requests can go out: the device's receiver link is attached. */
  boolean acceptsRequests() {
    return requests != null;
  }

  boolean isEmpty() {
    return requests == null && responses == null;
  }

  void attachRequests(Sender sender) {
    if (requests != null) {
      engine.detach(requests.sender, conflict());
    }
    requests = new RequestLink(sender);
    engine.accept(sender, requests);
  }

  void attachResponses(Receiver receiver) {
    if (responses != null) {
      engine.detach(responses.receiver, conflict());
    }
    responses = new ResponseLink(receiver);
    engine.accept(receiver, responses);
    receiver.flow(session.config().linkCredit());
  }

  private ErrorCondition conflict() {
    return AmqpMessages.condition(
        ErrorCode.LINK_CREATION_CONFLICT,
        "A newer method link of " + session.identity() + " replaced this one");
  }

  /** Sends a request; the promise completes with the response or fails. Runs on the context. */
  void invoke(String methodName, Buffer payload, Duration timeout, Promise<MethodResult> promise) {
    if (requests == null) {
      promise.fail(session.notOnline("has not attached its method links"));
      return;
    }
    if (methodName == null || methodName.isEmpty()) {
      promise.fail(HubException.badRequest("Invalid method name '" + methodName + "'"));
      return;
    }
    Sender sender = requests.sender;
    if (sender.getCredit() <= 0) {
      promise.fail(
          new HubException(
              ErrorCode.THROTTLING_EXCEPTION,
              "Device " + session.identity() + " gives no credit for method requests"));
      return;
    }
    UUID id = AmqpMessages.newCorrelationId();
    String key = id.toString();
    long timer =
        session
            .vertx()
            .setTimer(
                Math.max(1, timeout.toMillis()),
                t -> {
                  Pending p = pending.remove(key);
                  if (p != null) {
                    p.promise()
                        .fail(
                            new HubException(
                                ErrorCode.GATEWAY_TIMEOUT,
                                "Timed out waiting for the response from device "
                                    + session.identity()));
                  }
                });
    pending.put(key, new Pending(promise, timer));
    Message m = Message.Factory.create();
    Properties p = new Properties();
    p.setCorrelationId(id);
    m.setProperties(p);
    Map<String, Object> app = new HashMap<>();
    app.put("IoThub-methodname", methodName);
    m.setApplicationProperties(new ApplicationProperties(app));
    byte[] body = payload == null ? new byte[0] : payload.getBytes();
    m.setBody(new Data(new Binary(body)));
    AmqpMessages.Encoded e = AmqpMessages.encode(m, body.length);
    // Settled on send: the answer is the response message, not the disposition.
    engine.send(sender, e.bytes(), e.length(), true, null);
  }

  private void respond(Message m) {
    Object cid = m.getProperties() == null ? null : m.getProperties().getCorrelationId();
    String key = cid == null ? null : AmqpMessages.idText(cid).toLowerCase(Locale.ROOT);
    Pending p = key == null ? null : pending.remove(key);
    Object status = AmqpMessages.applicationProperty(m, "IoThub-status");
    if (p == null) {
      LOG.info(
          "dropping a direct-method response [device: {}, correlation-id: {}, reason: no request"
              + " waits for it (late or duplicate)]",
          session.identity(),
          cid);
      return;
    }
    session.vertx().cancelTimer(p.timer());
    int code;
    if (status instanceof Number n) {
      code = n.intValue();
    } else {
      try {
        code = Integer.parseInt(String.valueOf(status));
      } catch (NumberFormatException e) {
        p.promise()
            .fail(
                HubException.badRequest(
                    "The device answered without a numeric IoThub-status: " + status));
        return;
      }
    }
    byte[] body = AmqpMessages.body(m);
    p.promise().complete(new MethodResult(code, Buffer.buffer(body == null ? new byte[0] : body)));
  }

  /** Detaches both links. */
  void detach(ErrorCondition condition) {
    if (requests != null) {
      engine.detach(requests.sender, condition);
    }
    if (responses != null) {
      engine.detach(responses.receiver, condition);
    }
  }

  /** Fails what waits: the links are gone. */
  void close() {
    for (Pending p : pending.values()) {
      session.vertx().cancelTimer(p.timer());
      p.promise().tryFail(session.notOnline("detached its method links before answering"));
    }
    pending.clear();
  }

  private final class RequestLink implements LinkHandler {
    final Sender sender;

    RequestLink(Sender sender) {
      this.sender = sender;
    }

    @Override
    public void onUpdate(Delivery d) {
      d.settle();
    }

    @Override
    public void onClosed(ErrorCondition remoteError) {
      if (requests == this) {
        requests = null;
        close();
        session.methodsChanged();
      }
    }
  }

  private final class ResponseLink implements LinkHandler {
    final Receiver receiver;

    ResponseLink(Receiver receiver) {
      this.receiver = receiver;
    }

    @Override
    public void onMessage(Delivery d, byte[] encoded) {
      session.activity();
      if (!d.remotelySettled()) {
        d.disposition(Accepted.getInstance());
      }
      d.settle();
      receiver.flow(1);
      engine.scheduleFlush();
      try {
        respond(AmqpMessages.decode(encoded));
      } catch (AmqpMessages.MalformedMessage e) {
        LOG.info("dropping a malformed direct-method response [device: {}]", session.identity());
      }
    }

    @Override
    public void onClosed(ErrorCondition remoteError) {
      if (responses == this) {
        responses = null;
        close();
        session.methodsChanged();
      }
    }
  }
}
