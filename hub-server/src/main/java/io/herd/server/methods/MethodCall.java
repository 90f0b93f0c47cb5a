package io.herd.server.methods;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.JsonFields;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;

/**
 * A direct-method call as a service asks for it (azure-iothub-wire.md §5.5), validated with IoT
 * Hub's rules: a direct {@code POST .../methods} body, or a job's {@code cloudToDeviceMethod}.
 *
 * @param payload the request payload as JSON text ({@code null} when absent)
 */
public record MethodCall(
    String methodName, Buffer payload, int responseTimeoutInSeconds, int connectTimeoutInSeconds) {

  /** IoT Hub's limit on a method payload, each way. */
  public static final int MAX_PAYLOAD_BYTES = 128 * 1024;

  public static final int DEFAULT_RESPONSE_TIMEOUT = 30;
  public static final int MIN_RESPONSE_TIMEOUT = 5;
  public static final int MAX_TIMEOUT = 300;

  /** Characters IoT Hub does not allow in method names besides controls and non-ASCII. */
  private static final String FORBIDDEN = "$()<>@,;:\\\"/[]?={} \t";

  /**
   * Reads and checks a call; errors name the field, under {@code path} when given (such as {@code
   * cloudToDeviceMethod}).
   */
  public static MethodCall parse(JsonObject body, String path) {
    String nameField = JsonFields.path(path, "methodName");
    Object nameValue = body.getValue("methodName");
    if (!(nameValue instanceof String name) || name.isEmpty()) {
      throw new HubException(
          ErrorCode.ARGUMENT_INVALID, nameField + " is required and must be a non-empty string");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < 0x21 || c > 0x7e || FORBIDDEN.indexOf(c) >= 0) {
        throw new HubException(
            ErrorCode.ARGUMENT_INVALID,
            nameField
                + " '"
                + name
                + "' has a character IoT Hub does not allow at position "
                + i
                + " (printable US-ASCII except $()<>@,;:\\\"/[]?={} and spaces)");
      }
    }
    int response =
        seconds(
            body, path, "responseTimeoutInSeconds", DEFAULT_RESPONSE_TIMEOUT, MIN_RESPONSE_TIMEOUT);
    int connect = seconds(body, path, "connectTimeoutInSeconds", 0, 0);
    Buffer payload = Json.encodeToBuffer(body.getValue("payload"));
    if (payload.length() > MAX_PAYLOAD_BYTES) {
      throw new HubException(
          ErrorCode.MESSAGE_TOO_LARGE,
          "The method payload is "
              + payload.length()
              + " bytes; the limit is "
              + MAX_PAYLOAD_BYTES);
    }
    return new MethodCall(name, payload, response, connect);
  }

  private static int seconds(JsonObject body, String path, String field, int dflt, int min) {
    Object v = body.getValue(field);
    if (v == null) {
      return dflt;
    }
    String name = JsonFields.path(path, field);
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
      throw JsonFields.wrongType(name, "a whole number of seconds", v);
    }
    long s = n.longValue();
    if (s < min || s > MAX_TIMEOUT) {
      throw new HubException(
          ErrorCode.ARGUMENT_INVALID,
          name + " must be between " + min + " and " + MAX_TIMEOUT + ", got " + s);
    }
    return (int) s;
  }

  /** The call as a job's {@code cloudToDeviceMethod} shows it. */
  public JsonObject json() {
    return new JsonObject()
        .put("methodName", methodName)
        .put("payload", Json.decodeValue(payload))
        .put("responseTimeoutInSeconds", responseTimeoutInSeconds)
        .put("connectTimeoutInSeconds", connectTimeoutInSeconds);
  }
}
