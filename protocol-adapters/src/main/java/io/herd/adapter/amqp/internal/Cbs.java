package io.herd.adapter.amqp.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.message.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Claims-based security on {@code $cbs} (azure-iothub-wire.md §3.2): put-token requests arrive on
 * the client's sender link and each answer goes to the client's {@code $cbs} receiver link,
 * whatever the request's {@code reply_to} says, with a numeric {@code status-code}.
 */
final class Cbs {
  private static final Logger LOG = LoggerFactory.getLogger(Cbs.class);

  /** Token types the hub verifies as SAS tokens. */
  private static final java.util.Set<String> SAS_TYPES =
      java.util.Set.of("servicebus.windows.net:sastoken", "azure-devices.net:sastoken");

  /** Where verified tokens go. */
  interface Tokens {
    /** Verifies {@code token} for {@code audience} and, when valid, puts it to use. */
    Result put(String audience, String token);
  }

  /** The answer to a put-token: an HTTP-like status and its description. */
  record Result(int status, String description) {
    static Result ok() {
      return new Result(200, "OK");
    }
  }

  private final AmqpEngine engine;
  private final Tokens tokens;
  private final int credit;
  private Sender replies;
  private final ArrayDeque<Message> unsent = new ArrayDeque<>();

  Cbs(AmqpEngine engine, Tokens tokens, int credit) {
    this.engine = engine;
    this.tokens = tokens;
    this.credit = credit;
  }

  /** The client's sender link to {@code $cbs}: put-token requests. */
  void attachRequests(Receiver receiver) {
    engine.accept(
        receiver,
        new LinkHandler() {
          @Override
          public void onMessage(Delivery d, byte[] encoded) {
            Message reply = handle(encoded);
            if (!d.remotelySettled()) {
              d.disposition(Accepted.getInstance());
            }
            d.settle();
            receiver.flow(1);
            if (reply != null) {
              unsent.add(reply);
              sendReplies();
            }
          }

          @Override
          public void onClosed(ErrorCondition remoteError) {}
        });
    receiver.flow(credit);
  }

  /** The client's receiver link from {@code $cbs}: the answers. A newer one replaces the older. */
  void attachReplies(Sender sender) {
    replies = sender;
    engine.accept(
        sender,
        new LinkHandler() {
          @Override
          public void onCredit() {
            sendReplies();
          }

          @Override
          public void onClosed(ErrorCondition remoteError) {
            if (replies == sender) {
              replies = null;
            }
          }
        });
  }

  private void sendReplies() {
    while (!unsent.isEmpty() && replies != null && replies.getCredit() > 0) {
      AmqpMessages.Encoded e = AmqpMessages.encode(unsent.poll(), 0);
      engine.send(replies, e.bytes(), e.length(), true, null);
    }
    if (replies == null && !unsent.isEmpty()) {
      LOG.debug(
          "put-token answers dropped: no $cbs receiver link [remote: {}, answers: {}]",
          engine.transport().remoteAddress(),
          unsent.size());
      unsent.clear();
    }
  }

  /** Handles one request; returns the answer, null when the request cannot be answered. */
  private Message handle(byte[] encoded) {
    Message request;
    try {
      request = AmqpMessages.decode(encoded);
    } catch (AmqpMessages.MalformedMessage e) {
      LOG.debug("malformed $cbs request [remote: {}]", engine.transport().remoteAddress());
      return null;
    }
    Result result = evaluate(request);
    Message reply = Message.Factory.create();
    Properties p = new Properties();
    if (request.getProperties() != null) {
      // Same type and value as the request's message_id (Node compares with ===).
      p.setCorrelationId(request.getProperties().getMessageId());
      p.setTo(request.getProperties().getReplyTo());
    }
    reply.setProperties(p);
    Map<String, Object> app = new LinkedHashMap<>();
    app.put("status-code", result.status());
    app.put("status-description", result.description());
    reply.setApplicationProperties(new ApplicationProperties(app));
    return reply;
  }

  private Result evaluate(Message request) {
    Object operation = AmqpMessages.applicationProperty(request, "operation");
    if (!"put-token".equals(operation)) {
      return new Result(400, "Unsupported operation '" + operation + "'; only put-token is");
    }
    Object type = AmqpMessages.applicationProperty(request, "type");
    if (!(type instanceof String t) || !SAS_TYPES.contains(t)) {
      return new Result(
          401, "Unsupported token type '" + type + "'; shared access signatures are supported");
    }
    Object name = AmqpMessages.applicationProperty(request, "name");
    String token = tokenText(request);
    if (!(name instanceof String audience) || token == null) {
      return new Result(400, "A put-token needs a 'name' (the audience) and the token as body");
    }
    return tokens.put(audience, token);
  }

  private static String tokenText(Message request) {
    if (request.getBody() instanceof AmqpValue v && v.getValue() instanceof String s) {
      return s;
    }
    byte[] body = AmqpMessages.body(request);
    return body == null || body.length == 0 ? null : new String(body, StandardCharsets.UTF_8);
  }
}
