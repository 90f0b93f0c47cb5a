package io.herd.server.api;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes errors in IoT Hub's legacy REST form, the one the Node SDK parses (azure-iothub-wire.md
 * §5.1): {@code {"Message":"ErrorCode:Name;text","ExceptionMessage":"Tracking ID:..."}} plus the
 * {@code iothub-errorcode} header the C# and Java SDKs read. The numeric code rides along as {@code
 * errorCode} for people and tools.
 */
public final class RestErrors {
  private static final Logger LOG = LoggerFactory.getLogger(RestErrors.class);
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("MM/dd/yyyy HH:mm:ss").withZone(ZoneOffset.UTC);

  private RestErrors() {}

  public static JsonObject body(ErrorCode code, String message, String trackingId) {
    return new JsonObject()
        .put("Message", "ErrorCode:" + code.wireName() + ";" + message.replace(';', ','))
        .put(
            "ExceptionMessage",
            "Tracking ID:"
                + trackingId
                + "-G:0-TimeStamp:"
                + STAMP.format(ZonedDateTime.now(ZoneOffset.UTC)))
        .put("errorCode", code.code())
        .put("trackingId", trackingId);
  }

  /** Sends {@code failure} (anything not a HubException is a 500 and is logged with its cause). */
  public static void send(
      HttpServerResponse response, String method, String path, Throwable failure) {
    HubException e = HubException.from(failure);
    ErrorCode code = e.errorCode();
    String trackingId = UUID.randomUUID().toString().replace("-", "");
    if (code.httpStatus() >= 500) {
      LOG.warn(
          "request failed [method: {}, path: {}, tracking-id: {}]",
          method,
          path,
          trackingId,
          failure);
    } else {
      LOG.debug(
          "request rejected [method: {}, path: {}, code: {}, reason: {}]",
          method,
          path,
          code.code(),
          e.getMessage());
    }
    if (response.headWritten()) {
      response.reset();
      return;
    }
    response
        .setStatusCode(code.httpStatus())
        .putHeader("Content-Type", "application/json; charset=utf-8")
        .putHeader("iothub-errorcode", code.wireName())
        .end(body(code, e.getMessage(), trackingId).toBuffer());
  }
}
