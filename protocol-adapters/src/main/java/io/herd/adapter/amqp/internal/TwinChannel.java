package io.herd.adapter.amqp.internal;

import io.herd.adapter.amqp.AmqpConfig;
import io.herd.adapter.common.AdapterServices;
import io.herd.adapter.common.TwinRequests;
import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.twin.TwinChange;
import io.herd.twin.TwinStore;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.MessageAnnotations;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.transport.AmqpError;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.message.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A device's twin links ({@code .../twin}, azure-iothub-wire.md §3.3): requests arrive on the
 * device's sender, answers and desired-property notifications leave on its receiver, the two paired
 * by {@code com.microsoft:channel-correlation-id}. Requests: {@code GET}, {@code PATCH
 * /properties/reported}, {@code PUT} and {@code DELETE} of {@code
 * /notifications/twin/properties/desired} (subscribe, unsubscribe). Answers carry the request's
 * correlation id and the annotations {@code status} and {@code version}; notifications carry no
 * correlation id, which is how the SDKs tell them apart.
 */
final class TwinChannel {
  private static final Logger LOG = LoggerFactory.getLogger(TwinChannel.class);
  static final String REPORTED = "/properties/reported";
  static final String DESIRED_NOTIFICATIONS = "/notifications/twin/properties/desired";

  private final AmqpDeviceSession session;
  private final AmqpEngine engine;
  private final AdapterServices services;
  private final AmqpConfig config;
  private final String correlationId;
  private RequestLink requests;
  private ResponseLink responses;
  private final ArrayDeque<AmqpMessages.Encoded> unsent = new ArrayDeque<>();
  private TwinStore.Subscription desiredFeed;
  private boolean closed;

  TwinChannel(AmqpDeviceSession session, String correlationId) {
    this.session = session;
    this.engine = session.engine();
    this.services = session.services();
    this.config = session.config();
    this.correlationId = correlationId;
  }

  String correlationId() {
    return correlationId;
  }

  /** Takes the device's sender link: twin requests. A newer one replaces an older one. */
  void attachRequests(Receiver receiver) {
    if (requests != null) {
      requests.replaced();
    }
    requests = new RequestLink(receiver);
    engine.accept(receiver, requests);
    receiver.flow(config.linkCredit());
  }

  /** Takes the device's receiver link: answers and notifications. */
  void attachResponses(Sender sender) {
    if (responses != null) {
      responses.replaced();
    }
    responses = new ResponseLink(sender);
    engine.accept(sender, responses);
  }

  /** Detaches both links, e.g. because a newer channel of the identity replaced this one. */
  void detach(ErrorCondition condition) {
    if (requests != null) {
      engine.detach(requests.receiver, condition);
    }
    if (responses != null) {
      engine.detach(responses.sender, condition);
    }
    close();
  }

  /** Stops the notifications; the links are gone or going. */
  void close() {
    closed = true;
    if (desiredFeed != null) {
      desiredFeed.close();
      desiredFeed = null;
    }
    unsent.clear();
  }

  private final class RequestLink implements LinkHandler {
    final Receiver receiver;

    RequestLink(Receiver receiver) {
      this.receiver = receiver;
    }

    void replaced() {
      engine.detach(receiver, conflict());
    }

    @Override
    public void onMessage(Delivery d, byte[] encoded) {
      session.activity();
      // The SDKs send twin requests settled; accept the others.
      if (!d.remotelySettled()) {
        d.disposition(Accepted.getInstance());
      }
      d.settle();
      Message m;
      try {
        m = AmqpMessages.decode(encoded);
      } catch (AmqpMessages.MalformedMessage e) {
        receiver.flow(1);
        engine.scheduleFlush();
        return;
      }
      handle(m);
    }

    @Override
    public void onClosed(ErrorCondition remoteError) {
      if (requests == this) {
        requests = null;
        session.channelLinkClosed(TwinChannel.this);
      }
    }
  }

  private final class ResponseLink implements LinkHandler {
    final Sender sender;

    ResponseLink(Sender sender) {
      this.sender = sender;
    }

    void replaced() {
      engine.detach(sender, conflict());
    }

    @Override
    public void onCredit() {
      sendUnsent();
    }

    @Override
    public void onClosed(ErrorCondition remoteError) {
      if (responses == this) {
        responses = null;
        session.channelLinkClosed(TwinChannel.this);
      }
    }
  }

  boolean isEmpty() {
    return requests == null && responses == null;
  }

  private ErrorCondition conflict() {
    return AmqpMessages.condition(
        ErrorCode.LINK_CREATION_CONFLICT,
        "A newer twin link of " + session.identity() + " replaced this one");
  }

  // ---- requests

  private void handle(Message m) {
    Object cid = m.getProperties() == null ? null : m.getProperties().getCorrelationId();
    Object operation = AmqpMessages.messageAnnotation(m, "operation");
    Object resource = AmqpMessages.messageAnnotation(m, "resource");
    if ("GET".equals(operation)) {
      Buffer view;
      try {
        view = TwinRequests.deviceView(services.twins(), session.identity());
      } catch (HubException e) {
        error(cid, e);
        return;
      }
      reply(cid, 200, null, view);
    } else if ("PATCH".equals(operation) && REPORTED.equals(resource)) {
      byte[] body = AmqpMessages.body(m);
      TwinRequests.patchReported(
              services.twins(),
              session.identity(),
              Buffer.buffer(body == null ? new byte[0] : body))
          .onComplete(
              ar ->
                  session.onContext(
                      () -> {
                        if (ar.succeeded()) {
                          reply(cid, 204, ar.result().reportedVersion(), Buffer.buffer());
                        } else {
                          error(cid, HubException.from(ar.cause()));
                        }
                      }));
      // Credit comes back with the answer.
      return;
    } else if ("PUT".equals(operation) && DESIRED_NOTIFICATIONS.equals(resource)) {
      if (desiredFeed == null) {
        desiredFeed = services.twins().subscribe(session.identity().key(), this::onTwinChange);
      }
      reply(cid, 200, null, Buffer.buffer());
    } else if ("DELETE".equals(operation) && DESIRED_NOTIFICATIONS.equals(resource)) {
      if (desiredFeed != null) {
        desiredFeed.close();
        desiredFeed = null;
      }
      reply(cid, 200, null, Buffer.buffer());
    } else {
      error(
          cid,
          HubException.badRequest(
              "Unsupported twin request: operation '"
                  + operation
                  + "', resource '"
                  + resource
                  + "'"));
    }
  }

  private void error(Object cid, HubException e) {
    if (e.errorCode().httpStatus() >= 500) {
      LOG.warn("twin request failed [device: {}]", session.identity(), e);
    }
    // The SDKs JSON.parse an error body (wire §3.3).
    reply(
        cid,
        e.errorCode().httpStatus(),
        null,
        TwinRequests.errorBody(e, services.clock().instant()));
  }

  /** Answers a request; its credit comes back. */
  private void reply(Object cid, int status, Long version, Buffer body) {
    if (requests != null) {
      requests.receiver.flow(1);
    }
    Map<Symbol, Object> annotations = new LinkedHashMap<>();
    annotations.put(Symbol.valueOf("status"), status);
    if (version != null) {
      annotations.put(Symbol.valueOf("version"), version);
    }
    Message m = Message.Factory.create();
    Properties p = new Properties();
    p.setCorrelationId(cid);
    m.setProperties(p);
    m.setMessageAnnotations(new MessageAnnotations(annotations));
    m.setBody(new Data(new Binary(body.getBytes())));
    enqueue(AmqpMessages.encode(m, body.length()));
  }

  // ---- desired-property notifications

  private void onTwinChange(TwinChange change) {
    if (change.kind() == TwinChange.Kind.DESIRED) {
      session.onContext(() -> notifyDesired(change));
    }
  }

  private void notifyDesired(TwinChange change) {
    if (closed || desiredFeed == null) {
      return;
    }
    Buffer body = change.patch().toBuffer();
    Map<Symbol, Object> annotations = new LinkedHashMap<>();
    annotations.put(Symbol.valueOf("version"), change.twin().desiredVersion());
    annotations.put(Symbol.valueOf("resource"), "/properties/desired");
    Message m = Message.Factory.create();
    m.setMessageAnnotations(new MessageAnnotations(annotations));
    m.setBody(new Data(new Binary(body.getBytes())));
    enqueue(AmqpMessages.encode(m, body.length()));
  }

  /**
   * Sends now or once the device gives credit. What waits is bounded: answers by the request
   * credit, notifications by this same bound; a device that takes neither has its twin links
   * detached (it reads the whole twin again when it re-attaches, as the SDKs do).
   */
  private void enqueue(AmqpMessages.Encoded message) {
    if (closed) {
      return;
    }
    if (unsent.size() >= 2 * config.linkCredit()) {
      LOG.info(
          "detaching twin links [device: {}, remote: {}, reason: the device takes no answers or"
              + " notifications]",
          session.identity(),
          session.remote());
      detach(
          new ErrorCondition(
              AmqpError.RESOURCE_LIMIT_EXCEEDED,
              "The twin receiver link gives no credit; " + unsent.size() + " messages wait"));
      session.channelLinkClosed(this);
      return;
    }
    unsent.add(message);
    sendUnsent();
  }

  private void sendUnsent() {
    if (responses == null) {
      return;
    }
    Sender s = responses.sender;
    while (!unsent.isEmpty() && s.getCredit() > 0) {
      AmqpMessages.Encoded e = unsent.poll();
      // Twin links are settled on send (snd-settle-mode settled, wire §3.3).
      engine.send(s, e.bytes(), e.length(), true, null);
    }
  }
}
