package io.herd.simulator.internal;

import io.herd.simulator.internal.AmqpDeviceMessages.MethodCall;
import io.herd.simulator.internal.AmqpDeviceMessages.TwinMessage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.proton.ProtonClient;
import io.vertx.proton.ProtonClientOptions;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.ProtonDelivery;
import io.vertx.proton.ProtonLink;
import io.vertx.proton.ProtonQoS;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.message.Message;

/**
 * The AMQP {@link DeviceConnection}, as the Node SDK's AMQP transport talks to IoT Hub
 * (azure-iothub-wire.md §3): TLS, SASL ANONYMOUS, Open, a put-token on {@code $cbs}, then the
 * device's links (telemetry sender, twin and methods sender + receiver pairs), a twin PUT that
 * subscribes to desired-property notifications, and a twin GET. Telemetry is sent unsettled and
 * acknowledged by its disposition; reported patches go settled on the twin link, answered by a
 * message with the same correlation id and a {@code status} annotation.
 *
 * <p>Flow control: telemetry is sent only while the hub gives credit ({@link #telemetry} returns
 * false otherwise); the device gives the hub {@value #METHOD_CREDIT} credits for method requests
 * and one more as each is answered, so answers never wait in numbers; twin requests are one at a
 * time (the device's reported patch in flight, or a handshake step).
 */
public final class AmqpDeviceConnection implements DeviceConnection {

  /** Method requests the device holds unanswered at most. */
  static final int METHOD_CREDIT = 8;

  private static final int TWIN_CREDIT = 16;
  private static final long RENEW_TIMEOUT_MS = 30_000;
  private static final String SUBSCRIBE_RID = "subscribe";
  private static final String GET_RID = "get";

  private enum State {
    CONNECTING,
    AUTHENTICATING,
    ATTACHING,
    SUBSCRIBING,
    READING_TWIN,
    ONLINE,
    CLOSED
  }

  private final Vertx vertx;
  private final String deviceId;
  private final Listener listener;
  private State state = State.CONNECTING;
  private ProtonConnection connection;
  private String audience;
  private CbsClient cbs;
  private ProtonSender events;
  private ProtonSender twinRequests;
  private ProtonReceiver twinAnswers;
  private ProtonSender methodAnswers;
  private ProtonReceiver methodRequests;
  // Unanswered method requests: rid -> the correlation id their answer carries.
  private final Map<String, Object> methodIds = new HashMap<>();
  private long startNanos;
  private long handshakeTimer = -1;
  private String closeReason;
  private boolean closedByUs;

  public AmqpDeviceConnection(Vertx vertx, String deviceId, Listener listener) {
    this.vertx = vertx;
    this.deviceId = deviceId;
    this.listener = listener;
  }

  /**
   * Opens connections to {@code target}'s AMQP port with {@code options} ({@link
   * AmqpWire#clientOptions}), each with {@code timeoutMs} for its handshake.
   */
  public static Opener opener(
      Vertx vertx, ProtonClientOptions options, HubTarget target, long timeoutMs) {
    ProtonClient client = ProtonClient.create(vertx);
    return (deviceId, sasToken, listener) -> {
      AmqpDeviceConnection c = new AmqpDeviceConnection(vertx, deviceId, listener);
      c.open(
          client,
          options,
          target.host(),
          target.amqpPort(),
          target.hostName(),
          sasToken,
          timeoutMs);
      return c;
    };
  }

  /**
   * Connects to {@code host:port} and signs in as the device with {@code sasToken}, a token for
   * {@code hostName} (the hub's name in tokens, a port included when it has one); the handshake (up
   * to the twin) must finish within {@code timeoutMs}, or the connection closes with a reason.
   */
  public void open(
      ProtonClient client,
      ProtonClientOptions options,
      String host,
      int port,
      String hostName,
      String sasToken,
      long timeoutMs) {
    startNanos = System.nanoTime();
    audience = AmqpWire.deviceAudience(hostName, deviceId);
    handshakeTimer =
        vertx.setTimer(
            timeoutMs,
            t -> {
              handshakeTimer = -1;
              if (state != State.ONLINE && state != State.CLOSED) {
                fail("no " + awaited() + " within " + timeoutMs + " ms");
              }
            });
    client.connect(
        options,
        host,
        port,
        ar -> {
          if (ar.failed()) {
            finish("TCP/TLS/SASL: " + describe(ar.cause()));
            return;
          }
          ProtonConnection c = ar.result();
          if (state == State.CLOSED) {
            c.disconnect(); // timed out or closed meanwhile
            return;
          }
          connection = c;
          c.disconnectHandler(x -> finish(closeReason == null ? "closed by the hub" : closeReason));
          c.closeHandler(x -> fail("connection closed by the hub: " + condition(c)));
          c.openHandler(
              x -> {
                if (x.failed()) {
                  fail("Open: " + describe(x.cause()));
                } else if (state == State.CONNECTING) {
                  authenticate(sasToken);
                }
              });
          // The Open names the host the device connected to, as the SDK's amqps:// URI does.
          c.setHostname(host);
          c.open();
        });
  }

  private void authenticate(String sasToken) {
    state = State.AUTHENTICATING;
    CbsClient.open(vertx, connection)
        .compose(
            client -> {
              cbs = client;
              return client.putToken(audience, sasToken, RENEW_TIMEOUT_MS);
            })
        .onComplete(
            ar -> {
              if (state != State.AUTHENTICATING) {
                return;
              }
              if (ar.failed()) {
                fail("put-token: " + ar.cause().getMessage());
                return;
              }
              listener.onConnected(System.nanoTime() - startNanos);
              attachLinks();
            });
  }

  private void attachLinks() {
    state = State.ATTACHING;
    Map<Symbol, Object> twin = AmqpDeviceMessages.channelProperties("twin", UUID.randomUUID());
    Map<Symbol, Object> methods =
        AmqpDeviceMessages.channelProperties("methods", UUID.randomUUID());
    String twinAddress = AmqpDeviceMessages.twinAddress(deviceId);
    String methodsAddress = AmqpDeviceMessages.methodsAddress(deviceId);
    events = connection.createSender(AmqpDeviceMessages.eventsAddress(deviceId));
    events.setProperties(AmqpDeviceMessages.linkProperties());
    twinRequests = connection.createSender(twinAddress);
    twinRequests.setProperties(twin);
    twinRequests.setQoS(ProtonQoS.AT_MOST_ONCE); // twin requests go settled (wire §3.3)
    twinAnswers = connection.createReceiver(twinAddress);
    twinAnswers.setProperties(twin);
    twinAnswers.setPrefetch(TWIN_CREDIT).handler((d, m) -> onTwinMessage(m));
    methodAnswers = connection.createSender(methodsAddress);
    methodAnswers.setProperties(methods);
    methodRequests = connection.createReceiver(methodsAddress);
    methodRequests.setProperties(methods);
    methodRequests.setPrefetch(0).handler((d, m) -> onMethodRequest(m));
    List<ProtonLink<?>> links =
        List.of(events, twinRequests, twinAnswers, methodAnswers, methodRequests);
    Future.all(links.stream().map(AmqpDeviceConnection::attach).toList())
        .onComplete(
            ar -> {
              if (state != State.ATTACHING) {
                return;
              }
              if (ar.failed()) {
                fail(ar.cause().getMessage());
                return;
              }
              for (ProtonLink<?> l : links) {
                l.closeHandler(x -> linkLost(l));
                l.detachHandler(x -> linkLost(l));
              }
              methodRequests.flow(METHOD_CREDIT);
              state = State.SUBSCRIBING;
              twinRequests.send(
                  AmqpDeviceMessages.twinRequest(
                      "PUT", AmqpDeviceMessages.DESIRED_NOTIFICATIONS, SUBSCRIBE_RID, null));
            });
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Future<?> attach(ProtonLink<?> link) {
    return AmqpWire.attach((ProtonLink) link);
  }

  private void linkLost(ProtonLink<?> link) {
    if (state != State.CLOSED) {
      fail("link " + AmqpWire.address(link) + " detached by the hub: " + AmqpWire.condition(link));
    }
  }

  @Override
  public boolean isOnline() {
    return state == State.ONLINE;
  }

  @Override
  public void report(String rid, JsonObject patch) {
    if (state == State.ONLINE) {
      twinRequests.send(
          AmqpDeviceMessages.twinRequest(
              "PATCH", AmqpDeviceMessages.REPORTED, rid, patch.toBuffer().getBytes()));
    }
  }

  /** Telemetry sent unsettled while the hub gives credit; its disposition tells the listener. */
  @Override
  public boolean telemetry(byte[] body, int tag) {
    if (state != State.ONLINE || events.sendQueueFull()) {
      return false;
    }
    events.send(AmqpDeviceMessages.telemetry(body), d -> onTelemetryUpdate(d, tag));
    return true;
  }

  private void onTelemetryUpdate(ProtonDelivery d, int tag) {
    if (!d.remotelySettled() || state != State.ONLINE) {
      return; // not final yet, or the listener has counted it lost with the connection
    }
    DeliveryState outcome = d.getRemoteState();
    if (outcome instanceof Accepted) {
      listener.onTelemetryAcked(tag);
    } else if (outcome instanceof Rejected r && r.getError() != null) {
      listener.onTelemetryRefused(
          tag, "rejected " + r.getError().getCondition() + " " + r.getError().getDescription());
    } else {
      listener.onTelemetryRefused(tag, String.valueOf(outcome));
    }
  }

  @Override
  public void answer(String rid, int status, JsonObject payload) {
    Object correlationId = methodIds.remove(rid);
    if (correlationId == null || state != State.ONLINE) {
      return;
    }
    methodAnswers.send(
        AmqpDeviceMessages.methodResponse(
            correlationId, status, payload == null ? new byte[0] : payload.toBuffer().getBytes()));
    methodRequests.flow(1); // room for the next request
  }

  /** proton-j sends the empty frames that the idle timeout in the hub's Open asks for. */
  @Override
  public void ping() {}

  /** A new put-token on the open {@code $cbs} link, as the SDKs renew (wire §3.2). */
  @Override
  public boolean renew(String sasToken) {
    if (state == State.ONLINE) {
      cbs.putToken(audience, sasToken, RENEW_TIMEOUT_MS)
          .onFailure(
              e -> {
                if (state != State.CLOSED) {
                  fail("token renewal: " + e.getMessage());
                }
              });
    }
    return true;
  }

  @Override
  public void close(boolean graceful) {
    if (state == State.CLOSED) {
      return;
    }
    closedByUs = true;
    if (connection == null) {
      finish(null);
      return;
    }
    if (graceful) {
      connection.close();
    }
    connection.disconnect();
  }

  // ---- what the hub sends

  private void onTwinMessage(Message m) {
    TwinMessage t = AmqpDeviceMessages.twinMessage(m);
    if (t == null) {
      fail("malformed message on the twin link");
      return;
    }
    if (t.isNotification()) {
      // Before ONLINE the twin GET that follows the subscription covers it (wire §2.5).
      if (state == State.ONLINE) {
        listener.onDesired(t.version(), (JsonObject) t.body());
      }
      return;
    }
    switch (state) {
      case SUBSCRIBING -> {
        if (!SUBSCRIBE_RID.equals(t.rid())) {
          return;
        }
        if (t.status() != 200) {
          fail("desired-properties subscription answered " + t.status() + ": " + t.body());
          return;
        }
        state = State.READING_TWIN;
        twinRequests.send(AmqpDeviceMessages.twinRequest("GET", null, GET_RID, null));
      }
      case READING_TWIN -> {
        if (GET_RID.equals(t.rid())) {
          onTwin(t);
        }
      }
      case ONLINE -> listener.onTwinResponse(t.rid(), t.status());
      default -> {
        // Closing: nothing waits for it.
      }
    }
  }

  private void onTwin(TwinMessage t) {
    if (t.status() != 200 || !(t.body() instanceof JsonObject twin)) {
      fail("twin GET answered " + t.status() + ": " + t.body());
      return;
    }
    state = State.ONLINE;
    cancelHandshakeTimer();
    listener.onOnline(twin);
  }

  private void onMethodRequest(Message m) {
    MethodCall call = AmqpDeviceMessages.methodCall(m);
    if (call == null) {
      fail("malformed method request: no IoThub-methodname or correlation id");
      return;
    }
    if (state != State.ONLINE) {
      methodRequests.flow(1); // unanswered: the hub times the call out
      return;
    }
    methodIds.put(call.rid(), call.correlationId());
    listener.onMethod(call.name(), call.rid(), call.payload());
  }

  // ---- closing

  private String awaited() {
    return switch (state) {
      case CONNECTING -> connection == null ? "TCP/TLS/SASL connection" : "Open";
      case AUTHENTICATING -> "put-token answer";
      case ATTACHING -> "link attach";
      case SUBSCRIBING -> "answer to the desired-properties subscription";
      default -> "twin GET response";
    };
  }

  private void fail(String reason) {
    if (closeReason == null) {
      closeReason = reason;
    }
    if (connection == null) {
      finish(reason);
    } else {
      connection.disconnect();
    }
  }

  private void finish(String reason) {
    if (state == State.CLOSED) {
      return;
    }
    boolean failedConnect = state != State.ONLINE;
    state = State.CLOSED;
    cancelHandshakeTimer();
    methodIds.clear();
    listener.onClosed(closedByUs ? null : reason, failedConnect);
  }

  private void cancelHandshakeTimer() {
    if (handshakeTimer >= 0) {
      vertx.cancelTimer(handshakeTimer);
      handshakeTimer = -1;
    }
  }

  private static String condition(ProtonConnection c) {
    ErrorCondition e = c.getRemoteCondition();
    return e == null ? "no condition" : e.getCondition() + " " + e.getDescription();
  }

  private static String describe(Throwable t) {
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }
}
