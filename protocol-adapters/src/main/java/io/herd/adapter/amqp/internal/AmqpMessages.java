package io.herd.adapter.amqp.internal;

import io.herd.adapter.common.CloudToDeviceMessage;
import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.Timestamps;
import java.nio.BufferOverflowException;
import java.nio.charset.StandardCharsets;
import java.util.Date;
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
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.messaging.Section;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.message.Message;

/**
 * AMQP message mapping as the Azure SDKs use it (azure-iothub-wire.md §3.4): properties, the
 * application properties, annotations, and bodies as data sections. Pure functions.
 */
final class AmqpMessages {
  static final Symbol DT_SUBJECT = Symbol.valueOf("dt-subject");
  static final Symbol INTERFACE_ID = Symbol.valueOf("iothub-interface-id");

  private AmqpMessages() {}

  /** A message that is not a well-formed AMQP message: rejected with {@code amqp:decode-error}. */
  static final class MalformedMessage extends RuntimeException {
    private static final long serialVersionUID = 1L;

    MalformedMessage(String message) {
      super(message, null, false, false);
    }
  }

  /** Decodes a whole message; throws {@link MalformedMessage} saying what is wrong. */
  static Message decode(byte[] encoded) {
    Message m = Message.Factory.create();
    try {
      m.decode(encoded, 0, encoded.length);
    } catch (RuntimeException e) {
      throw new MalformedMessage("not a well-formed AMQP message: " + e.getMessage());
    }
    return m;
  }

  /**
   * What the hub keeps of a device's telemetry message.
   *
   * @param systemProperties by IoT Hub's names, see {@link #systemProperties}
   * @param properties the application properties in order, see {@link #applicationProperties}
   * @param body see {@link #body}: null when the body is not bytes
   */
  record Telemetry(
      Map<String, String> systemProperties, Map<String, String> properties, byte[] body) {}

  /**
   * Decodes a device's telemetry message: the SDKs' usual shape straight from the bytes ({@link
   * TelemetryDecoder}), any other through proton-j; throws {@link MalformedMessage}.
   */
  static Telemetry telemetry(byte[] encoded) {
    Telemetry t = TelemetryDecoder.decode(encoded);
    if (t != null) {
      return t;
    }
    Message m = decode(encoded);
    return new Telemetry(systemProperties(m), applicationProperties(m), body(m));
  }

  /** An encoded message; only the first {@code length} bytes of {@code bytes} are used. */
  record Encoded(byte[] bytes, int length) {}

  static Encoded encode(Message m, int bodyBytes) {
    int size = 512 + bodyBytes + bodyBytes / 8;
    while (true) {
      byte[] buf = new byte[size];
      try {
        return new Encoded(buf, m.encode(buf, 0, buf.length));
      } catch (BufferOverflowException e) {
        size *= 2;
      }
    }
  }

  /**
   * The body as bytes: data sections (what the SDKs send), or a string or binary value. Null when
   * the body has another shape.
   */
  static byte[] body(Message m) {
    Section body = m.getBody();
    if (body == null) {
      return new byte[0];
    }
    if (body instanceof Data d) {
      Binary b = d.getValue();
      return b == null ? new byte[0] : copy(b);
    }
    if (body instanceof AmqpValue v) {
      Object value = v.getValue();
      if (value == null) {
        return new byte[0];
      }
      if (value instanceof Binary b) {
        return copy(b);
      }
      if (value instanceof String s) {
        return s.getBytes(StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  private static byte[] copy(Binary b) {
    byte[] out = new byte[b.getLength()];
    System.arraycopy(b.getArray(), b.getArrayOffset(), out, 0, b.getLength());
    return out;
  }

  /**
   * A message or correlation id as text: strings as they are, UUIDs in their canonical form (the
   * Node SDK sends UUID-shaped ids as AMQP uuid), numbers in decimal, binary as UTF-8.
   */
  static String idText(Object id) {
    if (id == null) {
      return null;
    }
    if (id instanceof Binary b) {
      return new String(copy(b), StandardCharsets.UTF_8);
    }
    return id.toString();
  }

  /** An application property value as text; binary values as UTF-8. */
  static String valueText(Object v) {
    if (v == null) {
      return "";
    }
    if (v instanceof Binary b) {
      return new String(copy(b), StandardCharsets.UTF_8);
    }
    if (v instanceof Date d) {
      return Timestamps.format(d.toInstant());
    }
    return v.toString();
  }

  /**
   * The system properties of a device's telemetry by IoT Hub's names ({@code message-id}, {@code
   * content-type}, ...), the same as the MQTT adapter derives from its property bag.
   */
  static Map<String, String> systemProperties(Message m) {
    Map<String, String> system = new LinkedHashMap<>();
    Properties p = m.getProperties();
    if (p != null) {
      put(system, "message-id", idText(p.getMessageId()));
      put(system, "correlation-id", idText(p.getCorrelationId()));
      if (p.getUserId() != null) {
        put(system, "user-id", idText(p.getUserId()));
      }
      put(system, "to", p.getTo());
      put(
          system,
          "content-type",
          p.getContentType() == null ? null : p.getContentType().toString());
      put(
          system,
          "content-encoding",
          p.getContentEncoding() == null ? null : p.getContentEncoding().toString());
      if (p.getAbsoluteExpiryTime() != null) {
        put(
            system,
            "absolute-expiry-time",
            Timestamps.format(p.getAbsoluteExpiryTime().toInstant()));
      }
    }
    MessageAnnotations ma = m.getMessageAnnotations();
    if (ma != null && ma.getValue() != null) {
      Object ifid = ma.getValue().get(INTERFACE_ID);
      if (ifid != null) {
        system.put("iothub-interface-id", valueText(ifid));
      }
    }
    Object output = applicationProperty(m, "iothub-outputname");
    if (output != null) {
      system.put("iothub-outputname", valueText(output));
    }
    return system;
  }

  /** The application properties as text, in order; {@code dt-subject} from the annotations too. */
  static Map<String, String> applicationProperties(Message m) {
    Map<String, String> app = new LinkedHashMap<>();
    ApplicationProperties ap = m.getApplicationProperties();
    if (ap != null && ap.getValue() != null) {
      for (Map.Entry<String, Object> e : ap.getValue().entrySet()) {
        if (!e.getKey().equals("iothub-outputname")) {
          app.put(e.getKey(), valueText(e.getValue()));
        }
      }
    }
    MessageAnnotations ma = m.getMessageAnnotations();
    if (ma != null && ma.getValue() != null) {
      Object subject = ma.getValue().get(DT_SUBJECT);
      if (subject != null) {
        app.put("dt-subject", valueText(subject));
      }
    }
    return app;
  }

  static Object applicationProperty(Message m, String name) {
    ApplicationProperties ap = m.getApplicationProperties();
    return ap == null || ap.getValue() == null ? null : ap.getValue().get(name);
  }

  static Object messageAnnotation(Message m, String name) {
    MessageAnnotations ma = m.getMessageAnnotations();
    return ma == null || ma.getValue() == null ? null : ma.getValue().get(Symbol.valueOf(name));
  }

  private static void put(Map<String, String> map, String key, String value) {
    if (value != null) {
      map.put(key, value);
    }
  }

  /**
   * A cloud-to-device message as devices get it over AMQP: its system properties as AMQP
   * properties, the rest (with {@code iothub-ack}) as application properties, the body as a data
   * section.
   */
  static Message cloudToDevice(CloudToDeviceMessage c) {
    Message m = Message.Factory.create();
    Properties p = new Properties();
    Map<String, String> system = c.systemProperties();
    p.setMessageId(system.get("$.mid"));
    p.setCorrelationId(system.get("$.cid"));
    p.setTo(system.get("$.to"));
    String uid = system.get("$.uid");
    if (uid != null) {
      p.setUserId(new Binary(uid.getBytes(StandardCharsets.UTF_8)));
    }
    if (system.get("$.ct") != null) {
      p.setContentType(Symbol.valueOf(system.get("$.ct")));
    }
    if (system.get("$.ce") != null) {
      p.setContentEncoding(Symbol.valueOf(system.get("$.ce")));
    }
    String exp = system.get("$.exp");
    if (exp != null) {
      p.setAbsoluteExpiryTime(Date.from(Timestamps.parse(exp)));
    }
    m.setProperties(p);
    if (!c.properties().isEmpty()) {
      m.setApplicationProperties(new ApplicationProperties(new LinkedHashMap<>(c.properties())));
    }
    m.setBody(new Data(new Binary(c.body())));
    return m;
  }

  /** A rejected outcome carrying the AMQP condition of {@code e} (wire §3.6). */
  static Rejected rejected(HubException e) {
    Rejected r = new Rejected();
    r.setError(condition(e));
    return r;
  }

  static Rejected rejected(Symbol condition, String description) {
    Rejected r = new Rejected();
    r.setError(new ErrorCondition(condition, description));
    return r;
  }

  static ErrorCondition condition(HubException e) {
    return new ErrorCondition(Symbol.valueOf(e.errorCode().amqpCondition()), e.getMessage());
  }

  static ErrorCondition condition(ErrorCode code, String description) {
    return new ErrorCondition(Symbol.valueOf(code.amqpCondition()), description);
  }

  /** A random id to correlate a request the hub sends, as an AMQP uuid. */
  static UUID newCorrelationId() {
    return UUID.randomUUID();
  }
}
