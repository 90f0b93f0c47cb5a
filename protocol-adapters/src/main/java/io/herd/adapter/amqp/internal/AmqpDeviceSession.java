package io.herd.adapter.amqp.internal;

import io.herd.adapter.amqp.AmqpConfig;
import io.herd.adapter.common.AdapterServices;
import io.herd.adapter.common.CloudToDeviceMessage;
import io.herd.adapter.common.DeviceIdentity;
import io.herd.adapter.common.DeviceLink;
import io.herd.adapter.common.DeviceMessage;
import io.herd.adapter.common.MethodResult;
import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.Link;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.message.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One device or module on an AMQP connection (azure-iothub-wire.md §3.3): its links, how long its
 * authentication holds, and the {@link DeviceLink} the service side reaches it through. Owned by
 * its connection's context; the {@link DeviceLink} methods hop onto it.
 *
 * <p>When its token expires without a new put-token, every link of the identity is detached with
 * {@code amqp:unauthorized-access} and the identity counts as disconnected.
 */
final class AmqpDeviceSession implements DeviceLink {
  private static final Logger LOG = LoggerFactory.getLogger(AmqpDeviceSession.class);

  /** lastActivityTime is coarse: at most one registry update per identity and second. */
  private static final long ACTIVITY_GRANULARITY_MS = 1000;

  private final AmqpConnection connection;
  private final AmqpEngine engine;
  private final AdapterServices services;
  private final AmqpConfig config;
  private final DeviceIdentity identity;

  private long expiresAtMillis;
  private long expiryTimer = -1;
  private boolean registered;
  private boolean closed;
  private long lastActivityMs;

  private TelemetryLink telemetry;

  AmqpDeviceSession(AmqpConnection connection, DeviceIdentity identity) {
    this.connection = connection;
    this.engine = connection.engine();
    this.services = connection.services();
    this.config = connection.config();
    this.identity = identity;
  }

  @Override
  public DeviceIdentity identity() {
    return identity;
  }

  @Override
  public String protocol() {
    return engine.transport().protocol();
  }

  void register() {
    services.sessions().register(this);
    registered = true;
    LOG.debug(
        "device authenticated [device: {}, remote: {}, protocol: {}, auth: {}]",
        identity,
        connection.remote(),
        protocol(),
        identity.authMethod());
  }

  boolean isAuthorized() {
    return !closed && expiresAtMillis > services.clock().millis();
  }

  /** Extends (or shortens) how long the identity's links may stay, e.g. after a new put-token. */
  void authorizedUntil(long millis) {
    expiresAtMillis = millis;
    if (expiryTimer >= 0) {
      connection.vertx().cancelTimer(expiryTimer);
      expiryTimer = -1;
    }
    if (millis == Long.MAX_VALUE) {
      return;
    }
    long delay = Math.max(1, millis - services.clock().millis());
    expiryTimer =
        connection
            .vertx()
            .setTimer(
                delay,
                t -> {
                  expiryTimer = -1;
                  LOG.info(
                      "detaching AMQP links [device: {}, remote: {}, reason: SAS token expired]",
                      identity,
                      connection.remote());
                  end(
                      new ErrorCondition(
                          AmqpConnection.UNAUTHORIZED,
                          "The token of "
                              + identity
                              + " expired; put a new one on $cbs before it does"));
                });
  }

  // ---- links

  /** Attaches a link the connection routed here (the identity is authorized). */
  void attach(AmqpAddress.Kind kind, Link link) {
    boolean hubReceives = link instanceof Receiver;
    switch (kind) {
      case EVENTS -> {
        if (hubReceives) {
          if (telemetry != null) {
            telemetry.replaced();
          }
          telemetry = new TelemetryLink((Receiver) link);
          telemetry.open();
        } else {
          connection.refuse(
              link, AmqpConnection.notAllowed("the hub does not send on " + kind + " links yet"));
        }
      }
      default ->
          connection.refuse(
              link,
              new ErrorCondition(
                  Symbol.valueOf("amqp:not-implemented"), kind + " links are not supported yet"));
    }
  }

  /** Telemetry from the device: each message is accepted once the events endpoint has it. */
  private final class TelemetryLink implements LinkHandler {
    private final Receiver receiver;
    private boolean open = true;
    private int owedCredit;
    private double tokens = config.deviceMessagesPerSecond();
    private long tokensAtNanos = System.nanoTime();
    private boolean creditTimer;

    TelemetryLink(Receiver receiver) {
      this.receiver = receiver;
    }

    void open() {
      engine.accept(receiver, this);
      receiver.flow(config.linkCredit());
    }

    @Override
    public void onMessage(Delivery d, byte[] encoded) {
      activity();
      Message m;
      try {
        m = AmqpMessages.decode(encoded);
      } catch (AmqpMessages.MalformedMessage e) {
        settle(d, AmqpMessages.rejected(Symbol.valueOf("amqp:decode-error"), e.getMessage()));
        giveCredit();
        return;
      }
      byte[] body = AmqpMessages.body(m);
      if (body == null) {
        settle(
            d,
            AmqpMessages.rejected(
                Symbol.valueOf("amqp:decode-error"),
                "the body must be data sections, a string or a binary value"));
        giveCredit();
        return;
      }
      if (body.length > config.maxMessageBytes()) {
        settle(
            d,
            AmqpMessages.rejected(
                Symbol.valueOf(ErrorCode.MESSAGE_TOO_LARGE.amqpCondition()),
                "message body of "
                    + body.length
                    + " bytes exceeds the limit of "
                    + config.maxMessageBytes()));
        giveCredit();
        return;
      }
      Instant now = services.clock().instant();
      DeviceMessage message =
          DeviceMessage.telemetry(
              identity,
              AmqpMessages.systemProperties(m),
              AmqpMessages.applicationProperties(m),
              body,
              now,
              protocol());
      services
          .events()
          .accept(message)
          .onComplete(
              ar ->
                  connection.onContext(
                      () -> {
                        if (!open) {
                          return;
                        }
                        if (ar.succeeded()) {
                          settle(d, Accepted.getInstance());
                        } else {
                          HubException e = HubException.from(ar.cause());
                          if (e.errorCode().httpStatus() >= 500) {
                            LOG.warn("telemetry not accepted [device: {}]", identity, e);
                          }
                          settle(d, AmqpMessages.rejected(e));
                        }
                        giveCredit();
                      }));
    }

    private void settle(Delivery d, org.apache.qpid.proton.amqp.transport.DeliveryState outcome) {
      if (!d.remotelySettled()) {
        d.disposition(outcome);
      }
      d.settle();
      engine.scheduleFlush();
    }

    /** One message done: its credit goes back, no faster than the device's rate allows. */
    private void giveCredit() {
      owedCredit++;
      int rate = config.deviceMessagesPerSecond();
      if (rate == 0) {
        receiver.flow(owedCredit);
        owedCredit = 0;
        engine.scheduleFlush();
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
        engine.scheduleFlush();
      }
      if (owedCredit > 0 && !creditTimer) {
        creditTimer = true;
        long waitMs = Math.max(1, (long) Math.ceil((1 - tokens) * 1000 / rate));
        connection
            .vertx()
            .setTimer(
                waitMs,
                t -> {
                  creditTimer = false;
                  if (open && owedCredit > 0) {
                    owedCredit--;
                    giveCredit();
                  }
                });
      }
    }

    /** A newer telemetry link of the identity took over (409002 LinkCreationConflict). */
    void replaced() {
      engine.detach(
          receiver,
          AmqpMessages.condition(
              ErrorCode.LINK_CREATION_CONFLICT,
              "A newer link of " + identity + " replaced this one"));
    }

    @Override
    public void onClosed(ErrorCondition remoteError) {
      open = false;
      if (telemetry == this) {
        telemetry = null;
      }
    }
  }

  // ---- DeviceLink (any thread)

  @Override
  public Future<MethodResult> invokeMethod(String methodName, Buffer payload, Duration timeout) {
    return Future.failedFuture(notOnline("has not attached its method links"));
  }

  @Override
  public Future<Void> deliver(CloudToDeviceMessage message) {
    return Future.failedFuture(notOnline("has not attached its cloud-to-device link"));
  }

  @Override
  public boolean acceptsMethods() {
    return false;
  }

  @Override
  public void closeReplaced() {
    connection.onContext(
        () -> {
          if (!closed) {
            LOG.info(
                "detaching AMQP links [device: {}, remote: {}, reason: the device connected"
                    + " again (400027 ConnectionForcefullyClosedOnNewConnection)]",
                identity,
                connection.remote());
            end(
                AmqpMessages.condition(
                    ErrorCode.CONNECTION_FORCEFULLY_CLOSED_ON_NEW_CONNECTION,
                    identity + " connected again on another connection"));
          }
        });
  }

  // ---- helpers

  private void activity() {
    long now = services.clock().millis();
    if (now - lastActivityMs >= ACTIVITY_GRANULARITY_MS) {
      lastActivityMs = now;
      services
          .registry()
          .activity(identity.deviceId(), identity.moduleId(), Instant.ofEpochMilli(now));
    }
  }

  private HubException notOnline(String why) {
    return new HubException(ErrorCode.DEVICE_NOT_ONLINE, "Device " + identity + " " + why);
  }

  private List<Link> links() {
    List<Link> out = new ArrayList<>();
    if (telemetry != null) {
      out.add(telemetry.receiver);
    }
    return out;
  }

  /** Detaches every link of the identity with {@code condition} and ends the session. */
  private void end(ErrorCondition condition) {
    for (Link l : links()) {
      engine.detach(l, condition);
    }
    close();
    connection.removed(this);
  }

  /** Ends the session: the identity counts as disconnected unless another connection has it. */
  void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (expiryTimer >= 0) {
      connection.vertx().cancelTimer(expiryTimer);
      expiryTimer = -1;
    }
    if (registered) {
      services.sessions().unregister(this);
      registered = false;
    }
  }
}
