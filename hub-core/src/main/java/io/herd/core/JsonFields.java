package io.herd.core;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Typed reads of JSON request fields that fail with a 400 naming the field and what was wrong, so a
 * client never gets a ClassCastException or a silent default.
 */
public final class JsonFields {
  private JsonFields() {}

  /** Parses a request body that must be a JSON object. */
  public static JsonObject parseObject(Buffer body) {
    Object value = parse(body);
    if (value instanceof JsonObject o) {
      return o;
    }
    throw new HubException(
        ErrorCode.DESERIALIZATION_ERROR, "Request body must be a JSON object, not " + kind(value));
  }

  /** Parses a request body that must be a JSON array. */
  public static JsonArray parseArray(Buffer body) {
    Object value = parse(body);
    if (value instanceof JsonArray a) {
      return a;
    }
    throw new HubException(
        ErrorCode.DESERIALIZATION_ERROR, "Request body must be a JSON array, not " + kind(value));
  }

  private static Object parse(Buffer body) {
    if (body == null || body.length() == 0) {
      throw new HubException(ErrorCode.ARGUMENT_NULL, "Request body is empty");
    }
    try {
      return io.vertx.core.json.Json.decodeValue(body);
    } catch (DecodeException e) {
      throw new HubException(
          ErrorCode.DESERIALIZATION_ERROR, "Request body is not valid JSON: " + e.getMessage());
    }
  }

  /** A string field, or null when absent or null. */
  public static String string(JsonObject o, String field, String path) {
    Object v = o.getValue(field);
    if (v == null || v instanceof String) {
      return (String) v;
    }
    throw wrongType(path(path, field), "a string", v);
  }

  /** A boolean field, or {@code dflt} when absent or null. */
  public static boolean bool(JsonObject o, String field, String path, boolean dflt) {
    Object v = o.getValue(field);
    if (v == null) {
      return dflt;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    throw wrongType(path(path, field), "true or false", v);
  }

  /** An object field, or null when absent or null. */
  public static JsonObject object(JsonObject o, String field, String path) {
    Object v = o.getValue(field);
    if (v == null || v instanceof JsonObject) {
      return (JsonObject) v;
    }
    throw wrongType(path(path, field), "an object", v);
  }

  /** An array field, or null when absent or null. */
  public static JsonArray array(JsonObject o, String field, String path) {
    Object v = o.getValue(field);
    if (v == null || v instanceof JsonArray) {
      return (JsonArray) v;
    }
    throw wrongType(path(path, field), "an array", v);
  }

  public static String path(String parent, String field) {
    return parent == null || parent.isEmpty() ? field : parent + "." + field;
  }

  public static HubException wrongType(String path, String expected, Object actual) {
    return HubException.badRequest(
        "Field '" + path + "' must be " + expected + ", but is " + kind(actual));
  }

  /** Names a JSON value's kind for error messages. */
  public static String kind(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof String) {
      return "a string";
    }
    if (v instanceof Boolean) {
      return "a boolean";
    }
    if (v instanceof Number) {
      return "a number";
    }
    if (v instanceof JsonObject) {
      return "an object";
    }
    if (v instanceof JsonArray) {
      return "an array";
    }
    return v.getClass().getSimpleName();
  }
}
