package io.herd.server;

import io.herd.registry.SasAuthenticator;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.proton.ProtonClient;
import io.vertx.proton.ProtonClientOptions;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.ProtonDelivery;
import io.vertx.proton.ProtonLink;
import io.vertx.proton.ProtonMessageHandler;
import io.vertx.proton.ProtonQoS;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.message.Message;

/**
 * An AMQP client for the endpoint's tests: vertx-proton, an independent implementation, driven from
 * the test thread. Every call hops onto the client's context and waits for the outcome.
 */
final class AmqpTestClient implements AutoCloseable {
  private static final long WAIT_SECONDS = 15;

  private final Vertx vertx;
  private final Context context;
  private final ProtonConnection connection;
  private ProtonSender cbsSender;
  private final Map<Object, Promise<Message>> cbsReplies =
      new java.util.concurrent.ConcurrentHashMap<>();

  private AmqpTestClient(Vertx vertx, Context context, ProtonConnection connection) {
    this.vertx = vertx;
    this.context = context;
    this.connection = connection;
  }

  /**
   * Connects with TLS to the hub's AMQP port.
   *
   * @param user SASL PLAIN user name, null for SASL ANONYMOUS
   * @param clientCert the certificate to present (with SASL EXTERNAL), null for none
   */
  static AmqpTestClient connect(
      Hub hub, String user, String password, io.herd.testkit.TestPki.Issued clientCert)
      throws Exception {
    Vertx vertx = Vertx.vertx();
    Context context = vertx.getOrCreateContext();
    ProtonClientOptions options =
        new ProtonClientOptions()
            .setSsl(true)
            .setTrustOptions(new PemTrustOptions().addCertPath(hub.caFile().toString()))
            .setHostnameVerificationAlgorithm("HTTPS")
            .setConnectTimeout(10_000);
    if (clientCert != null) {
      String key =
          "-----BEGIN PRIVATE KEY-----\n"
              + java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                  .encodeToString(clientCert.keys().getPrivate().getEncoded())
              + "\n-----END PRIVATE KEY-----\n";
      options.setKeyCertOptions(
          new PemKeyCertOptions()
              .setCertValue(io.vertx.core.buffer.Buffer.buffer(clientCert.pem()))
              .setKeyValue(io.vertx.core.buffer.Buffer.buffer(key)));
      options.addEnabledSaslMechanism("EXTERNAL");
    } else if (user == null) {
      options.addEnabledSaslMechanism("ANONYMOUS");
    }
    Promise<ProtonConnection> opened = Promise.promise();
    context.runOnContext(
        v ->
            ProtonClient.create(vertx)
                .connect(
                    options,
                    "localhost",
                    hub.amqpPort(),
                    user,
                    password,
                    ar -> {
                      if (ar.failed()) {
                        opened.fail(ar.cause());
                        return;
                      }
                      ProtonConnection c = ar.result();
                      c.setHostname("localhost");
                      c.openHandler(
                          o -> {
                            if (o.succeeded()) {
                              opened.complete(c);
                            } else {
                              opened.fail(o.cause());
                            }
                          });
                      c.open();
                    }));
    try {
      return new AmqpTestClient(vertx, context, await(opened.future()));
    } catch (Exception e) {
      vertx.close();
      throw e;
    }
  }

  static AmqpTestClient anonymous(Hub hub) throws Exception {
    return connect(hub, null, null, null);
  }

  static <T> T await(Future<T> f) throws Exception {
    return await(f, WAIT_SECONDS);
  }

  static <T> T await(Future<T> f, long seconds) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
  }

  private <T> T on(Supplier<Future<T>> op) throws Exception {
    return await(io.herd.core.Contexts.on(context, op));
  }

  boolean isDisconnected() throws Exception {
    return on(() -> Future.succeededFuture(connection.isDisconnected()));
  }

  /** The error condition the hub closed the connection with, once it did. */
  Future<ErrorCondition> closed() {
    Promise<ErrorCondition> p = Promise.promise();
    context.runOnContext(
        v -> {
          connection.closeHandler(ar -> p.tryComplete(connection.getRemoteCondition()));
          connection.disconnectHandler(c -> p.tryComplete(connection.getRemoteCondition()));
          if (connection.isDisconnected()) {
            p.tryComplete(connection.getRemoteCondition());
          }
        });
    return p.future();
  }

  // ---- CBS

  /**
   * A device token for {@code id} (a device or {@code device/modules/module}) signed by its key.
   */
  static String deviceToken(String resource, String key, long expiry) {
    String sr = URLEncoder.encode("localhost/devices/" + resource, StandardCharsets.UTF_8);
    String sig = SasAuthenticator.sign(key, sr + "\n" + expiry);
    return "SharedAccessSignature sr="
        + sr
        + "&sig="
        + URLEncoder.encode(sig, StandardCharsets.UTF_8)
        + "&se="
        + expiry;
  }

  static String deviceToken(String deviceId, String key) {
    return deviceToken(deviceId, key, Instant.now().getEpochSecond() + 3600);
  }

  /** Puts a token on $cbs as the Node SDK does; returns the reply's status-code. */
  int putToken(String audience, String token) throws Exception {
    Message reply = putTokenReply(audience, token);
    return (Integer) reply.getApplicationProperties().getValue().get("status-code");
  }

  Message putTokenReply(String audience, String token) throws Exception {
    if (cbsSender == null) {
      ProtonReceiver replies =
          on(
              () ->
                  open(
                      connection.createReceiver("$cbs"),
                      (d, m) -> {
                        Promise<Message> p =
                            cbsReplies.remove(m.getProperties().getCorrelationId());
                        if (p != null) {
                          p.complete(m);
                        }
                      }));
      cbsSender = on(() -> open(connection.createSender("$cbs"), null));
      assert replies != null;
    }
    String id = UUID.randomUUID().toString();
    Message m = Message.Factory.create();
    Properties p = new Properties();
    p.setMessageId(id);
    p.setTo("$cbs");
    p.setReplyTo("cbs");
    m.setProperties(p);
    m.setApplicationProperties(
        new ApplicationProperties(
            Map.of(
                "operation", "put-token",
                "type", "servicebus.windows.net:sastoken",
                "name", audience)));
    m.setBody(new AmqpValue(token));
    Promise<Message> reply = Promise.promise();
    cbsReplies.put(id, reply);
    send(cbsSender, m);
    return await(reply.future());
  }

  // ---- links

  /** Attaches a link; fails with the hub's error condition when the hub refuses it. */
  private <L extends ProtonLink<L>> Future<L> open(L link, ProtonMessageHandler handler) {
    Promise<L> p = Promise.promise();
    if (link instanceof ProtonReceiver r && handler != null) {
      r.handler(handler);
    }
    // A refusal is an attach without the terminus on the hub's side, and a detach saying why.
    link.openHandler(
        ar -> {
          if (ar.failed()) {
            p.tryFail(new LinkRefused(link.getRemoteCondition()));
            return;
          }
          boolean refused =
              link instanceof ProtonSender
                  ? link.getRemoteTarget() == null
                  : link.getRemoteSource() == null;
          if (!refused) {
            p.tryComplete(link);
          }
        });
    link.closeHandler(ar -> p.tryFail(new LinkRefused(link.getRemoteCondition())));
    link.detachHandler(ar -> p.tryFail(new LinkRefused(link.getRemoteCondition())));
    link.open();
    return p.future();
  }

  /** A refused or detached link, with the hub's condition. */
  static final class LinkRefused extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient ErrorCondition condition;

    LinkRefused(ErrorCondition condition) {
      super(
          condition == null
              ? "detached"
              : condition.getCondition() + ": " + condition.getDescription());
      this.condition = condition;
    }
  }

  ProtonSender sender(String address) throws Exception {
    return on(() -> open(connection.createSender(address), null));
  }

  ProtonSender sender(String address, Map<Symbol, Object> properties) throws Exception {
    return on(
        () -> {
          ProtonSender s = connection.createSender(address);
          s.setProperties(properties);
          return open(s, null);
        });
  }

  ProtonReceiver receiver(String address, ProtonMessageHandler handler) throws Exception {
    return on(() -> open(connection.createReceiver(address), handler));
  }

  /** A receiver that settles on its own ({@code autoAccept}) or leaves it to the handler. */
  ProtonReceiver receiver(
      String address,
      Map<Symbol, Object> properties,
      boolean autoAccept,
      ProtonQoS qos,
      ProtonMessageHandler handler)
      throws Exception {
    return on(
        () -> {
          ProtonReceiver r = connection.createReceiver(address);
          r.setProperties(properties);
          r.setAutoAccept(autoAccept);
          if (qos != null) {
            r.setQoS(qos);
          }
          return open(r, handler);
        });
  }

  /** Sends {@code m} unsettled; completes with the hub's outcome. */
  DeliveryState send(ProtonSender sender, Message m) throws Exception {
    return on(
        () -> {
          Promise<DeliveryState> p = Promise.promise();
          sender.send(m, (ProtonDelivery d) -> p.tryComplete(d.getRemoteState()));
          return p.future();
        });
  }

  /** Runs {@code r} on the client's context (vertx-proton objects live there). */
  void run(Runnable r) throws Exception {
    on(
        () -> {
          r.run();
          return Future.succeededFuture();
        });
  }

  /** The condition a link was detached with, once the hub detaches it. */
  Future<ErrorCondition> detached(ProtonLink<?> link) {
    Promise<ErrorCondition> p = Promise.promise();
    context.runOnContext(
        v -> {
          link.closeHandler(ar -> p.tryComplete(link.getRemoteCondition()));
          link.detachHandler(ar -> p.tryComplete(link.getRemoteCondition()));
        });
    return p.future();
  }

  @Override
  public void close() {
    try {
      context.runOnContext(v -> connection.close());
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // Closing a test client; nothing to do.
    }
  }
}
