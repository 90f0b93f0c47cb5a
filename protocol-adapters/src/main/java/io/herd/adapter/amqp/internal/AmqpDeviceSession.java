package io.herd.adapter.amqp.internal;

import io.herd.adapter.amqp.AmqpConfig;
import io.herd.adapter.common.ActivityClock;
import io.herd.adapter.common.AdapterServices;
import io.herd.adapter.common.CloudToDeviceMessage;
import io.herd.adapter.common.DeliveryOutcome;
import io.herd.adapter.common.DeviceIdentity;
import io.herd.adapter.common.DeviceLink;
import io.herd.adapter.common.MethodResult;
import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Link;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sender;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One device or module on an AMQP connection (azure-iothub-wire.md §3.3): its links, how long its
 * authentication holds, and the {@link DeviceLink} the service side reaches it through. Owned by
 * its connection's context; the {@link DeviceLink} methods hop onto it.
 *
 * <p>When its token expires without a new put-token, every link of the identity is detached with
 * {@code amqp:unauthorized-access} and the identity counts as disconnected. A second link of a
 * feature replaces the first, which is detached with {@code amqp:link:detach-forced} (409002
 * LinkCreationConflict).
 */
final class AmqpDeviceSession implements DeviceLink {
  private static final Logger LOG = LoggerFactory.getLogger(AmqpDeviceSession.class);
  private static final Symbol CHANNEL_CORRELATION_ID =
      Symbol.valueOf("com.microsoft:channel-correlation-id");

  private final AmqpConnection connection;
  private final AmqpEngine engine;
  private final AdapterServices services;
  private final AmqpConfig config;
  private final DeviceIdentity identity;

  private long expiresAtMillis;
  private long expiryTimer = -1;
  private boolean registered;
  private boolean closed;
  private final ActivityClock activity;

  private TelemetryLink telemetry;
  private CloudToDeviceLink cloudToDevice;

  /** Module input links: attached and kept, though nothing is routed to module inputs. */
  private final List<Sender> moduleInputs = new ArrayList<>();

  private TwinChannel twin;
  private final MethodChannel methods;
  private volatile boolean acceptsMethods;

  AmqpDeviceSession(AmqpConnection connection, DeviceIdentity identity) {
    this.connection = connection;
    this.engine = connection.engine();
    this.services = connection.services();
    this.config = connection.config();
    this.identity = identity;
    this.methods = new MethodChannel(this);
    this.activity =
        new ActivityClock(
            services.registry(), services.clock(), identity.deviceId(), identity.moduleId());
  }

  @Override
  public DeviceIdentity identity() {
    return identity;
  }

  @Override
  public String protocol() {
    return engine.transport().protocol();
  }

  AmqpEngine engine() {
    return engine;
  }

  AdapterServices services() {
    return services;
  }

  AmqpConfig config() {
    return config;
  }

  Vertx vertx() {
    return connection.vertx();
  }

  String remote() {
    return connection.remote();
  }

  void onContext(Runnable r) {
    connection.onContext(r);
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
      vertx().cancelTimer(expiryTimer);
      expiryTimer = -1;
    }
    if (millis == Long.MAX_VALUE) {
      return;
    }
    long delay = Math.max(1, millis - services.clock().millis());
    expiryTimer =
        vertx()
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
    boolean hubSends = link instanceof Sender;
    switch (kind) {
      case EVENTS -> {
        if (!hubSends) {
          if (telemetry != null) {
            engine.detach(telemetry.link(), conflict("telemetry"));
          }
          telemetry = new TelemetryLink(this, (Receiver) link);
          telemetry.open();
        } else if (identity.moduleId() != null) {
          // Node's module client receives its input messages here (wire §3.3).
          moduleInputs.add((Sender) link);
          engine.accept(link, closed -> moduleInputs.remove((Sender) link));
        } else {
          refuse(link, "a device sends on its events link, it does not receive");
        }
      }
      case DEVICEBOUND -> {
        if (!hubSends) {
          refuse(link, "a device receives cloud-to-device messages, it does not send them");
          return;
        }
        if (cloudToDevice != null) {
          engine.detach(cloudToDevice.link(), conflict("cloud-to-device"));
        }
        cloudToDevice = new CloudToDeviceLink(this, (Sender) link);
        cloudToDevice.open();
        // Messages that waited while the device was away go out now (after the attach).
        services.sessions().cloudToDeviceReady(identity.key());
      }
      case TWIN -> {
        String cid = channelCorrelationId(link);
        if (twin != null && !twin.correlationId().equals(cid)) {
          twin.detach(conflict("twin"));
          twin = null;
        }
        if (twin == null) {
          twin = new TwinChannel(this, cid);
        }
        if (hubSends) {
          twin.attachResponses((Sender) link);
        } else {
          twin.attachRequests((Receiver) link);
        }
      }
      case METHODS -> {
        if (hubSends) {
          methods.attachRequests((Sender) link);
        } else {
          methods.attachResponses((Receiver) link);
        }
        methodsChanged();
      }
      default -> refuse(link, kind + " is not a device link");
    }
  }

  private void refuse(Link link, String why) {
    connection.refuse(link, AmqpConnection.notAllowed(why));
  }

  private ErrorCondition conflict(String feature) {
    return AmqpMessages.condition(
        ErrorCode.LINK_CREATION_CONFLICT,
        "A newer " + feature + " link of " + identity + " replaced this one");
  }

  private static String channelCorrelationId(Link link) {
    Map<Symbol, Object> props = link.getRemoteProperties();
    Object v = props == null ? null : props.get(CHANNEL_CORRELATION_ID);
    return v == null ? "" : v.toString();
  }

  void linkClosed(TelemetryLink l) {
    if (telemetry == l) {
      telemetry = null;
    }
  }

  void linkClosed(CloudToDeviceLink l) {
    if (cloudToDevice == l) {
      cloudToDevice = null;
    }
  }

  void channelLinkClosed(TwinChannel channel) {
    if (twin == channel && channel.isEmpty()) {
      channel.close();
      twin = null;
    }
  }

  /** The method links changed: tell waiting callers when requests can go out. */
  void methodsChanged() {
    boolean now = methods.acceptsRequests();
    if (now && !acceptsMethods) {
      acceptsMethods = true;
      services.sessions().methodsReady(this);
    } else if (!now) {
      acceptsMethods = false;
    }
  }

  // ---- DeviceLink (any thread)

  @Override
  public Future<MethodResult> invokeMethod(String methodName, Buffer payload, Duration timeout) {
    Promise<MethodResult> promise = Promise.promise();
    onContext(
        () -> {
          if (closed) {
            promise.fail(notOnline("is not connected"));
          } else {
            methods.invoke(methodName, payload, timeout, promise);
          }
        });
    return promise.future();
  }

  @Override
  public Future<DeliveryOutcome> deliver(CloudToDeviceMessage message) {
    Promise<DeliveryOutcome> promise = Promise.promise();
    onContext(
        () -> {
          if (closed) {
            promise.fail(notOnline("is not connected"));
          } else if (cloudToDevice == null) {
            promise.fail(notOnline("has not attached its cloud-to-device link"));
          } else {
            cloudToDevice.deliver(message, promise);
          }
        });
    return promise.future();
  }

  @Override
  public boolean acceptsMethods() {
    return acceptsMethods;
  }

  @Override
  public void closeReplaced() {
    onContext(
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

  void activity() {
    activity.touch();
  }

  HubException notOnline(String why) {
    return new HubException(ErrorCode.DEVICE_NOT_ONLINE, "Device " + identity + " " + why);
  }

  /** Detaches every link of the identity with {@code condition} and ends the session. */
  private void end(ErrorCondition condition) {
    if (telemetry != null) {
      engine.detach(telemetry.link(), condition);
    }
    if (cloudToDevice != null) {
      engine.detach(cloudToDevice.link(), condition);
    }
    for (Sender s : new ArrayList<>(moduleInputs)) {
      engine.detach(s, condition);
    }
    if (twin != null) {
      twin.detach(condition);
    }
    methods.detach(condition);
    close();
    connection.removed(this);
  }

  /** Ends the session: the identity counts as disconnected unless another connection has it. */
  void close() {
    if (closed) {
      return;
    }
    closed = true;
    acceptsMethods = false;
    if (expiryTimer >= 0) {
      vertx().cancelTimer(expiryTimer);
      expiryTimer = -1;
    }
    if (twin != null) {
      twin.close();
    }
    methods.close();
    if (registered) {
      services.sessions().unregister(this);
      registered = false;
    }
  }
}
