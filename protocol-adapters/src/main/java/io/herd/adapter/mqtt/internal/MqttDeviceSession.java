package io.herd.adapter.mqtt.internal;

import io.herd.adapter.common.ActivityClock;
import io.herd.adapter.common.AdapterServices;
import io.herd.adapter.common.CloudToDeviceMessage;
import io.herd.adapter.common.DeliveryOutcome;
import io.herd.adapter.common.DeviceAuthenticator.Authenticated;
import io.herd.adapter.common.DeviceIdentity;
import io.herd.adapter.common.DeviceLink;
import io.herd.adapter.common.DeviceMessage;
import io.herd.adapter.common.MethodResult;
import io.herd.adapter.common.PropertyBag;
import io.herd.adapter.common.TwinRequests;
import io.herd.adapter.mqtt.MqttConfig;
import io.herd.adapter.mqtt.internal.MqttTopics.Subscription;
import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.Ids;
import io.herd.twin.TwinChange;
import io.herd.twin.TwinStore;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnAckVariableHeader;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttIdentifierRejectedException;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPubAckMessage;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttSubAckMessage;
import io.netty.handler.codec.mqtt.MqttSubAckPayload;
import io.netty.handler.codec.mqtt.MqttSubscribeMessage;
import io.netty.handler.codec.mqtt.MqttTopicSubscription;
import io.netty.handler.codec.mqtt.MqttUnacceptableProtocolVersionException;
import io.netty.handler.codec.mqtt.MqttUnsubAckMessage;
import io.netty.handler.codec.mqtt.MqttUnsubscribeMessage;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One device's MQTT connection: CONNECT and authentication, then the IoT Hub topics of
 * azure-iothub-wire.md §2. Owned by one event loop: every method but the {@link DeviceLink} ones
 * runs on {@code context}, and those hop onto it.
 */
final class MqttDeviceSession implements DeviceLink {
  private static final Logger LOG = LoggerFactory.getLogger(MqttDeviceSession.class);

  /** IoT Hub's cap on the server-side keep-alive (1.5 times the client's, at most this). */
  private static final long MAX_IDLE_SECONDS = 1767;

  private enum State {
    AWAITING_CONNECT,
    CONNECTED,
    CLOSED
  }

  private final Vertx vertx;
  private final Context context;
  private final MqttTransport transport;
  private final AdapterServices services;
  private final MqttConfig config;

  private State state = State.AWAITING_CONNECT;
  private boolean reserved;
  private boolean registered;
  private DeviceIdentity identity;
  private String clientId = "";
  // The granted subscriptions, a bit per Subscription ordinal, and which of them are QoS 1: a
  // session is held per connected device, so its state is kept in fields rather than maps.
  private int subscribed;
  private int subscribedQos1;
  private TwinStore.Subscription desiredFeed;
  private volatile boolean acceptsMethods;

  private long idleLimitNanos;
  private long lastReadNanos = System.nanoTime();
  private boolean expires;
  private long expiresAtNanos;

  /** The one timer of the session: the earlier of the keep-alive (or CONNECT) and SAS expiry. */
  private ScheduledFuture<?> deadline;

  private ActivityClock activity;

  private int inflight;
  private boolean pausedForInflight;
  private boolean pausedForRate;
  private double tokens;
  private long tokensAtNanos;

  private int nextPacketId = 1;
  // Made with their first entry: most devices never get a method call or a QoS 1 message.
  private Map<Integer, Promise<DeliveryOutcome>> unacked = Collections.emptyMap();
  private long nextRid;
  private Map<String, PendingMethod> methods = Collections.emptyMap();

  private String willTopic;
  private byte[] willPayload;

  private record PendingMethod(Promise<MethodResult> promise, long timer) {}

  MqttDeviceSession(
      Vertx vertx,
      Context context,
      MqttTransport transport,
      AdapterServices services,
      MqttConfig config) {
    this.vertx = vertx;
    this.context = context;
    this.transport = transport;
    this.services = services;
    this.config = config;
    this.tokens = config.deviceMessagesPerSecond();
    this.tokensAtNanos = System.nanoTime();
    this.idleLimitNanos = TimeUnit.SECONDS.toNanos(config.connectTimeoutSeconds());
    armDeadline();
  }

  // ---- inbound

  /** Handles one decoded object from the transport; releases it. */
  void handle(Object o) {
    try {
      if (state == State.CLOSED) {
        return;
      }
      if (!(o instanceof MqttMessage msg)) {
        return;
      }
      lastReadNanos = System.nanoTime();
      DecoderResult result = msg.decoderResult();
      if (result != null && result.isFailure()) {
        onDecodeFailure(result.cause());
        return;
      }
      dispatch(msg);
    } catch (RuntimeException e) {
      LOG.warn(
          "closing MQTT connection after an internal error [device: {}, remote: {}]",
          who(),
          transport.remoteAddress(),
          e);
      close(false);
    } finally {
      ReferenceCountUtil.release(o);
    }
  }

  private void dispatch(MqttMessage msg) {
    MqttMessageType type = msg.fixedHeader().messageType();
    if (state == State.AWAITING_CONNECT) {
      if (type != MqttMessageType.CONNECT) {
        // [MQTT-3.1.0-1] the first packet must be CONNECT.
        violation("the first packet must be CONNECT, not " + type);
        return;
      }
      onConnect((MqttConnectMessage) msg);
      return;
    }
    switch (type) {
      case PUBLISH -> onPublish((MqttPublishMessage) msg);
      case PUBACK -> onPubAck(((MqttPubAckMessage) msg).variableHeader().messageId());
      case SUBSCRIBE -> onSubscribe((MqttSubscribeMessage) msg);
      case UNSUBSCRIBE -> onUnsubscribe((MqttUnsubscribeMessage) msg);
      case PINGREQ ->
          transport.write(
              new MqttMessage(
                  new MqttFixedHeader(
                      MqttMessageType.PINGRESP, false, MqttQoS.AT_MOST_ONCE, false, 0)));
      case DISCONNECT -> close(true);
      case CONNECT -> violation("a second CONNECT on one connection"); // [MQTT-3.1.0-2]
      case PUBREC, PUBREL, PUBCOMP -> violation("QoS 2 is not supported");
      default -> violation("unexpected packet " + type);
    }
  }

  private void onDecodeFailure(Throwable cause) {
    if (state == State.AWAITING_CONNECT) {
      if (cause instanceof MqttUnacceptableProtocolVersionException) {
        reject(
            MqttConnectReturnCode.CONNECTION_REFUSED_UNACCEPTABLE_PROTOCOL_VERSION,
            "only MQTT 3.1.1 is supported");
        return;
      }
      if (cause instanceof MqttIdentifierRejectedException) {
        reject(MqttConnectReturnCode.CONNECTION_REFUSED_IDENTIFIER_REJECTED, cause.getMessage());
        return;
      }
    }
    violation("malformed packet: " + cause.getMessage());
  }

  // ---- CONNECT

  private void onConnect(MqttConnectMessage c) {
    clientId = c.payload().clientIdentifier() == null ? "" : c.payload().clientIdentifier();
    if (c.variableHeader().version() != 4) {
      reject(
          MqttConnectReturnCode.CONNECTION_REFUSED_UNACCEPTABLE_PROTOCOL_VERSION,
          "only MQTT 3.1.1 is supported");
      return;
    }
    if (!services.sessions().tryReserve()) {
      reject(
          MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE,
          "the hub is at its connection limit (" + services.sessions().connections() + ")");
      return;
    }
    reserved = true;
    int slash = clientId.indexOf('/');
    String deviceId = slash < 0 ? clientId : clientId.substring(0, slash);
    String moduleId = slash < 0 ? null : clientId.substring(slash + 1);
    if (!Ids.isValid(deviceId) || (moduleId != null && !Ids.isValid(moduleId))) {
      reject(
          MqttConnectReturnCode.CONNECTION_REFUSED_IDENTIFIER_REJECTED,
          "the client id must be {deviceId} or {deviceId}/{moduleId} with valid ids");
      return;
    }
    String username = c.payload().userName();
    String host = usernameHost(username, clientId);
    if (host == null) {
      reject(
          MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD,
          "the user name must be {hostName}/"
              + clientId
              + "/?api-version=..., not '"
              + username
              + "'");
      return;
    }
    byte[] password = c.payload().passwordInBytes();
    Authenticated auth;
    try {
      auth =
          password != null && password.length > 0
              ? services
                  .authenticator()
                  .withToken(deviceId, moduleId, new String(password, StandardCharsets.UTF_8), host)
              : services
                  .authenticator()
                  .withCertificate(deviceId, moduleId, transport.peerCertificates());
    } catch (HubException e) {
      reject(MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, e.getMessage());
      return;
    }
    DeviceIdentity id = auth.identity();
    if (c.variableHeader().isWillFlag()) {
      String willTopic = c.payload().willTopic();
      if (!(MqttTopics.parsePublish(willTopic, id) instanceof MqttTopics.Telemetry)) {
        reject(
            MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED,
            "a will message may only go to the device's telemetry topic, not " + willTopic);
        return;
      }
      this.willTopic = willTopic;
      willPayload = c.payload().willMessageInBytes();
    }
    identity = id;
    activity =
        new ActivityClock(services.registry(), services.clock(), id.deviceId(), id.moduleId());
    state = State.CONNECTED;
    int keepAlive = c.variableHeader().keepAliveTimeSeconds();
    idleLimitNanos =
        keepAlive == 0
            ? 0
            : TimeUnit.MILLISECONDS.toNanos(Math.min(keepAlive * 1500L, MAX_IDLE_SECONDS * 1000));
    if (auth.expiresAtMillis() != Long.MAX_VALUE) {
      long delay = Math.max(1, auth.expiresAtMillis() - services.clock().millis());
      expires = true;
      expiresAtNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay);
    }
    armDeadline();
    services.sessions().register(this);
    registered = true;
    // Sessions are not kept (the SDKs subscribe again after every connect), so never present.
    transport.write(
        new MqttConnAckMessage(
            new MqttFixedHeader(MqttMessageType.CONNACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
            new MqttConnAckVariableHeader(MqttConnectReturnCode.CONNECTION_ACCEPTED, false)));
    LOG.debug(
        "device connected [device: {}, remote: {}, protocol: {}, auth: {}, keep-alive: {}]",
        id,
        transport.remoteAddress(),
        transport.protocol(),
        id.authMethod(),
        keepAlive);
  }

  /**
   * The host of a user name {@code {host}/{clientId}/?api-version=...} (the host may carry a port),
   * or null when it does not have that shape.
   */
  static String usernameHost(String username, String clientId) {
    if (username == null) {
      return null;
    }
    int slash = username.indexOf('/');
    if (slash <= 0) {
      return null;
    }
    String rest = username.substring(slash + 1);
    if (!rest.startsWith(clientId) || rest.length() == clientId.length()) {
      return null;
    }
    char after = rest.charAt(clientId.length());
    return after == '/' || after == '?' ? username.substring(0, slash) : null;
  }

  private void reject(MqttConnectReturnCode code, String reason) {
    LOG.info(
        "rejecting CONNECT [client-id: {}, remote: {}, return-code: {}, reason: {}]",
        clientId,
        transport.remoteAddress(),
        code,
        reason);
    transport.write(
        new MqttConnAckMessage(
            new MqttFixedHeader(MqttMessageType.CONNACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
            new MqttConnAckVariableHeader(code, false)));
    close(false);
  }

  // ---- SUBSCRIBE / UNSUBSCRIBE

  private void onSubscribe(MqttSubscribeMessage s) {
    List<Integer> granted = new ArrayList<>();
    boolean cloudToDevice = false;
    for (MqttTopicSubscription t : s.payload().topicSubscriptions()) {
      Subscription kind = MqttTopics.parseSubscription(t.topicFilter(), identity);
      if (kind == null) {
        // IoT Hub closes the connection rather than granting 0x80 (wire §2.7).
        violation("subscription to a topic this device may not use: " + t.topicFilter());
        return;
      }
      // SUBSCRIBE with QoS 2 is granted QoS 1 (wire §2.2).
      MqttQoS qos =
          t.qualityOfService() == MqttQoS.AT_MOST_ONCE
              ? MqttQoS.AT_MOST_ONCE
              : MqttQoS.AT_LEAST_ONCE;
      subscribe(kind, qos);
      if (kind == Subscription.DESIRED_PROPERTIES && desiredFeed == null) {
        desiredFeed = services.twins().subscribe(identity.key(), this::onTwinChange);
      }
      cloudToDevice |= kind == Subscription.CLOUD_TO_DEVICE;
      granted.add(qos.value());
    }
    boolean methodsNow = subscribedTo(Subscription.METHODS);
    transport.write(
        new MqttSubAckMessage(
            new MqttFixedHeader(MqttMessageType.SUBACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
            MqttMessageIdVariableHeader.from(s.variableHeader().messageId()),
            new MqttSubAckPayload(granted)));
    if (methodsNow && !acceptsMethods) {
      acceptsMethods = true;
      services.sessions().methodsReady(this);
    }
    // After the SUBACK, so that queued messages reach the device after its subscription is granted.
    if (cloudToDevice) {
      services.sessions().cloudToDeviceReady(identity.key());
    }
  }

  private void onUnsubscribe(MqttUnsubscribeMessage u) {
    for (String filter : u.payload().topics()) {
      Subscription kind = MqttTopics.parseSubscription(filter, identity);
      if (kind != null) {
        unsubscribe(kind);
        if (kind == Subscription.METHODS) {
          acceptsMethods = false;
        }
        if (kind == Subscription.DESIRED_PROPERTIES && desiredFeed != null) {
          desiredFeed.close();
          desiredFeed = null;
        }
      }
    }
    transport.write(
        new MqttUnsubAckMessage(
            new MqttFixedHeader(MqttMessageType.UNSUBACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
            MqttMessageIdVariableHeader.from(u.variableHeader().messageId())));
  }

  // ---- PUBLISH from the device

  private void onPublish(MqttPublishMessage p) {
    MqttQoS qos = p.fixedHeader().qosLevel();
    if (qos == MqttQoS.EXACTLY_ONCE || qos == MqttQoS.FAILURE) {
      violation("QoS 2 PUBLISH is not supported");
      return;
    }
    String topic = p.variableHeader().topicName();
    int size = p.payload().readableBytes();
    if (size > config.maxMessageBytes()) {
      violation("message of " + size + " bytes exceeds the limit of " + config.maxMessageBytes());
      return;
    }
    byte[] payload = ByteBufUtil.getBytes(p.payload());
    int packetId = p.variableHeader().packetId();
    MqttTopics.Inbound in = MqttTopics.parsePublish(topic, identity);
    if (in instanceof MqttTopics.Telemetry t) {
      telemetry(t.bag(), payload, qos, packetId, p.fixedHeader().isRetain(), false);
    } else if (in instanceof MqttTopics.TwinGet g) {
      twinGet(g.rid());
    } else if (in instanceof MqttTopics.ReportedPatch r) {
      reportedPatch(r.rid(), payload);
    } else if (in instanceof MqttTopics.MethodResponse m) {
      methodResponse(m.status(), m.rid(), payload);
    } else if (in instanceof MqttTopics.Invalid i) {
      violation(i.reason());
      return;
    }
    activity.touch();
  }

  private void telemetry(
      String bag, byte[] payload, MqttQoS qos, int packetId, boolean retain, boolean isWill) {
    Map<String, String> decoded;
    try {
      decoded = PropertyBag.decode(bag);
    } catch (IllegalArgumentException e) {
      violation("bad property bag: " + e.getMessage());
      return;
    }
    Instant now = services.clock().instant();
    Map<String, String> system = new LinkedHashMap<>();
    Map<String, String> app = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : decoded.entrySet()) {
      String systemName = systemProperty(e.getKey());
      if (systemName != null) {
        if (e.getValue() != null) {
          system.put(systemName, e.getValue());
        }
      } else if (e.getKey().equals("$.sub")) {
        app.put("dt-subject", e.getValue() == null ? "" : e.getValue());
      } else {
        app.put(e.getKey(), e.getValue() == null ? "" : e.getValue());
      }
    }
    if (retain) {
      app.put("mqtt-retain", "true");
    }
    if (isWill) {
      system.put("iothub-message-type", "Will");
      app.put("iothub-MessageType", "Will");
    }
    DeviceMessage m =
        DeviceMessage.telemetry(identity, system, app, payload, now, transport.protocol());
    takeRateToken();
    begin();
    services
        .events()
        .accept(m)
        .onComplete(
            ar ->
                onContext(
                    () -> {
                      end();
                      if (ar.failed()) {
                        // MQTT 3.1.1 has no negative acknowledgement: without a PUBACK the
                        // device sends the message again after reconnecting.
                        LOG.warn(
                            "closing MQTT connection: telemetry not accepted [device: {},"
                                + " reason: {}]",
                            identity,
                            ar.cause().getMessage());
                        close(false);
                      } else if (qos == MqttQoS.AT_LEAST_ONCE && state == State.CONNECTED) {
                        transport.write(
                            new MqttPubAckMessage(
                                new MqttFixedHeader(
                                    MqttMessageType.PUBACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
                                MqttMessageIdVariableHeader.from(packetId)));
                      }
                    }));
  }

  /** IoT Hub's name of a {@code $.x} bag key (wire §2.4), or null for application properties. */
  static String systemProperty(String key) {
    return switch (key) {
      case "$.mid" -> "message-id";
      case "$.cid" -> "correlation-id";
      case "$.uid" -> "user-id";
      case "$.to" -> "to";
      case "$.ct" -> "content-type";
      case "$.ce" -> "content-encoding";
      case "$.exp" -> "absolute-expiry-time";
      case "$.ifid" -> "iothub-interface-id";
      case "$.on" -> "iothub-outputname";
      case "$.cdid" -> "iothub-creation-device-id";
      default -> null;
    };
  }

  private void twinGet(String rid) {
    Buffer view;
    try {
      view = TwinRequests.deviceView(services.twins(), identity);
    } catch (HubException e) {
      twinError(rid, e);
      return;
    }
    twinReply(200, rid, null, view);
  }

  private void reportedPatch(String rid, byte[] payload) {
    begin();
    TwinRequests.patchReported(services.twins(), identity, Buffer.buffer(payload))
        .onComplete(
            ar ->
                onContext(
                    () -> {
                      end();
                      if (ar.succeeded()) {
                        twinReply(204, rid, ar.result().reportedVersion(), Buffer.buffer());
                      } else {
                        twinError(rid, HubException.from(ar.cause()));
                      }
                    }));
  }

  private void twinError(String rid, HubException e) {
    ErrorCode code = e.errorCode();
    if (code.httpStatus() >= 500) {
      LOG.warn("twin request failed [device: {}, rid: {}]", identity, rid, e);
    }
    twinReply(code.httpStatus(), rid, null, TwinRequests.errorBody(e, services.clock().instant()));
  }

  private void twinReply(int status, String rid, Long version, Buffer body) {
    if (state != State.CONNECTED || !subscribedTo(Subscription.TWIN_RESPONSES)) {
      LOG.debug("twin response dropped: not subscribed [device: {}, rid: {}]", identity, rid);
      return;
    }
    publish(MqttTopics.twinResponse(status, rid, version), body);
  }

  private void methodResponse(int status, String rid, byte[] payload) {
    PendingMethod pending = methods.remove(rid);
    if (pending == null) {
      // Late (after the timeout) or duplicate: the caller has its answer already.
      LOG.info(
          "dropping a direct-method response [device: {}, rid: {}, status: {}, reason: no request"
              + " waits for it (late or duplicate)]",
          identity,
          rid,
          status);
      return;
    }
    vertx.cancelTimer(pending.timer());
    pending.promise().complete(new MethodResult(status, Buffer.buffer(payload)));
  }

  private void onPubAck(int packetId) {
    Promise<DeliveryOutcome> p = unacked.remove(packetId);
    if (p != null) {
      p.complete(DeliveryOutcome.COMPLETED);
      resumeIfIdle();
    }
  }

  // ---- from the service side (any thread)

  @Override
  public DeviceIdentity identity() {
    return identity;
  }

  @Override
  public String protocol() {
    return transport.protocol();
  }

  @Override
  public Future<MethodResult> invokeMethod(String methodName, Buffer payload, Duration timeout) {
    Promise<MethodResult> promise = Promise.promise();
    context.runOnContext(
        v -> {
          if (state != State.CONNECTED) {
            promise.fail(notOnline("is not connected"));
            return;
          }
          if (!subscribedTo(Subscription.METHODS)) {
            promise.fail(notOnline("has not subscribed to direct methods"));
            return;
          }
          if (methodName == null
              || methodName.isEmpty()
              || methodName.indexOf('/') >= 0
              || methodName.indexOf('#') >= 0
              || methodName.indexOf('+') >= 0) {
            promise.fail(HubException.badRequest("Invalid method name '" + methodName + "'"));
            return;
          }
          String rid = Long.toHexString(++nextRid);
          long timer =
              vertx.setTimer(
                  Math.max(1, timeout.toMillis()),
                  t -> {
                    if (methods.remove(rid) != null) {
                      promise.fail(
                          new HubException(
                              ErrorCode.GATEWAY_TIMEOUT,
                              "Timed out waiting for the response from device " + identity));
                    }
                  });
          if (!(methods instanceof HashMap)) {
            methods = new HashMap<>();
          }
          methods.put(rid, new PendingMethod(promise, timer));
          publish(
              MqttTopics.methodRequest(methodName, rid),
              payload == null ? Buffer.buffer() : payload);
        });
    return promise.future();
  }

  @Override
  public Future<DeliveryOutcome> deliver(CloudToDeviceMessage message) {
    Promise<DeliveryOutcome> promise = Promise.promise();
    context.runOnContext(
        v -> {
          if (state != State.CONNECTED) {
            promise.fail(notOnline("is not connected"));
            return;
          }
          if (!subscribedTo(Subscription.CLOUD_TO_DEVICE)) {
            promise.fail(notOnline("has not subscribed to cloud-to-device messages"));
            return;
          }
          Map<String, String> bag = new LinkedHashMap<>(message.systemProperties());
          bag.putAll(message.properties());
          String topic = MqttTopics.cloudToDevice(identity.deviceId(), PropertyBag.encode(bag));
          if (!subscribedAtLeastOnce(Subscription.CLOUD_TO_DEVICE)) {
            publish(topic, Buffer.buffer(message.body()));
            promise.complete(DeliveryOutcome.COMPLETED);
            return;
          }
          if (unacked.size() >= config.maxInflight()) {
            promise.fail(
                new HubException(
                    ErrorCode.THROTTLING_EXCEPTION,
                    "Device " + identity + " has " + unacked.size() + " unacknowledged messages"));
            return;
          }
          int id = nextPacketId();
          if (!(unacked instanceof HashMap)) {
            unacked = new HashMap<>();
          }
          unacked.put(id, promise);
          transport.write(
              new MqttPublishMessage(
                  new MqttFixedHeader(
                      MqttMessageType.PUBLISH, false, MqttQoS.AT_LEAST_ONCE, false, 0),
                  new MqttPublishVariableHeader(topic, id),
                  Unpooled.wrappedBuffer(message.body())));
        });
    return promise.future();
  }

  @Override
  public boolean acceptsMethods() {
    return acceptsMethods;
  }

  @Override
  public void closeReplaced() {
    context.runOnContext(
        v -> {
          if (state != State.CLOSED) {
            LOG.info(
                "closing MQTT connection [device: {}, remote: {}, reason: the device connected"
                    + " again (400027 ConnectionForcefullyClosedOnNewConnection)]",
                identity,
                transport.remoteAddress());
            close(false);
          }
        });
  }

  private void onTwinChange(TwinChange change) {
    if (change.kind() == TwinChange.Kind.DESIRED) {
      context.runOnContext(v -> sendDesired(change));
    }
  }

  private void sendDesired(TwinChange change) {
    if (state != State.CONNECTED || !subscribedTo(Subscription.DESIRED_PROPERTIES)) {
      return;
    }
    if (transport.writeQueueFull()) {
      // A notification that cannot be queued is not dropped silently: the device reconnects
      // and reads the whole twin, as its SDK does after every connect.
      LOG.info(
          "closing MQTT connection [device: {}, remote: {}, reason: not reading; a desired"
              + " properties notification could not be queued]",
          identity,
          transport.remoteAddress());
      close(false);
      return;
    }
    publish(MqttTopics.desired(change.twin().desiredVersion()), change.patch().toBuffer());
  }

  // ---- helpers

  private void publish(String topic, Buffer body) {
    transport.write(
        new MqttPublishMessage(
            new MqttFixedHeader(MqttMessageType.PUBLISH, false, MqttQoS.AT_MOST_ONCE, false, 0),
            new MqttPublishVariableHeader(topic, 0),
            Unpooled.wrappedBuffer(body.getBytes())));
  }

  private void subscribe(Subscription kind, MqttQoS qos) {
    subscribed |= 1 << kind.ordinal();
    if (qos == MqttQoS.AT_LEAST_ONCE) {
      subscribedQos1 |= 1 << kind.ordinal();
    } else {
      subscribedQos1 &= ~(1 << kind.ordinal());
    }
  }

  private boolean subscribedTo(Subscription kind) {
    return (subscribed & (1 << kind.ordinal())) != 0;
  }

  private boolean subscribedAtLeastOnce(Subscription kind) {
    return (subscribedQos1 & (1 << kind.ordinal())) != 0;
  }

  private void unsubscribe(Subscription kind) {
    subscribed &= ~(1 << kind.ordinal());
    subscribedQos1 &= ~(1 << kind.ordinal());
  }

  private int nextPacketId() {
    while (true) {
      int id = nextPacketId;
      nextPacketId = id == 65535 ? 1 : id + 1;
      if (!unacked.containsKey(id)) {
        return id;
      }
    }
  }

  /** One more request being processed; at the limit, stop reading. */
  private void begin() {
    inflight++;
    if (inflight >= config.maxInflight() && !pausedForInflight) {
      pausedForInflight = true;
      transport.pause();
    }
  }

  private void end() {
    inflight--;
    resumeIfIdle();
  }

  private void resumeIfIdle() {
    if (pausedForInflight && inflight < config.maxInflight() && state != State.CLOSED) {
      pausedForInflight = false;
      if (!pausedForRate) {
        transport.resume();
      }
    }
  }

  /** Token bucket of the optional per-device rate: over it, reading pauses until refilled. */
  private void takeRateToken() {
    int rate = config.deviceMessagesPerSecond();
    if (rate == 0) {
      return;
    }
    long now = System.nanoTime();
    tokens = Math.min(rate, tokens + (now - tokensAtNanos) * rate / 1e9);
    tokensAtNanos = now;
    tokens -= 1;
    if (tokens < 0 && !pausedForRate) {
      pausedForRate = true;
      transport.pause();
      long waitMs = Math.max(1, (long) Math.ceil(-tokens * 1000 / rate));
      vertx.setTimer(
          waitMs,
          t -> {
            pausedForRate = false;
            if (state != State.CLOSED && !pausedForInflight) {
              transport.resume();
            }
          });
    }
  }

  private void onContext(Runnable r) {
    if (Vertx.currentContext() == context) {
      r.run();
    } else {
      context.runOnContext(v -> r.run());
    }
  }

  /**
   * (Re)schedules the session's one timer on its event loop, straight on Netty's scheduler: a
   * Vert.x timer per deadline cost two timer registrations per connected device.
   */
  private void armDeadline() {
    if (deadline != null) {
      deadline.cancel(false);
      deadline = null;
    }
    long now = System.nanoTime();
    long delay = Long.MAX_VALUE;
    if (idleLimitNanos > 0) {
      delay = lastReadNanos + idleLimitNanos - now;
    }
    if (expires) {
      delay = Math.min(delay, expiresAtNanos - now);
    }
    if (delay == Long.MAX_VALUE) {
      return;
    }
    ContextInternal ctx = (ContextInternal) context;
    deadline =
        ctx.nettyEventLoop()
            .schedule(
                () -> ctx.dispatch(v -> onDeadline()),
                Math.max(TimeUnit.MILLISECONDS.toNanos(1), delay),
                TimeUnit.NANOSECONDS);
  }

  private void onDeadline() {
    deadline = null;
    if (state == State.CLOSED) {
      return;
    }
    long now = System.nanoTime();
    if (expires && now - expiresAtNanos >= 0) {
      LOG.info(
          "closing MQTT connection [device: {}, remote: {}, reason: SAS token expired]",
          who(),
          transport.remoteAddress());
      close(false);
    } else if (idleLimitNanos > 0 && now - lastReadNanos >= idleLimitNanos) {
      LOG.info(
          "closing MQTT connection [device: {}, remote: {}, reason: {}]",
          who(),
          transport.remoteAddress(),
          state == State.AWAITING_CONNECT
              ? "no CONNECT in time"
              : "keep-alive expired (nothing received for 1.5 keep-alive periods)");
      close(false);
    } else {
      armDeadline();
    }
  }

  /** A protocol or topic violation: IoT Hub closes the connection (wire §2.7). */
  private void violation(String reason) {
    LOG.info(
        "closing MQTT connection [device: {}, remote: {}, reason: {}]",
        who(),
        transport.remoteAddress(),
        reason);
    close(false);
  }

  private String who() {
    return identity != null ? identity.toString() : "(client-id " + clientId + ")";
  }

  private HubException notOnline(String why) {
    return new HubException(ErrorCode.DEVICE_NOT_ONLINE, "Device " + identity + " " + why);
  }

  /** Called when the transport closed under us. */
  void onTransportClosed() {
    close(false);
  }

  /**
   * Ends the session once.
   *
   * @param clean the device sent DISCONNECT, so its will message is discarded [MQTT-3.14.4-3]
   */
  private void close(boolean clean) {
    if (state == State.CLOSED) {
      return;
    }
    boolean wasConnected = state == State.CONNECTED;
    state = State.CLOSED;
    acceptsMethods = false;
    if (deadline != null) {
      deadline.cancel(false);
      deadline = null;
    }
    if (desiredFeed != null) {
      desiredFeed.close();
      desiredFeed = null;
    }
    for (PendingMethod m : methods.values()) {
      vertx.cancelTimer(m.timer());
      m.promise().tryFail(notOnline("disconnected before answering"));
    }
    methods.clear();
    for (Promise<DeliveryOutcome> p : unacked.values()) {
      p.tryFail(notOnline("disconnected before acknowledging"));
    }
    unacked.clear();
    if (wasConnected && !clean && willTopic != null) {
      sendWill();
    }
    if (registered) {
      services.sessions().unregister(this);
      registered = false;
    }
    if (reserved) {
      services.sessions().release();
      reserved = false;
    }
    transport.close();
  }

  /** The will goes in as telemetry marked {@code iothub-MessageType=Will} (wire §2.2). */
  private void sendWill() {
    MqttTopics.Inbound in = MqttTopics.parsePublish(willTopic, identity);
    if (!(in instanceof MqttTopics.Telemetry t)) {
      return;
    }
    State saved = state;
    state = State.CONNECTED;
    try {
      telemetry(t.bag(), willPayload, MqttQoS.AT_MOST_ONCE, 0, false, true);
    } finally {
      state = saved;
    }
  }
}
