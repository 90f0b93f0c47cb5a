package io.herd.simulator.internal;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.ProtonLink;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.message.Message;

/**
 * Claims-based security from the client's side (azure-iothub-wire.md §3.2): a sender and a receiver
 * link on {@code $cbs} of one connection, put-token requests on the sender and the hub's answers on
 * the receiver, matched by correlation id = the request's message id. Owned by the connection's
 * context.
 */
public final class CbsClient {

  private static final String ADDRESS = "$cbs";
  private static final String SAS_TOKEN_TYPE = "servicebus.windows.net:sastoken";
  // The hub answers each put-token once; more than these in flight means answers are lost.
  private static final int REPLY_CREDIT = 4;

  private record Pending(Promise<Void> answered, long timer) {}

  private final Vertx vertx;
  private final Map<String, Pending> pending = new HashMap<>();
  private ProtonReceiver replies;
  private ProtonSender requests;

  private CbsClient(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Attaches the two {@code $cbs} links of {@code connection}, the answers' receiver first. */
  public static Future<CbsClient> open(Vertx vertx, ProtonConnection connection) {
    CbsClient cbs = new CbsClient(vertx);
    ProtonReceiver replies =
        connection
            .createReceiver(ADDRESS)
            .setPrefetch(REPLY_CREDIT)
            .handler((delivery, message) -> cbs.onReply(message));
    cbs.replies = replies;
    return AmqpWire.attach(replies)
        .compose(r -> AmqpWire.attach(connection.createSender(ADDRESS)))
        .map(
            s -> {
              cbs.requests = s;
              return cbs;
            });
  }

  /**
   * Puts {@code token} (a SAS token) to use for {@code audience}; fails unless the hub answers
   * {@code status-code} 200 within {@code timeoutMs}.
   */
  public Future<Void> putToken(String audience, String token, long timeoutMs) {
    String messageId = UUID.randomUUID().toString();
    Promise<Void> answered = Promise.promise();
    long timer =
        vertx.setTimer(
            Math.max(1, timeoutMs),
            t -> {
              if (pending.remove(messageId) != null) {
                answered.tryFail("no answer to put-token within " + timeoutMs + " ms");
              }
            });
    pending.put(messageId, new Pending(answered, timer));
    Message m = Message.Factory.create();
    Properties p = new Properties();
    p.setMessageId(messageId);
    p.setTo(ADDRESS);
    p.setReplyTo("cbs");
    m.setProperties(p);
    Map<String, Object> app = new HashMap<>();
    app.put("operation", "put-token");
    app.put("type", SAS_TOKEN_TYPE);
    app.put("name", audience);
    m.setApplicationProperties(new ApplicationProperties(app));
    m.setBody(new AmqpValue(token));
    requests.send(m);
    return answered.future();
  }

  /** The two links, for the connection to treat their loss as its own. */
  public List<ProtonLink<?>> links() {
    return List.of(replies, requests);
  }

  /** The connection has ended: put-tokens in flight fail now, and their timers go. */
  public void close() {
    List<Pending> open = new ArrayList<>(pending.values());
    pending.clear();
    for (Pending p : open) {
      vertx.cancelTimer(p.timer());
      p.answered().tryFail("the connection ended before the put-token was answered");
    }
  }

  private void onReply(Message m) {
    Object id = m.getProperties() == null ? null : m.getProperties().getCorrelationId();
    Pending p = id == null ? null : pending.remove(id.toString());
    if (p == null) {
      return; // answered after its timeout
    }
    vertx.cancelTimer(p.timer());
    Map<String, Object> app =
        m.getApplicationProperties() == null ? Map.of() : m.getApplicationProperties().getValue();
    Object status = app.get("status-code");
    if (status instanceof Number n && n.intValue() == 200) {
      p.answered().tryComplete();
    } else {
      p.answered().tryFail("put-token answered " + status + ": " + app.get("status-description"));
    }
  }
}
