package io.herd.simulator.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.ProtonDelivery;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import io.vertx.proton.ProtonServer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.MessageAnnotations;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.message.Message;

/**
 * Just enough of the hub's AMQP device endpoint (plain TCP, SASL ANONYMOUS) for one device: answers
 * put-tokens with {@link #cbsStatus}, twin GET with {@link #twin}, PUT with 200, PATCH with {@link
 * #patchStatus} and a version, settles telemetry as {@link #telemetryOutcome} says (null: never),
 * and records what the device sent. Its state belongs to the event loop it was started on; tests
 * touch it there.
 */
final class FakeAmqpHub {

  int cbsStatus = 200;
  boolean answerPutToken = true;
  int patchStatus = 204;
  JsonObject twin =
      new JsonObject()
          .put("desired", new JsonObject().put("$version", 3))
          .put("reported", new JsonObject().put("$version", 1));

  /** Telemetry credit granted at attach; more is given only while {@link #replenish} is set. */
  int telemetryCredit = 100;

  boolean replenish = true;
  boolean answerTwinGet = true;
  Function<Message, DeliveryState> telemetryOutcome = m -> Accepted.getInstance();

  final List<Message> cbsRequests = new ArrayList<>();
  final List<Message> twinRequests = new ArrayList<>();
  final List<Message> telemetry = new ArrayList<>();
  final List<Message> methodAnswers = new ArrayList<>();

  /** Attach properties by "in ADDRESS" (the device sends) or "out ADDRESS" (the hub sends). */
  final Map<String, Map<Symbol, Object>> linkProperties = new HashMap<>();

  boolean closedByDevice;
  String openHostname;
  ProtonConnection connection;
  ProtonSender cbsReplies;
  ProtonSender twinOut;
  ProtonSender methodsOut;
  private long reportedVersion = 1;
  private ProtonServer server;

  /** Listens on a free port of the loopback interface; call on the event loop. */
  Future<Integer> start(Vertx vertx) {
    Promise<Integer> port = Promise.promise();
    server = ProtonServer.create(vertx).connectHandler(this::onConnection);
    server.listen(0, "127.0.0.1", ar -> port.handle(ar.map(ProtonServer::actualPort)));
    return port.future();
  }

  void close() {
    server.close();
  }

  private void onConnection(ProtonConnection c) {
    connection = c;
    c.openHandler(
        x -> {
          openHostname = c.getRemoteHostname();
          c.open();
        });
    c.closeHandler(
        x -> {
          closedByDevice = true;
          c.close();
        });
    c.sessionOpenHandler(s -> s.open());
    c.senderOpenHandler(
        s -> {
          String address = s.getRemoteSource().getAddress();
          s.setSource(s.getRemoteSource());
          linkProperties.put("out " + address, s.getRemoteProperties());
          if (address.equals("$cbs")) {
            cbsReplies = s;
          } else if (address.endsWith("/twin")) {
            twinOut = s;
          } else if (address.endsWith("/methods/devicebound")) {
            methodsOut = s;
          }
          s.open();
        });
    c.receiverOpenHandler(
        r -> {
          String address = r.getRemoteTarget().getAddress();
          r.setTarget(r.getRemoteTarget());
          linkProperties.put("in " + address, r.getRemoteProperties());
          if (address.equals("$cbs")) {
            r.handler((d, m) -> putToken(m));
          } else if (address.endsWith("/twin")) {
            r.handler((d, m) -> twinRequest(m));
          } else if (address.endsWith("/methods/devicebound")) {
            r.handler((d, m) -> methodAnswers.add(m));
          } else if (address.endsWith("/messages/events")) {
            r.setAutoAccept(false).setPrefetch(0).handler((d, m) -> onTelemetry(r, d, m));
            r.open();
            r.flow(telemetryCredit);
            return;
          }
          r.open();
        });
  }

  private void putToken(Message m) {
    cbsRequests.add(m);
    if (!answerPutToken) {
      return;
    }
    Message reply = Message.Factory.create();
    Properties p = new Properties();
    p.setCorrelationId(m.getProperties().getMessageId());
    reply.setProperties(p);
    Map<String, Object> app = new LinkedHashMap<>();
    app.put("status-code", cbsStatus);
    app.put("status-description", cbsStatus == 200 ? "OK" : "Unauthorized");
    reply.setApplicationProperties(new ApplicationProperties(app));
    cbsReplies.send(reply);
  }

  private void twinRequest(Message m) {
    twinRequests.add(m);
    Object cid = m.getProperties().getCorrelationId();
    Object operation = m.getMessageAnnotations().getValue().get(Symbol.valueOf("operation"));
    if ("GET".equals(operation)) {
      if (answerTwinGet) {
        answer(cid, 200, null, twin.encode());
      }
    } else if ("PATCH".equals(operation)) {
      answer(cid, patchStatus, ++reportedVersion, "");
    } else {
      answer(cid, 200, null, "");
    }
  }

  private void answer(Object cid, int status, Long version, String body) {
    Map<Symbol, Object> a = new LinkedHashMap<>();
    a.put(Symbol.valueOf("status"), status);
    if (version != null) {
      a.put(Symbol.valueOf("version"), version);
    }
    Message m = Message.Factory.create();
    Properties p = new Properties();
    p.setCorrelationId(cid);
    m.setProperties(p);
    m.setMessageAnnotations(new MessageAnnotations(a));
    m.setBody(new Data(new Binary(body.getBytes(UTF_8))));
    twinOut.send(m);
  }

  private void onTelemetry(ProtonReceiver events, ProtonDelivery d, Message m) {
    telemetry.add(m);
    DeliveryState outcome = telemetryOutcome.apply(m);
    if (outcome != null) {
      d.disposition(outcome, true);
    }
    if (replenish) {
      events.flow(1);
    }
  }

  /** A desired-properties notification as the hub sends it: no correlation id. */
  void notifyDesired(long version, JsonObject patch) {
    Map<Symbol, Object> a = new LinkedHashMap<>();
    a.put(Symbol.valueOf("version"), version);
    a.put(Symbol.valueOf("resource"), "/properties/desired");
    Message m = Message.Factory.create();
    m.setMessageAnnotations(new MessageAnnotations(a));
    m.setBody(new Data(new Binary(patch.toBuffer().getBytes())));
    twinOut.send(m);
  }

  /** A method request with {@code correlationId} (the hub sends a uuid). */
  void invoke(String name, Object correlationId, JsonObject payload) {
    Message m = Message.Factory.create();
    Properties p = new Properties();
    p.setCorrelationId(correlationId);
    m.setProperties(p);
    m.setApplicationProperties(new ApplicationProperties(Map.of("IoThub-methodname", name)));
    m.setBody(new Data(new Binary(payload.toBuffer().getBytes())));
    methodsOut.send(m);
  }

  /** Detaches the link the hub answers put-tokens on. */
  void detachCbs(String condition, String description) {
    cbsReplies.setCondition(new ErrorCondition(Symbol.valueOf(condition), description));
    cbsReplies.close();
  }

  /** Detaches the twin link the hub sends on, as when a newer connection replaced this one. */
  void detachTwin(String condition, String description) {
    twinOut.setCondition(new ErrorCondition(Symbol.valueOf(condition), description));
    twinOut.close();
  }
}
