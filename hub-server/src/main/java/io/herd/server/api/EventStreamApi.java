package io.herd.server.api;

import io.herd.adapter.common.DeviceMessage;
import io.herd.adapter.common.LiveEventStream;
import io.herd.core.HubException;
import io.herd.core.Timestamps;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * {@code GET /messages/events}: device-to-cloud messages as a live Server-Sent Events stream. Each
 * event has the message's sequence number as its id, so a reader that reconnects with {@code
 * Last-Event-ID} (or {@code ?from=N}) continues where it was while the hub still retains those
 * messages. {@code ?deviceId=} narrows the stream to one device.
 */
final class EventStreamApi {
  /** Events a reader may lag behind before it is dropped with an {@code overflow} event. */
  static final int READER_BUFFER = 10_000;

  static final long HEARTBEAT_MS = 15_000;

  private final LiveEventStream events;

  EventStreamApi(LiveEventStream events) {
    this.events = events;
  }

  void handle(RoutingContext ctx) {
    String deviceId = ctx.request().getParam("deviceId");
    String from = ctx.request().getHeader("Last-Event-ID");
    if (from == null) {
      from = ctx.request().getParam("from");
    }
    long after = -1;
    if (from != null && !from.isBlank()) {
      try {
        after = Long.parseLong(from.trim());
      } catch (NumberFormatException e) {
        throw HubException.badRequest(
            "Last-Event-ID / from must be a sequence number, got '" + from + "'");
      }
    }
    Vertx vertx = ctx.vertx();
    Context context = vertx.getOrCreateContext();
    HttpServerResponse res = ctx.response();
    res.setChunked(true)
        .putHeader("Content-Type", "text/event-stream; charset=utf-8")
        .putHeader("Cache-Control", "no-cache");
    res.write(": herd live device-to-cloud messages\n\n");
    LiveEventStream.Reader[] reader = new LiveEventStream.Reader[1];
    long heartbeat = vertx.setPeriodic(HEARTBEAT_MS, t -> res.write(": keep-alive\n\n"));
    reader[0] =
        events.open(
            context,
            after,
            READER_BUFFER,
            e -> {
              if (deviceId != null && !deviceId.equals(e.message().deviceId())) {
                return;
              }
              res.write(frame(e));
              if (res.writeQueueFull()) {
                reader[0].pause();
                res.drainHandler(v -> reader[0].resume());
              }
            },
            v -> {
              vertx.cancelTimer(heartbeat);
              res.end(
                  "event: overflow\ndata: "
                      + new JsonObject()
                          .put(
                              "message",
                              "this reader fell more than "
                                  + READER_BUFFER
                                  + " messages behind; reconnect with Last-Event-ID")
                          .encode()
                      + "\n\n");
            });
    res.closeHandler(
        v -> {
          vertx.cancelTimer(heartbeat);
          reader[0].close();
        });
  }

  static String frame(LiveEventStream.Event e) {
    return "id: " + e.sequence() + "\nevent: message\ndata: " + json(e).encode() + "\n\n";
  }

  static JsonObject json(LiveEventStream.Event e) {
    DeviceMessage m = e.message();
    JsonObject o =
        new JsonObject()
            .put("sequenceNumber", e.sequence())
            .put("deviceId", m.deviceId())
            .put("moduleId", m.moduleId())
            .put("enqueuedTime", Timestamps.format(m.enqueuedTime()))
            .put("protocol", m.protocol())
            .put(
                "systemProperties",
                new JsonObject(new java.util.LinkedHashMap<>(m.systemProperties())))
            .put("properties", new JsonObject(new java.util.LinkedHashMap<>(m.properties())));
    String text = utf8(m.body());
    if (text != null) {
      o.put("body", text).put("bodyEncoding", "utf-8");
    } else {
      o.put("body", Base64.getEncoder().encodeToString(m.body())).put("bodyEncoding", "base64");
    }
    return o;
  }

  /** The body as text when it is valid UTF-8, else null. */
  private static String utf8(byte[] body) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(body))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
