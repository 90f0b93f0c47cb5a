package io.herd.adapter.amqp.internal;

import io.herd.adapter.amqp.AmqpConfig;
import io.herd.adapter.amqp.CloudToDeviceService;
import io.herd.adapter.amqp.CloudToDeviceService.FeedbackBatch;
import io.herd.adapter.amqp.CloudToDeviceService.Outgoing;
import io.herd.core.HubException;
import io.herd.core.Ids;
import io.vertx.core.json.JsonArray;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.Link;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.message.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's links on one connection (azure-iothub-wire.md §3.5): cloud-to-device sends on
 * {@code /messages/devicebound} into the durable queues, and feedback on {@code
 * /messages/serviceBound/feedback}. They need a token of a policy with ServiceConnect and are
 * detached with {@code amqp:unauthorized-access} when the last such token expires.
 */
final class ServiceLinks {
  private static final Logger LOG = LoggerFactory.getLogger(ServiceLinks.class);
  static final Symbol FEEDBACK_CONTENT_TYPE =
      Symbol.valueOf("application/vnd.microsoft.iothub.feedback.json");

  /** IoT Hub batches at most this many records into one feedback message. */
  static final int FEEDBACK_BATCH = 64;

  private final AmqpConnection connection;
  private final AmqpEngine engine;
  private final AmqpConfig config;
  private final CloudToDeviceService cloudToDevice;
  private final List<Link> links = new ArrayList<>();
  private long expiryTimer = -1;

  ServiceLinks(AmqpConnection connection, CloudToDeviceService cloudToDevice) {
    this.connection = connection;
    this.engine = connection.engine();
    this.config = connection.config();
    this.cloudToDevice = cloudToDevice;
  }

  /** Attaches a service link; the connection checked that a service token authorizes it. */
  void attach(AmqpAddress.Kind kind, Link link) {
    switch (kind) {
      case SERVICE_SEND -> {
        if (!(link instanceof Receiver r)) {
          connection.refuse(
              link, AmqpConnection.notAllowed("the service sends on /messages/devicebound"));
          return;
        }
        SendLink l = new SendLink(r);
        engine.accept(r, l);
        r.flow(config.linkCredit());
        added(link);
      }
      case FEEDBACK -> {
        if (!(link instanceof Sender s)) {
          connection.refuse(
              link, AmqpConnection.notAllowed("the service receives on the feedback link"));
          return;
        }
        FeedbackLink l = new FeedbackLink(s);
        engine.accept(s, l);
        added(link);
      }
      default ->
          connection.refuse(
              link,
              new ErrorCondition(
                  Symbol.valueOf("amqp:not-implemented"),
                  "This hub has no file uploads, so no file-upload notifications"));
    }
  }

  private void added(Link link) {
    links.add(link);
    armExpiry();
  }

  /** Detaches the service links when the service's authorization ends (unless renewed). */
  private void armExpiry() {
    if (expiryTimer >= 0) {
      return;
    }
    long until = connection.serviceExpiry();
    long delay = Math.max(1, until - connection.services().clock().millis());
    expiryTimer =
        connection
            .vertx()
            .setTimer(
                delay,
                t -> {
                  expiryTimer = -1;
                  if (links.isEmpty()) {
                    return;
                  }
                  if (connection.serviceExpiry() > connection.services().clock().millis()) {
                    armExpiry();
                    return;
                  }
                  LOG.info(
                      "detaching AMQP service links [remote: {}, reason: the service token"
                          + " expired]",
                      connection.remote());
                  ErrorCondition c =
                      new ErrorCondition(
                          AmqpConnection.UNAUTHORIZED,
                          "The service token expired; put a new one on $cbs before it does");
                  for (Link l : new ArrayList<>(links)) {
                    engine.detach(l, c);
                  }
                });
  }

  private void removed(Link link) {
    links.remove(link);
  }

  /** Cloud-to-device messages from the service: accepted once queued durably. */
  private final class SendLink implements LinkHandler {
    private final Receiver receiver;
    private boolean open = true;

    SendLink(Receiver receiver) {
      this.receiver = receiver;
    }

    @Override
    public void onMessage(Delivery d, byte[] encoded) {
      String deviceId;
      Outgoing message;
      try {
        Message m = AmqpMessages.decode(encoded);
        deviceId = deviceOf(m.getAddress());
        message = outgoing(m);
      } catch (AmqpMessages.MalformedMessage e) {
        done(d, AmqpMessages.rejected(TelemetryLink.DECODE_ERROR, e.getMessage()));
        return;
      } catch (HubException e) {
        done(d, AmqpMessages.rejected(e));
        return;
      }
      cloudToDevice
          .send(deviceId, message)
          .onComplete(
              ar ->
                  connection.onContext(
                      () -> {
                        if (!open) {
                          return;
                        }
                        if (ar.succeeded()) {
                          done(d, Accepted.getInstance());
                        } else {
                          HubException e = HubException.from(ar.cause());
                          if (e.errorCode().httpStatus() >= 500) {
                            LOG.warn("cloud-to-device send failed [device: {}]", deviceId, e);
                          }
                          done(d, AmqpMessages.rejected(e));
                        }
                      }));
    }

    private void done(Delivery d, DeliveryState outcome) {
      if (!d.remotelySettled()) {
        d.disposition(outcome);
      }
      d.settle();
      receiver.flow(1);
      engine.scheduleFlush();
    }

    @Override
    public void onClosed(ErrorCondition remoteError) {
      open = false;
      removed(receiver);
    }
  }

  /**
   * The device a service message is for: its {@code to} is {@code /devices/{URL-encoded
   * id}/messages/devicebound}.
   */
  static String deviceOf(String to) {
    String prefix = "/devices/";
    String suffix = "/messages/devicebound";
    if (to == null
        || !to.startsWith(prefix)
        || !to.toLowerCase(Locale.ROOT).endsWith(suffix)
        || to.length() <= prefix.length() + suffix.length()) {
      throw HubException.badRequest(
          "The message's 'to' must be /devices/{deviceId}/messages/devicebound, not '" + to + "'");
    }
    String encoded = to.substring(prefix.length(), to.length() - suffix.length());
    String id;
    try {
      id = URLDecoder.decode(encoded.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw HubException.badRequest("The device id in 'to' is not URL-encoded: '" + to + "'");
    }
    return Ids.require("deviceId", id);
  }

  private Outgoing outgoing(Message m) {
    byte[] body = AmqpMessages.body(m);
    if (body == null) {
      throw HubException.badRequest("The body must be data sections, a string or a binary value");
    }
    Properties p = m.getProperties();
    Map<String, String> app = AmqpMessages.applicationProperties(m);
    String ack = app.remove("iothub-ack");
    Instant expiry =
        p == null || p.getAbsoluteExpiryTime() == null
            ? null
            : p.getAbsoluteExpiryTime().toInstant();
    return new Outgoing(
        p == null ? null : AmqpMessages.idText(p.getMessageId()),
        p == null ? null : AmqpMessages.idText(p.getCorrelationId()),
        ack,
        expiry,
        p == null || p.getContentType() == null ? null : p.getContentType().toString(),
        p == null || p.getContentEncoding() == null ? null : p.getContentEncoding().toString(),
        app,
        body);
  }

  /**
   * Feedback records for the service, up to {@value #FEEDBACK_BATCH} per message, one message in
   * flight at a time while the service gives credit. Records of a message the service does not take
   * (released, or the link goes first) go back to the store.
   */
  private final class FeedbackLink implements LinkHandler {
    private final Sender sender;
    private boolean open = true;
    private boolean busy;
    private long pollTimer = -1;
    private Delivery inFlight;
    private FeedbackBatch batch;

    FeedbackLink(Sender sender) {
      this.sender = sender;
    }

    @Override
    public void onCredit() {
      pump();
    }

    private void pump() {
      if (!open || busy || sender.getCredit() <= 0) {
        return;
      }
      busy = true;
      cloudToDevice
          .takeFeedback(FEEDBACK_BATCH)
          .onComplete(ar -> connection.onContext(() -> taken(ar.succeeded() ? ar.result() : null)));
    }

    private void taken(FeedbackBatch b) {
      if (!open) {
        if (b != null) {
          b.giveBack();
        }
        return;
      }
      if (b == null || b.records().isEmpty()) {
        pollTimer =
            connection
                .vertx()
                .setTimer(
                    config.feedbackPollMillis(),
                    t -> {
                      pollTimer = -1;
                      busy = false;
                      pump();
                    });
        return;
      }
      batch = b;
      Message m = Message.Factory.create();
      Properties p = new Properties();
      p.setMessageId(UUID.randomUUID().toString());
      p.setContentType(FEEDBACK_CONTENT_TYPE);
      p.setUserId(new Binary(hubName().getBytes(StandardCharsets.UTF_8)));
      m.setProperties(p);
      byte[] body = new JsonArray(new ArrayList<>(b.records())).toBuffer().getBytes();
      m.setBody(new Data(new Binary(body)));
      AmqpMessages.Encoded e = AmqpMessages.encode(m, body.length);
      inFlight = engine.send(sender, e.bytes(), e.length(), false, null);
    }

    @Override
    public void onUpdate(Delivery d) {
      if (d != inFlight) {
        return;
      }
      DeliveryState state = d.getRemoteState();
      if (state == null && !d.remotelySettled()) {
        return;
      }
      d.settle();
      inFlight = null;
      // Accepted, or rejected (dead-lettered), means the service is done with the records.
      if (!(state instanceof Accepted || state instanceof Rejected)) {
        batch.giveBack();
      }
      batch = null;
      busy = false;
      engine.scheduleFlush();
      pump();
    }

    @Override
    public void onClosed(ErrorCondition remoteError) {
      open = false;
      if (pollTimer >= 0) {
        connection.vertx().cancelTimer(pollTimer);
        pollTimer = -1;
      }
      if (batch != null) {
        batch.giveBack();
        batch = null;
      }
      removed(sender);
    }
  }

  /** IoT Hub's feedback carries the hub name (the first label of its host name) as user id. */
  private String hubName() {
    String host = connection.hostName();
    if (host == null) {
      return "";
    }
    int dot = host.indexOf('.');
    return dot < 0 ? host : host.substring(0, dot);
  }
}
