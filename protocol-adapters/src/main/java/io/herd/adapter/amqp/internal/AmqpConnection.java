package io.herd.adapter.amqp.internal;

import io.herd.adapter.amqp.AmqpConfig;
import io.herd.adapter.amqp.CloudToDeviceService;
import io.herd.adapter.common.AdapterServices;
import io.herd.adapter.common.DeviceAuthenticator.Authenticated;
import io.herd.adapter.common.DeviceIdentity;
import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.Ids;
import io.herd.core.twin.TwinKey;
import io.herd.registry.Principal;
import io.herd.registry.SasAuthenticator;
import io.herd.registry.SasToken;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.transport.AmqpError;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.amqp.transport.Source;
import org.apache.qpid.proton.amqp.transport.Target;
import org.apache.qpid.proton.engine.Link;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sender;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One AMQP connection with IoT Hub's semantics: who it authenticated (SASL, put-tokens on {@code
 * $cbs}, the TLS client certificate) and which links it may attach. A connection may carry several
 * devices and modules, each an {@link AmqpDeviceSession}, and the service's links. Owned by one
 * context, like its {@link AmqpEngine}.
 */
final class AmqpConnection implements AmqpEngine.Handler, Cbs.Tokens {
  private static final Logger LOG = LoggerFactory.getLogger(AmqpConnection.class);
  static final Symbol UNAUTHORIZED =
      Symbol.valueOf(ErrorCode.IOT_HUB_UNAUTHORIZED_ACCESS.amqpCondition());

  private final Vertx vertx;
  private final AmqpEngine engine;
  private final AdapterServices services;
  private final SasAuthenticator serviceAuthenticator;
  private final AmqpConfig config;
  private final Cbs cbs;
  private final ServiceLinks serviceLinks;

  private final Map<TwinKey, AmqpDeviceSession> devices = new HashMap<>();

  /** Tokens for the hub or all its devices (service and gateway tokens), newest last. */
  private final List<HubToken> hubTokens = new ArrayList<>();

  private String hostName;
  private boolean reserved;
  private long authTimer = -1;

  /**
   * A token not tied to one device: its principal (the policy) and until when it holds.
   *
   * @param token the token, to authenticate device links with (policies with DeviceConnect)
   */
  private record HubToken(String token, Principal principal, long expiresAtMillis) {}

  AmqpConnection(
      Vertx vertx,
      AmqpEngine engine,
      AdapterServices services,
      SasAuthenticator serviceAuthenticator,
      CloudToDeviceService cloudToDevice,
      AmqpConfig config) {
    this.vertx = vertx;
    this.engine = engine;
    this.services = services;
    this.serviceAuthenticator = serviceAuthenticator;
    this.config = config;
    this.cbs = new Cbs(engine, this, config.linkCredit());
    this.serviceLinks = new ServiceLinks(this, cloudToDevice);
  }

  /** Takes a connection slot and waits for authentication; refuses when the hub is full. */
  void start() {
    engine.start(this);
    if (!services.sessions().tryReserve()) {
      LOG.info(
          "refusing AMQP connection [remote: {}, reason: the hub is at its connection limit ({})]",
          engine.transport().remoteAddress(),
          services.sessions().connections());
      engine.abort();
      return;
    }
    reserved = true;
    armAuthTimer();
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
    return vertx;
  }

  Context context() {
    return engine.context();
  }

  /** The host name the client addressed (SASL or Open), null when it named none. */
  String hostName() {
    return hostName;
  }

  /** Runs {@code r} on this connection's context: at once when already there. */
  void onContext(Runnable r) {
    if (Vertx.currentContext() == engine.context()) {
      r.run();
    } else {
      engine.context().runOnContext(v -> r.run());
    }
  }

  // ---- SASL and Open

  @Override
  public boolean onSaslInit(String mechanism, byte[] response, String hostname) {
    if (hostname != null && !hostname.isEmpty()) {
      hostName = hostname;
    }
    switch (mechanism) {
      case "ANONYMOUS":
        // Authentication follows on $cbs or by client certificate.
        return true;
      case "EXTERNAL":
        if (engine.transport().peerCertificates().isEmpty()) {
          LOG.info(
              "rejecting SASL EXTERNAL [remote: {}, reason: no client certificate]",
              engine.transport().remoteAddress());
          return false;
        }
        return true;
      case "PLAIN":
        return plain(response);
      default:
        LOG.info(
            "rejecting SASL [remote: {}, mechanism: {}, reason: not offered]",
            engine.transport().remoteAddress(),
            mechanism);
        return false;
    }
  }

  /**
   * SASL PLAIN with IoT Hub's user names: {@code {deviceId}@sas.{hub}}, {@code
   * {deviceId}/modules/{moduleId}@sas.{hub}} or {@code {policy}@sas.root.{hub}}, and a SAS token as
   * the password.
   */
  private boolean plain(byte[] response) {
    String[] parts = new String(response, StandardCharsets.UTF_8).split("\0", -1);
    if (parts.length != 3) {
      LOG.info("rejecting SASL PLAIN [remote: {}, reason: malformed response]", remote());
      return false;
    }
    String user = parts[1];
    String token = parts[2];
    int at = user.lastIndexOf("@sas.");
    if (at <= 0) {
      LOG.info(
          "rejecting SASL PLAIN [remote: {}, user: {}, reason: the user name must be"
              + " {deviceId}@sas.{hub} or {policy}@sas.root.{hub}]",
          remote(),
          user);
      return false;
    }
    String who = user.substring(0, at);
    boolean root = user.startsWith("root.", at + 5);
    try {
      if (root) {
        HubToken t = hubToken(token, "");
        if (!t.principal().name().equalsIgnoreCase(who)) {
          throw new HubException(
              ErrorCode.IOT_HUB_UNAUTHORIZED_ACCESS,
              "Unauthorized: the token is signed by policy '"
                  + t.principal().name()
                  + "', not '"
                  + who
                  + "'");
        }
        addHubToken(t);
      } else {
        DeviceIdentity id = identityOf(who);
        Authenticated auth =
            services.authenticator().withToken(id.deviceId(), id.moduleId(), token, hostName);
        session(auth.identity(), auth.expiresAtMillis());
      }
      return true;
    } catch (HubException e) {
      LOG.info(
          "rejecting SASL PLAIN [remote: {}, user: {}, reason: {}]",
          remote(),
          user,
          e.getMessage());
      return false;
    }
  }

  private static DeviceIdentity identityOf(String who) {
    int slash = who.indexOf("/modules/");
    String deviceId = slash < 0 ? who : who.substring(0, slash);
    String moduleId = slash < 0 ? null : who.substring(slash + "/modules/".length());
    if (!Ids.isValid(deviceId) || (moduleId != null && !Ids.isValid(moduleId))) {
      throw new HubException(
          ErrorCode.IOT_HUB_UNAUTHORIZED_ACCESS, "Unauthorized: '" + who + "' is no valid id");
    }
    return new DeviceIdentity(deviceId, moduleId, "sas");
  }

  @Override
  public void onOpen(String hostname) {
    if (hostName == null && hostname != null && !hostname.isEmpty()) {
      hostName = hostname;
    }
  }

  // ---- CBS

  @Override
  public Cbs.Result put(String audience, String token) {
    AmqpAddress.Parsed target;
    try {
      target = AmqpAddress.audience(audience);
    } catch (IllegalArgumentException e) {
      return new Cbs.Result(400, e.getMessage());
    }
    try {
      if (target == null) {
        String path = audiencePath(audience);
        addHubToken(hubToken(token, path));
      } else {
        Authenticated auth =
            services
                .authenticator()
                .withToken(target.deviceId(), target.moduleId(), token, hostName);
        session(auth.identity(), auth.expiresAtMillis());
      }
      return Cbs.Result.ok();
    } catch (HubException e) {
      LOG.info(
          "put-token refused [remote: {}, audience: {}, reason: {}]",
          remote(),
          audience,
          e.getMessage());
      return new Cbs.Result(e.errorCode().httpStatus(), e.getMessage());
    }
  }

  private static String audiencePath(String audience) {
    String decoded = java.net.URLDecoder.decode(audience, StandardCharsets.UTF_8);
    int slash = decoded.indexOf('/');
    return slash < 0 ? "" : decoded.substring(slash);
  }

  /** Verifies a policy-signed token for {@code path} of this hub. */
  private HubToken hubToken(String token, String path) {
    Principal principal = serviceAuthenticator.authenticateService(token, hostName, path);
    long expiry = SasToken.parse(token).expiry();
    long now = services.clock().millis();
    long expiresAt =
        expiry * 1000 > now
            ? expiry * 1000
            : (expiry + SasAuthenticator.MAX_CLOCK_SKEW_SECONDS) * 1000;
    return new HubToken(token, principal, expiresAt);
  }

  private void addHubToken(HubToken t) {
    hubTokens.add(t);
    cancelAuthTimer();
    LOG.debug("hub-level token accepted [remote: {}, policy: {}]", remote(), t.principal().name());
  }

  /** The principal of a valid service token with {@code ServiceConnect}; null when none. */
  Principal servicePrincipal() {
    long now = services.clock().millis();
    for (int i = hubTokens.size() - 1; i >= 0; i--) {
      HubToken t = hubTokens.get(i);
      if (t.expiresAtMillis() > now
          && t.principal().permissions().contains(io.herd.registry.Permission.SERVICE_CONNECT)) {
        return t.principal();
      }
    }
    return null;
  }

  /** The expiry of the service token that authorizes service links now. */
  long serviceExpiry() {
    long now = services.clock().millis();
    long best = 0;
    for (HubToken t : hubTokens) {
      if (t.expiresAtMillis() > now
          && t.principal().permissions().contains(io.herd.registry.Permission.SERVICE_CONNECT)) {
        best = Math.max(best, t.expiresAtMillis());
      }
    }
    return best;
  }

  // ---- device sessions

  /** The identity's session on this connection, created (and registered) on first use. */
  private AmqpDeviceSession session(DeviceIdentity identity, long expiresAtMillis) {
    AmqpDeviceSession s = devices.get(identity.key());
    if (s == null) {
      if (devices.size() >= config.maxIdentities()) {
        throw new HubException(
            ErrorCode.IOT_HUB_QUOTA_EXCEEDED,
            "A connection may authenticate at most " + config.maxIdentities() + " identities");
      }
      s = new AmqpDeviceSession(this, identity);
      devices.put(identity.key(), s);
      cancelAuthTimer();
      s.register();
    }
    s.authorizedUntil(expiresAtMillis);
    return s;
  }

  /**
   * The session that may attach links for {@code deviceId}/{@code moduleId}: one authenticated
   * already, or one authenticated now by the TLS client certificate or a hub-level token.
   *
   * @throws HubException 401 when nothing on this connection authenticates the identity
   */
  private AmqpDeviceSession authorize(String deviceId, String moduleId) {
    TwinKey key = moduleId == null ? TwinKey.device(deviceId) : TwinKey.module(deviceId, moduleId);
    AmqpDeviceSession s = devices.get(key);
    if (s != null && s.isAuthorized()) {
      return s;
    }
    List<X509Certificate> chain = engine.transport().peerCertificates();
    if (!chain.isEmpty()) {
      Authenticated auth = services.authenticator().withCertificate(deviceId, moduleId, chain);
      return session(auth.identity(), auth.expiresAtMillis());
    }
    long now = services.clock().millis();
    HubException failure = null;
    for (int i = hubTokens.size() - 1; i >= 0; i--) {
      HubToken t = hubTokens.get(i);
      if (t.expiresAtMillis() <= now) {
        continue;
      }
      try {
        Authenticated auth =
            services.authenticator().withToken(deviceId, moduleId, t.token(), hostName);
        return session(auth.identity(), Math.min(auth.expiresAtMillis(), t.expiresAtMillis()));
      } catch (HubException e) {
        failure = e;
      }
    }
    if (failure != null) {
      throw failure;
    }
    String who = moduleId == null ? deviceId : deviceId + "/" + moduleId;
    throw new HubException(
        ErrorCode.IOT_HUB_UNAUTHORIZED_ACCESS,
        "Unauthorized: this connection has not authenticated "
            + who
            + " (put a token on $cbs first, or present its client certificate)");
  }

  /** A session ended (expired, replaced, or all it had was closed). */
  void removed(AmqpDeviceSession s) {
    devices.remove(s.identity().key(), s);
    if (!engine.isClosed() && !authenticated()) {
      armAuthTimer();
    }
  }

  private boolean authenticated() {
    if (!devices.isEmpty()) {
      return true;
    }
    long now = services.clock().millis();
    for (HubToken t : hubTokens) {
      if (t.expiresAtMillis() > now) {
        return true;
      }
    }
    return false;
  }

  // ---- links

  @Override
  public void onLinkAttach(Link link) {
    boolean hubSends = link instanceof Sender;
    String address = hubSends ? address(link.getRemoteSource()) : address(link.getRemoteTarget());
    AmqpAddress.Parsed p = AmqpAddress.parse(address);
    if (p == null) {
      refuse(
          link,
          AmqpMessages.condition(
              ErrorCode.AMQP_ADDRESS_NOT_FOUND, "No such address on this hub: '" + address + "'"));
      return;
    }
    if (p.kind() == AmqpAddress.Kind.CBS) {
      if (hubSends) {
        cbs.attachReplies((Sender) link);
      } else {
        cbs.attachRequests((Receiver) link);
      }
      return;
    }
    if (!p.isDeviceLink()) {
      Principal service = servicePrincipal();
      if (service == null) {
        LOG.info(
            "refusing AMQP link [remote: {}, address: {}, reason: no service token]",
            remote(),
            address);
        refuse(
            link,
            AmqpMessages.condition(
                ErrorCode.IOT_HUB_UNAUTHORIZED_ACCESS,
                "Unauthorized: "
                    + address
                    + " needs a token of a policy with ServiceConnect (put-token on $cbs)"));
        return;
      }
      serviceLinks.attach(p.kind(), link);
      return;
    }
    AmqpDeviceSession s;
    try {
      s = authorize(p.deviceId(), p.moduleId());
    } catch (HubException e) {
      LOG.info(
          "refusing AMQP link [remote: {}, address: {}, reason: {}]",
          remote(),
          address,
          e.getMessage());
      refuse(link, AmqpMessages.condition(e));
      return;
    }
    s.attach(p.kind(), link);
  }

  void refuse(Link link, ErrorCondition condition) {
    engine.refuse(link, condition);
  }

  private static String address(Source s) {
    return s == null ? null : s.getAddress();
  }

  private static String address(Target t) {
    return t == null ? null : t.getAddress();
  }

  // ---- authentication deadline

  private void armAuthTimer() {
    cancelAuthTimer();
    authTimer =
        vertx.setTimer(
            config.connectTimeoutSeconds() * 1000L,
            t -> {
              authTimer = -1;
              if (!engine.isClosed() && !authenticated()) {
                LOG.info(
                    "closing AMQP connection [remote: {}, reason: nothing authenticated within"
                        + " {} s]",
                    remote(),
                    config.connectTimeoutSeconds());
                engine.closeWith(
                    UNAUTHORIZED,
                    "Nothing was authenticated within "
                        + config.connectTimeoutSeconds()
                        + " s (put-token on $cbs, SASL PLAIN or a client certificate)");
              }
            });
  }

  private void cancelAuthTimer() {
    if (authTimer >= 0) {
      vertx.cancelTimer(authTimer);
      authTimer = -1;
    }
  }

  @Override
  public void onClosed() {
    cancelAuthTimer();
    for (Iterator<AmqpDeviceSession> it = new ArrayList<>(devices.values()).iterator();
        it.hasNext(); ) {
      it.next().close();
    }
    devices.clear();
    if (reserved) {
      services.sessions().release();
      reserved = false;
    }
    LOG.debug("AMQP connection closed [remote: {}]", remote());
  }

  String remote() {
    return engine.transport().remoteAddress();
  }

  static ErrorCondition notAllowed(String description) {
    return new ErrorCondition(AmqpError.NOT_ALLOWED, description);
  }
}
