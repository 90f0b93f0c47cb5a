package io.herd.simulator.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.MessageAnnotations;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.messaging.Section;
import org.apache.qpid.proton.message.Message;

/**
 * The device side of IoT Hub's AMQP links (azure-iothub-wire.md §3.3, §3.4), as the Node SDK uses
 * them: link addresses and attach properties, the messages a device sends, and parsers for what the
 * hub sends on the twin and method links. Bodies are data sections. Pure; no I/O.
 */
public final class AmqpDeviceMessages {

  public static final String REPORTED = "/properties/reported";
  public static final String DESIRED_NOTIFICATIONS = "/notifications/twin/properties/desired";
  static final Symbol CHANNEL_CORRELATION_ID =
      Symbol.valueOf("com.microsoft:channel-correlation-id");
  static final Symbol API_VERSION = Symbol.valueOf("com.microsoft:api-version");
  static final Symbol CLIENT_VERSION = Symbol.valueOf("com.microsoft:client-version");
  static final String CLIENT = "herd-sim";
  private static final Symbol OPERATION = Symbol.valueOf("operation");
  private static final Symbol RESOURCE = Symbol.valueOf("resource");
  private static final Symbol STATUS = Symbol.valueOf("status");
  private static final Symbol VERSION = Symbol.valueOf("version");
  private static final Symbol JSON = Symbol.valueOf("application/json");
  private static final Symbol UTF_8_ENCODING = Symbol.valueOf("utf-8");
  private static final String METHOD_NAME = "IoThub-methodname";
  private static final String METHOD_STATUS = "IoThub-status";

  private AmqpDeviceMessages() {}

  public static String eventsAddress(String deviceId) {
    return "/devices/" + deviceId + "/messages/events";
  }

  public static String twinAddress(String deviceId) {
    return "/devices/" + deviceId + "/twin";
  }

  public static String methodsAddress(String deviceId) {
    return "/devices/" + deviceId + "/methods/devicebound";
  }

  /** The attach properties of a telemetry link: the client's version only. */
  public static Map<Symbol, Object> linkProperties() {
    Map<Symbol, Object> p = new LinkedHashMap<>();
    p.put(CLIENT_VERSION, CLIENT);
    return p;
  }

  /**
   * The attach properties of both links of a twin or methods channel ({@code kind} "twin" or
   * "methods"): one {@code channel-correlation-id} pairs them, and the API version.
   */
  public static Map<Symbol, Object> channelProperties(String kind, UUID channel) {
    Map<Symbol, Object> p = linkProperties();
    p.put(CHANNEL_CORRELATION_ID, kind + ":" + channel);
    p.put(API_VERSION, DeviceTopics.API_VERSION);
    return p;
  }

  /** A telemetry message: a JSON body, marked as such (the MQTT property bag's $.ct and $.ce). */
  public static Message telemetry(byte[] json) {
    Message m = Message.Factory.create();
    Properties p = new Properties();
    p.setContentType(JSON);
    p.setContentEncoding(UTF_8_ENCODING);
    m.setProperties(p);
    m.setBody(new Data(new Binary(json)));
    return m;
  }

  /**
   * A twin request: {@code operation} GET, PATCH or PUT, on {@code resource} (null for GET), with
   * the string correlation id {@code rid}. The Node SDK sends " " where there is no body.
   */
  public static Message twinRequest(String operation, String resource, String rid, byte[] body) {
    Map<Symbol, Object> annotations = new LinkedHashMap<>();
    annotations.put(OPERATION, operation);
    if (resource != null) {
      annotations.put(RESOURCE, resource);
    }
    Message m = Message.Factory.create();
    Properties p = new Properties();
    p.setCorrelationId(rid);
    m.setProperties(p);
    m.setMessageAnnotations(new MessageAnnotations(annotations));
    m.setBody(new Data(new Binary(body == null ? " ".getBytes(UTF_8) : body)));
    return m;
  }

  /**
   * The answer to a method request: its correlation id as the hub sent it (a uuid stays a uuid),
   * the status as an int, the JSON body.
   */
  public static Message methodResponse(Object correlationId, int status, byte[] body) {
    Message m = Message.Factory.create();
    Properties p = new Properties();
    p.setCorrelationId(correlationId);
    m.setProperties(p);
    Map<String, Object> app = new LinkedHashMap<>();
    app.put(METHOD_STATUS, status);
    m.setApplicationProperties(new ApplicationProperties(app));
    m.setBody(new Data(new Binary(body)));
    return m;
  }

  /**
   * What arrives on the twin receiver link: the answer to request {@code rid} with {@code status},
   * or a desired-properties notification ({@code rid} null, status 0). {@code version} is the
   * {@code version} annotation (a notification's falls back to its body's {@code $version}), -1
   * when absent; {@code body} the JSON body, or null.
   */
  public record TwinMessage(String rid, int status, long version, Object body) {

    public boolean isNotification() {
      return rid == null;
    }
  }

  /**
   * Parses a twin message; null when it is malformed: an answer without a numeric {@code status},
   * or a notification without a JSON object body and a version.
   */
  public static TwinMessage twinMessage(Message m) {
    Object cid = m.getProperties() == null ? null : m.getProperties().getCorrelationId();
    Object body = json(m);
    long version = annotation(m, VERSION) instanceof Number n ? n.longValue() : -1;
    if (cid == null) {
      if (!(body instanceof JsonObject patch)) {
        return null;
      }
      if (version < 0 && patch.getValue("$version") instanceof Number n) {
        version = n.longValue();
      }
      return version < 0 ? null : new TwinMessage(null, 0, version, patch);
    }
    if (!(annotation(m, STATUS) instanceof Number status)) {
      return null;
    }
    return new TwinMessage(cid.toString(), status.intValue(), version, body);
  }

  /**
   * A direct-method request: {@code name}, the {@code correlationId} its answer must carry, and
   * {@code rid}, that id as text.
   */
  public record MethodCall(String name, Object correlationId, String rid, Object payload) {}

  /** Parses a method request; null when it has no method name or no correlation id. */
  public static MethodCall methodCall(Message m) {
    Object cid = m.getProperties() == null ? null : m.getProperties().getCorrelationId();
    Object name =
        m.getApplicationProperties() == null
            ? null
            : m.getApplicationProperties().getValue().get(METHOD_NAME);
    if (cid == null || !(name instanceof String n) || n.isEmpty()) {
      return null;
    }
    return new MethodCall(n, cid, cid.toString(), json(m));
  }

  /** The body as JSON, or null when empty, not JSON, or neither data nor a string or binary. */
  static Object json(Message m) {
    Section body = m.getBody();
    if (body instanceof Data d && d.getValue() != null) {
      Binary b = d.getValue();
      return JsonBody.parse(new String(b.getArray(), b.getArrayOffset(), b.getLength(), UTF_8));
    }
    if (body instanceof AmqpValue v && v.getValue() instanceof String s) {
      return JsonBody.parse(s);
    }
    if (body instanceof AmqpValue v && v.getValue() instanceof Binary b) {
      return JsonBody.parse(new String(b.getArray(), b.getArrayOffset(), b.getLength(), UTF_8));
    }
    return null;
  }

  private static Object annotation(Message m, Symbol key) {
    MessageAnnotations a = m.getMessageAnnotations();
    return a == null || a.getValue() == null ? null : a.getValue().get(key);
  }
}
