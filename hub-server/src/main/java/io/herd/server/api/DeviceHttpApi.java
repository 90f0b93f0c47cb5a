package io.herd.server.api;

import io.herd.adapter.common.CloudToDeviceMessage;
import io.herd.adapter.common.DeviceAuthenticator;
import io.herd.adapter.common.DeviceIdentity;
import io.herd.adapter.common.DeviceMessage;
import io.herd.adapter.common.EventSink;
import io.herd.adapter.common.PeerCertificates;
import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.JsonFields;
import io.herd.core.Timestamps;
import io.herd.registry.DeviceRegistry;
import io.herd.server.c2d.CloudToDeviceQueues;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The HTTPS device API (azure-iothub-wire.md §4): telemetry, and cloud-to-device messages received
 * by polling with lock tokens. Devices authenticate with their own SAS token (or a DeviceConnect
 * policy's) in {@code Authorization}, or with the TLS client certificate; a device reaches only its
 * own paths.
 */
final class DeviceHttpApi {
  /** IoT Hub's device-to-cloud message limit, also for a whole batch. */
  static final int MAX_MESSAGE_BYTES = 256 * 1024;

  static final String BATCH_CONTENT_TYPE = "application/vnd.microsoft.iothub.json";

  /** Request headers that carry system properties, by IoT Hub's property name. */
  private static final Map<String, String> SYSTEM_HEADERS =
      Map.of(
          "iothub-messageid", "message-id",
          "iothub-correlationid", "correlation-id",
          "iothub-userid", "user-id",
          "iothub-to", "to",
          "iothub-expiry", "absolute-expiry-time",
          "iothub-contenttype", "content-type",
          "iothub-contentencoding", "content-encoding",
          "iothub-interface-id", "iothub-interface-id");

  private final DeviceAuthenticator authenticator;
  private final EventSink events;
  private final CloudToDeviceQueues cloudToDevice;
  private final DeviceRegistry registry;
  private final Clock clock;

  DeviceHttpApi(
      DeviceAuthenticator authenticator,
      EventSink events,
      CloudToDeviceQueues cloudToDevice,
      DeviceRegistry registry,
      Clock clock) {
    this.authenticator = authenticator;
    this.events = events;
    this.cloudToDevice = cloudToDevice;
    this.registry = registry;
    this.clock = clock;
  }

  /** Adds the device routes; they must come before the service authentication. */
  void routes(Router router) {
    router
        .post("/devices/:id/messages/events")
        .handler(BodyHandler.create(false).setBodyLimit(4L * MAX_MESSAGE_BYTES))
        .handler(ctx -> handle(ctx, this::sendEvents));
    router.get("/devices/:id/messages/devicebound").handler(ctx -> handle(ctx, this::receive));
    router
        .delete("/devices/:id/messages/devicebound/:lockToken")
        .handler(ctx -> handle(ctx, this::completeOrReject));
    router
        .post("/devices/:id/messages/devicebound/:lockToken/abandon")
        .handler(ctx -> handle(ctx, this::abandon));
  }

  private interface Op {
    Future<Void> run(RoutingContext ctx, DeviceIdentity device);
  }

  private void handle(RoutingContext ctx, Op op) {
    Future<Void> done;
    try {
      String deviceId = ctx.pathParam("id");
      DeviceIdentity device = authenticate(ctx.request(), deviceId);
      registry.activity(deviceId, null, clock.instant());
      done = op.run(ctx, device);
    } catch (RuntimeException e) {
      done = Future.failedFuture(e);
    }
    done.onFailure(
        e ->
            RestErrors.send(
                ctx.response(), ctx.request().method().name(), ctx.request().path(), e));
  }

  private DeviceIdentity authenticate(HttpServerRequest request, String deviceId) {
    if (request.getParam("api-version") == null) {
      throw new HubException(
          ErrorCode.INVALID_PROTOCOL_VERSION,
          "The api-version query parameter is required, e.g. ?api-version=2021-04-12");
    }
    String token = request.getHeader("Authorization");
    if (token != null && !token.isBlank()) {
      String host = request.authority() == null ? null : request.authority().host();
      return authenticator.withToken(deviceId, null, token, host).identity();
    }
    return authenticator
        .withCertificate(
            deviceId,
            null,
            PeerCertificates.of(request.isSSL(), () -> request.connection().peerCertificates()))
        .identity();
  }

  // ---- telemetry

  private Future<Void> sendEvents(RoutingContext ctx, DeviceIdentity device) {
    Buffer body = ctx.body().buffer();
    if (body == null) {
      body = Buffer.buffer();
    }
    if (body.length() > MAX_MESSAGE_BYTES) {
      throw new HubException(
          ErrorCode.MESSAGE_TOO_LARGE,
          "The message is "
              + body.length()
              + " bytes; the limit is "
              + MAX_MESSAGE_BYTES
              + " (for a batch, in all)");
    }
    String contentType = ctx.request().getHeader("Content-Type");
    List<DeviceMessage> messages = new ArrayList<>();
    if (contentType != null
        && contentType.toLowerCase(Locale.ROOT).startsWith(BATCH_CONTENT_TYPE)) {
      messages.addAll(batch(device, body));
    } else {
      Map<String, String> system = new LinkedHashMap<>();
      Map<String, String> properties = new LinkedHashMap<>();
      fromHeaders(ctx.request().headers(), system, properties);
      messages.add(message(device, system, properties, body.getBytes()));
    }
    Future<Long> all = Future.succeededFuture();
    for (DeviceMessage m : messages) {
      all = all.compose(x -> events.accept(m));
    }
    return all.map(
        x -> {
          ctx.response().setStatusCode(204).end();
          return null;
        });
  }

  private DeviceMessage message(
      DeviceIdentity device,
      Map<String, String> system,
      Map<String, String> properties,
      byte[] body) {
    java.time.Instant now = clock.instant();
    system.put("iothub-connection-device-id", device.deviceId());
    system.put("iothub-connection-auth-method", device.authMethod());
    system.put("iothub-enqueuedtime", Timestamps.format(now));
    system.put("iothub-message-source", "Telemetry");
    return new DeviceMessage(device.deviceId(), null, system, properties, body, now, "https");
  }

  /** Properties from headers: {@code iothub-app-*} (and {@code dt-subject}) and system ones. */
  static void fromHeaders(
      MultiMap headers, Map<String, String> system, Map<String, String> properties) {
    for (Map.Entry<String, String> h : headers) {
      String name = h.getKey().toLowerCase(Locale.ROOT);
      if (name.startsWith("iothub-app-")) {
        properties.put(h.getKey().substring("iothub-app-".length()), h.getValue());
      } else if (name.equals("dt-subject")) {
        properties.put("dt-subject", h.getValue());
      } else if (SYSTEM_HEADERS.containsKey(name)) {
        system.put(SYSTEM_HEADERS.get(name), h.getValue());
      }
    }
  }

  /** A batch: {@code [{"body": base64, "properties": {"iothub-app-k": "v", ...}}, ...]}. */
  private List<DeviceMessage> batch(DeviceIdentity device, Buffer body) {
    JsonArray items = JsonFields.parseArray(body);
    if (items.isEmpty()) {
      throw HubException.badRequest("The batch is empty");
    }
    List<DeviceMessage> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      String at = "[" + i + "]";
      if (!(items.getValue(i) instanceof JsonObject item)) {
        throw JsonFields.wrongType(at, "an object with body and properties", items.getValue(i));
      }
      String data = JsonFields.string(item, "body", at);
      byte[] bytes;
      try {
        bytes = data == null ? new byte[0] : Base64.getDecoder().decode(data);
      } catch (IllegalArgumentException e) {
        throw HubException.badRequest(at + ".body is not base64: " + e.getMessage());
      }
      JsonObject props = JsonFields.object(item, "properties", at);
      MultiMap headers = MultiMap.caseInsensitiveMultiMap();
      if (props != null) {
        for (String k : props.fieldNames()) {
          Object v = props.getValue(k);
          if (v != null) {
            headers.add(k, String.valueOf(v));
          }
        }
      }
      Map<String, String> system = new LinkedHashMap<>();
      Map<String, String> properties = new LinkedHashMap<>();
      fromHeaders(headers, system, properties);
      out.add(message(device, system, properties, bytes));
    }
    return out;
  }

  // ---- cloud-to-device

  private Future<Void> receive(RoutingContext ctx, DeviceIdentity device) {
    String deviceId = device.deviceId();
    return cloudToDevice
        .receive(deviceId)
        .map(
            locked -> {
              HttpServerResponse r = ctx.response();
              if (locked == null) {
                r.setStatusCode(204).end();
                return null;
              }
              CloudToDeviceMessage m = locked.wire();
              r.putHeader("ETag", "\"" + locked.lockToken() + "\"");
              r.putHeader("iothub-messageid", locked.message().messageId());
              r.putHeader("iothub-to", "/devices/" + deviceId + "/messages/devicebound");
              r.putHeader("iothub-expiry", m.systemProperties().get("$.exp"));
              r.putHeader(
                  "iothub-enqueuedtime", Timestamps.format(locked.message().enqueuedTime()));
              r.putHeader(
                  "iothub-deliverycount", Integer.toString(locked.message().deliveryCount()));
              r.putHeader("iothub-sequencenumber", Long.toString(locked.message().seq()));
              if (locked.message().correlationId() != null) {
                r.putHeader("iothub-correlationid", locked.message().correlationId());
              }
              if (locked.message().contentType() != null) {
                r.putHeader("iothub-contenttype", locked.message().contentType());
              }
              if (locked.message().contentEncoding() != null) {
                r.putHeader("iothub-contentencoding", locked.message().contentEncoding());
              }
              m.properties()
                  .forEach(
                      (k, v) -> {
                        // The ack mode travels as a system header, not as an app property.
                        r.putHeader(k.equals("iothub-ack") ? k : "iothub-app-" + k, v);
                      });
              r.setStatusCode(200).end(Buffer.buffer(m.body()));
              return null;
            });
  }

  private Future<Void> completeOrReject(RoutingContext ctx, DeviceIdentity device) {
    String deviceId = device.deviceId();
    String token = lockToken(ctx);
    boolean reject = ctx.request().params().contains("reject");
    Future<Void> f =
        reject ? cloudToDevice.reject(deviceId, token) : cloudToDevice.complete(deviceId, token);
    return f.map(
        x -> {
          ctx.response().setStatusCode(204).end();
          return null;
        });
  }

  private Future<Void> abandon(RoutingContext ctx, DeviceIdentity device) {
    return cloudToDevice
        .abandon(device.deviceId(), lockToken(ctx))
        .map(
            x -> {
              ctx.response().setStatusCode(204).end();
              return null;
            });
  }

  /** The path's lock token; an If-Match naming another one is a client error. */
  private static String lockToken(RoutingContext ctx) {
    String token = ctx.pathParam("lockToken");
    String ifMatch = ctx.request().getHeader("If-Match");
    if (ifMatch != null) {
      String unquoted = ifMatch.strip().replaceAll("^\"|\"$", "");
      if (!unquoted.equals(token) && !unquoted.equals("*")) {
        throw new HubException(
            ErrorCode.PRECONDITION_FAILED,
            "If-Match (" + ifMatch + ") names another lock token than the path (" + token + ")");
      }
    }
    return token;
  }
}
