package io.herd.simulator.internal;

import io.herd.core.SasSigner;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
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

  /** The steps of the handshake; then {@link ConnectionLife#isOnline}. */
  private enum Step {
    CONNECTING,
    AUTHENTICATING,
    ATTACHING,
    SUBSCRIBING,
    READING_TWIN
  }

  private final Vertx vertx;
  private final String deviceId;
  private final Listener listener;
  private final ConnectionLife life;
  private Step step = Step.CONNECTING;
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

  public AmqpDeviceConnection(Vertx vertx, String deviceId, Listener listener) {
    this.vertx = vertx;
    this.deviceId = deviceId;
    this.listener = listener;
    this.life = new ConnectionLife(vertx, listener);
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
    // The put-token's audience: the SAS token's sr, URL-encoded as the Node SDK sends it (§3.2).
    audience = SasSigner.deviceResource(hostName, deviceId);
    life.begin(timeoutMs, this::awaited);
    client.connect(
        options,
        host,
        port,
        ar -> {
          if (ar.failed()) {
            life.fail("TCP/TLS/SASL: " + ConnectionLife.describe(ar.cause()));
            return;
          }
          ProtonConnection c = ar.result();
          if (life.hasEnded()) {
            c.disconnect(); // timed out or closed meanwhile
            return;
          }
          connection = c;
          life.opened(c::disconnect);
          c.disconnectHandler(
              x -> {
                life.ended();
                if (cbs != null) {
                  cbs.close(); // renewals in flight fail now, not at their timeout
                }
              });
          c.closeHandler(
              x ->
                  life.fail(
                      "connection closed by the hub: "
                          + AmqpWire.describe(c.getRemoteCondition())));
          c.openHandler(
              x -> {
                if (x.failed()) {
                  life.fail("Open: " + ConnectionLife.describe(x.cause()));
                } else if (step == Step.CONNECTING) {
                  authenticate(sasToken);
                }
              });
          // The Open names the host the device connected to, as the SDK's amqps:// URI does.
          c.setHostname(host);
          c.open();
        });
  }

  private void authenticate(String sasToken) {
    step = Step.AUTHENTICATING;
    CbsClient.open(vertx, connection)
        .compose(
            client -> {
              cbs = client;
              return client.putToken(audience, sasToken, RENEW_TIMEOUT_MS);
            })
        .onComplete(
            ar -> {
              if (life.hasEnded()) {
                return;
              }
              if (ar.failed()) {
                life.fail("put-token: " + ar.cause().getMessage());
                return;
              }
              listener.onConnected(life.sinceBeginNanos());
              attachLinks();
            });
  }

  private void attachLinks() {
    step = Step.ATTACHING;
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
              if (life.hasEnded()) {
                return;
              }
              if (ar.failed()) {
                life.fail(ar.cause().getMessage());
                return;
              }
              List<ProtonLink<?>> watched = new ArrayList<>(links);
              watched.addAll(cbs.links());
              for (ProtonLink<?> l : watched) {
                l.closeHandler(x -> linkLost(l));
                l.detachHandler(x -> linkLost(l));
              }
              methodRequests.flow(METHOD_CREDIT);
              step = Step.SUBSCRIBING;
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
    life.fail(
        "link "
            + AmqpWire.address(link)
            + " detached by the hub: "
            + AmqpWire.describe(link.getRemoteCondition()));
  }

  @Override
  public boolean isOnline() {
    return life.isOnline();
  }

  @Override
  public void report(String rid, JsonObject patch) {
    if (life.isOnline()) {
      twinRequests.send(
          AmqpDeviceMessages.twinRequest(
              "PATCH", AmqpDeviceMessages.REPORTED, rid, patch.toBuffer().getBytes()));
    }
  }

  /** Telemetry sent unsettled while the hub gives credit; its disposition tells the listener. */
  @Override
  public boolean telemetry(byte[] body, int tag) {
    if (!life.isOnline() || events.sendQueueFull()) {
      return false;
    }
    events.send(AmqpDeviceMessages.telemetry(body), d -> onTelemetryUpdate(d, tag));
    return true;
  }

  private void onTelemetryUpdate(ProtonDelivery d, int tag) {
    if (!d.remotelySettled() || !life.isOnline()) {
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
    if (correlationId == null || !life.isOnline()) {
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
    if (life.isOnline()) {
      cbs.putToken(audience, sasToken, RENEW_TIMEOUT_MS)
          .onFailure(e -> life.fail("token renewal: " + e.getMessage()));
    }
    return true;
  }

  @Override
  public void close(boolean graceful) {
    if (life.closeByUs()) {
      if (graceful) {
        connection.close();
      }
      connection.disconnect();
    }
  }

  // ---- what the hub sends

  private void onTwinMessage(Message m) {
    TwinMessage t = AmqpDeviceMessages.twinMessage(m);
    if (t == null) {
      life.fail("malformed message on the twin link");
    } else if (t.isNotification()) {
      // Before the device is online, the twin GET after the subscription covers it (wire §2.5).
      if (life.isOnline()) {
        listener.onDesired(t.version(), (JsonObject) t.body());
      }
    } else if (life.isOnline()) {
      listener.onTwinResponse(t.rid(), t.status());
    } else if (step == Step.SUBSCRIBING && SUBSCRIBE_RID.equals(t.rid())) {
      if (t.status() != 200) {
        life.fail("desired-properties subscription answered " + t.status() + ": " + t.body());
        return;
      }
      step = Step.READING_TWIN;
      twinRequests.send(AmqpDeviceMessages.twinRequest("GET", null, GET_RID, null));
    } else if (step == Step.READING_TWIN && GET_RID.equals(t.rid())) {
      if (t.status() != 200 || !(t.body() instanceof JsonObject twin)) {
        life.fail("twin GET answered " + t.status() + ": " + t.body());
        return;
      }
      life.online();
      listener.onOnline(twin);
    }
  }

  private void onMethodRequest(Message m) {
    MethodCall call = AmqpDeviceMessages.methodCall(m);
    if (call == null) {
      life.fail("malformed method request: no IoThub-methodname or correlation id");
      return;
    }
    if (!life.isOnline()) {
      methodRequests.flow(1); // unanswered: the hub times the call out
      return;
    }
    methodIds.put(call.rid(), call.correlationId());
    listener.onMethod(call.name(), call.rid(), call.payload());
  }

  private String awaited() {
    return switch (step) {
      case CONNECTING -> connection == null ? "TCP/TLS/SASL connection" : "Open";
      case AUTHENTICATING -> "put-token answer";
      case ATTACHING -> "link attach";
      case SUBSCRIBING -> "answer to the desired-properties subscription";
      case READING_TWIN -> "twin GET response";
    };
  }
}
