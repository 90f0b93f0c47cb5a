package io.herd.server.api;

import io.herd.adapter.common.DeviceAuthenticator;
import io.herd.adapter.common.DeviceSessions;
import io.herd.adapter.common.LiveEventStream;
import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.JsonFields;
import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinJson;
import io.herd.query.index.TwinIndex;
import io.herd.registry.BulkOperation;
import io.herd.registry.CertificateAuthorities;
import io.herd.registry.CertificateCodec;
import io.herd.registry.Device;
import io.herd.registry.DeviceRegistry;
import io.herd.registry.IdentityCodec;
import io.herd.registry.Module;
import io.herd.registry.Permission;
import io.herd.registry.Principal;
import io.herd.registry.RegistryStatistics;
import io.herd.registry.SasAuthenticator;
import io.herd.server.bulk.BulkJob;
import io.herd.server.bulk.BulkJobCodec;
import io.herd.server.bulk.BulkJobRequest;
import io.herd.server.bulk.BulkJobType;
import io.herd.server.bulk.BulkJobs;
import io.herd.server.c2d.CloudToDeviceQueues;
import io.herd.server.c2d.Feedback;
import io.herd.server.internal.RegistryBulk;
import io.herd.server.internal.TwinIdentities;
import io.herd.server.jobs.JobEngine;
import io.herd.twin.TwinStore;
import io.herd.twin.TwinUpdate;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The service (back-end) REST API: identity registry, X.509 CA certificates and statistics
 * (azure-iothub-wire.md §5). Every request needs an {@code api-version} and a SAS token of a policy
 * with the operation's permission; every error leaves in IoT Hub's form through {@link RestErrors}.
 */
public final class ServiceApi {
  /** IoT Hub's limit on a request body. */
  public static final int MAX_BODY = 256 * 1024;

  public static final int MAX_TOP = 1000;

  /** Default and largest number of feedback records per request. */
  private static final int FEEDBACK_BATCH = 64;

  private static final int MAX_FEEDBACK_BATCH = 1000;
  private static final String PRINCIPAL = "herd.principal";
  private static final String JSON = "application/json; charset=utf-8";

  private final DeviceRegistry registry;
  private final TwinStore twins;
  private final CertificateAuthorities certificates;
  private final SasAuthenticator authenticator;
  private final EventStreamApi events;
  private final DeviceSessions sessions;
  private final CloudToDeviceQueues cloudToDevice;
  private final QueryIndexes indexes;
  private final QueryColumns columns;

  // One of each for all routers (one router per event loop): a query's next page may come in on
  // another connection, and a twin is rendered once.
  private final QueryResults queryResults = QueryResults.defaults();
  private final RenderedTwins renderedTwins;
  private final JobEngine jobs;
  private final DeviceHttpApi deviceApi;
  private final RegistryBulk bulk;
  private final BulkJobs bulkJobs;

  public ServiceApi(
      DeviceRegistry registry,
      TwinStore twins,
      CertificateAuthorities certificates,
      SasAuthenticator authenticator,
      LiveEventStream events,
      DeviceSessions sessions,
      CloudToDeviceQueues cloudToDevice,
      QueryIndexes indexes,
      QueryColumns columns,
      int renderCacheMb,
      JobEngine jobs,
      DeviceAuthenticator deviceAuthenticator,
      BulkJobs bulkJobs) {
    this.jobs = jobs;
    this.renderedTwins = new RenderedTwins(renderCacheMb * 1024L * 1024L);
    this.columns = columns;
    this.deviceApi =
        new DeviceHttpApi(
            deviceAuthenticator, events, cloudToDevice, registry, java.time.Clock.systemUTC());
    this.cloudToDevice = cloudToDevice;
    this.indexes = indexes;
    this.registry = registry;
    this.twins = twins;
    this.certificates = certificates;
    this.authenticator = authenticator;
    this.events = new EventStreamApi(events);
    this.sessions = sessions;
    this.bulk = new RegistryBulk(registry, twins);
    this.bulkJobs = bulkJobs;
  }

  /**
   * Builds the router.
   *
   * @param ready whether the hub is ready, for {@code /health}
   * @param metrics the Prometheus scrape handler for {@code /metrics}, or null
   */
  public Router router(Vertx vertx, BooleanSupplier ready, Handler<RoutingContext> metrics) {
    Router router = Router.router(vertx);
    router
        .get("/health")
        .handler(
            ctx -> {
              boolean ok = ready.getAsBoolean();
              ctx.response()
                  .setStatusCode(ok ? 200 : 503)
                  .putHeader("Content-Type", JSON)
                  .end(new JsonObject().put("status", ok ? "ready" : "starting").toBuffer());
            });
    if (metrics != null) {
      router.get("/metrics").handler(metrics);
    }

    // Device paths authenticate devices (their own SAS or certificate), not service policies.
    deviceApi.routes(router);
    router.route().handler(this::authenticate);
    router
        .get("/messages/events")
        .handler(
            ctx -> {
              try {
                Principal principal = ctx.get(PRINCIPAL);
                principal.require(Permission.SERVICE_CONNECT);
                events.handle(ctx);
              } catch (RuntimeException e) {
                fail(ctx, e);
              }
            });
    router.route().handler(BodyHandler.create(false).setBodyLimit(MAX_BODY));

    QueryApi queries =
        new QueryApi(vertx, twins, indexes, columns, jobs, queryResults, renderedTwins);
    router
        .post("/devices/query")
        .handler(
            ctx -> {
              try {
                Principal principal = ctx.get(PRINCIPAL);
                principal.require(Permission.REGISTRY_READ);
                if ("true".equalsIgnoreCase(ctx.request().getParam("explain"))) {
                  queries
                      .explain(ctx.body().buffer())
                      .onComplete(
                          ar -> {
                            if (ar.failed()) {
                              fail(ctx, ar.cause());
                              return;
                            }
                            ctx.response()
                                .putHeader(HttpHeaders.CONTENT_TYPE, JSON)
                                .end(ar.result().toBuffer());
                          });
                  return;
                }
                queries
                    .query(
                        ctx.body().buffer(),
                        ctx.request().getHeader("x-ms-max-item-count"),
                        ctx.request().getHeader("x-ms-continuation"))
                    .onComplete(
                        ar -> {
                          if (ar.failed()) {
                            fail(ctx, ar.cause());
                            return;
                          }
                          QueryApi.Page page = ar.result();
                          var response =
                              ctx.response().putHeader("x-ms-item-type", page.itemType());
                          // The SDKs stop paging when the header is absent, never send it empty.
                          if (page.continuation() != null) {
                            response.putHeader("x-ms-continuation", page.continuation());
                          }
                          response.putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(page.body());
                        });
              } catch (RuntimeException e) {
                fail(ctx, e);
              }
            });

    JobsApi jobsApi = new JobsApi(jobs);
    router
        .get("/jobs/v2/query")
        .handler(
            ctx -> {
              try {
                Principal principal = ctx.get(PRINCIPAL);
                principal.require(Permission.REGISTRY_READ);
                String pageSize = ctx.request().getHeader("x-ms-max-item-count");
                if (pageSize == null) {
                  pageSize = ctx.request().getParam("pageSize");
                }
                String token = ctx.request().getHeader("x-ms-continuation");
                if (token == null) {
                  token = ctx.request().getParam("continuationToken");
                }
                jobsApi
                    .query(
                        ctx.request().getParam("jobType"),
                        ctx.request().getParam("jobStatus"),
                        pageSize,
                        token)
                    .onComplete(
                        ar -> {
                          if (ar.failed()) {
                            fail(ctx, ar.cause());
                            return;
                          }
                          var response = ctx.response().putHeader("x-ms-item-type", "jobResponse");
                          if (ar.result().continuation() != null) {
                            response.putHeader("x-ms-continuation", ar.result().continuation());
                          }
                          response
                              .putHeader(HttpHeaders.CONTENT_TYPE, JSON)
                              .end(ar.result().rows().toBuffer());
                        });
              } catch (RuntimeException e) {
                fail(ctx, e);
              }
            });
    on(
        router,
        HttpMethod.PUT,
        "/jobs/v2/:jobId",
        Permission.REGISTRY_WRITE,
        ctx ->
            jobsApi
                .create(ctx.pathParam("jobId"), ctx.body().buffer(), ctx.get(PRINCIPAL))
                .map(j -> Reply.json(200, j)));
    on(
        router,
        HttpMethod.GET,
        "/jobs/v2/:jobId",
        Permission.REGISTRY_READ,
        ctx -> jobsApi.get(ctx.pathParam("jobId")).map(j -> Reply.json(200, j)));
    on(
        router,
        HttpMethod.POST,
        "/jobs/v2/:jobId/cancel",
        Permission.REGISTRY_WRITE,
        ctx -> jobsApi.cancel(ctx.pathParam("jobId")).map(j -> Reply.json(200, j)));

    // Herd extensions: query indexes on twin paths.
    on(router, HttpMethod.GET, "/indexes", Permission.REGISTRY_READ, this::listIndexes);
    on(router, HttpMethod.PUT, "/indexes/:path", Permission.REGISTRY_WRITE, this::createIndex);
    on(router, HttpMethod.DELETE, "/indexes/:path", Permission.REGISTRY_WRITE, this::dropIndex);
    on(router, HttpMethod.GET, "/devices", Permission.REGISTRY_READ, this::listDevices);
    on(router, HttpMethod.POST, "/devices", Permission.REGISTRY_WRITE, this::bulk);
    on(router, HttpMethod.GET, "/devices/:id", Permission.REGISTRY_READ, this::getDevice);
    on(router, HttpMethod.PUT, "/devices/:id", Permission.REGISTRY_WRITE, this::putDevice);
    on(router, HttpMethod.DELETE, "/devices/:id", Permission.REGISTRY_WRITE, this::deleteDevice);
    on(router, HttpMethod.GET, "/devices/:id/modules", Permission.REGISTRY_READ, this::listModules);
    // IoT Hub files purge under its cloud-to-device operations (the SDKs' ServiceClient calls it),
    // so like send and feedback it needs ServiceConnect (wire §1.2).
    on(
        router,
        HttpMethod.DELETE,
        "/devices/:id/commands",
        Permission.SERVICE_CONNECT,
        this::purgeQueue);
    // IoT Hub spells it both ways (wire §10).
    for (String bound : List.of("deviceBound", "devicebound")) {
      on(
          router,
          HttpMethod.POST,
          "/devices/:id/messages/" + bound,
          Permission.SERVICE_CONNECT,
          this::sendToDevice);
    }
    on(
        router,
        HttpMethod.GET,
        "/messages/serviceBound/feedback",
        Permission.SERVICE_CONNECT,
        this::takeFeedback);
    on(
        router,
        HttpMethod.GET,
        "/devices/:id/modules/:mid",
        Permission.REGISTRY_READ,
        this::getModule);
    on(
        router,
        HttpMethod.PUT,
        "/devices/:id/modules/:mid",
        Permission.REGISTRY_WRITE,
        this::putModule);
    on(
        router,
        HttpMethod.DELETE,
        "/devices/:id/modules/:mid",
        Permission.REGISTRY_WRITE,
        this::deleteModule);
    on(router, HttpMethod.GET, "/certificates", Permission.REGISTRY_READ, this::listCertificates);
    on(
        router,
        HttpMethod.GET,
        "/certificates/:name",
        Permission.REGISTRY_READ,
        this::getCertificate);
    on(
        router,
        HttpMethod.PUT,
        "/certificates/:name",
        Permission.REGISTRY_WRITE,
        this::putCertificate);
    on(
        router,
        HttpMethod.DELETE,
        "/certificates/:name",
        Permission.REGISTRY_WRITE,
        this::deleteCertificate);
    MethodsApi methods = new MethodsApi(vertx, registry, sessions);
    on(
        router,
        HttpMethod.POST,
        "/twins/:id/methods",
        Permission.SERVICE_CONNECT,
        ctx ->
            methods
                .invoke(ctx.pathParam("id"), null, ctx.body().buffer())
                .map(r -> Reply.json(200, r)));
    on(
        router,
        HttpMethod.POST,
        "/twins/:id/modules/:mid/methods",
        Permission.SERVICE_CONNECT,
        ctx ->
            methods
                .invoke(ctx.pathParam("id"), ctx.pathParam("mid"), ctx.body().buffer())
                .map(r -> Reply.json(200, r)));
    on(router, HttpMethod.GET, "/twins/:id", Permission.SERVICE_CONNECT, this::getTwin);
    on(
        router,
        HttpMethod.PATCH,
        "/twins/:id",
        Permission.SERVICE_CONNECT,
        ctx -> updateTwin(ctx, false));
    on(
        router,
        HttpMethod.PUT,
        "/twins/:id",
        Permission.SERVICE_CONNECT,
        ctx -> updateTwin(ctx, true));
    on(
        router,
        HttpMethod.GET,
        "/twins/:id/modules/:mid",
        Permission.SERVICE_CONNECT,
        this::getTwin);
    on(
        router,
        HttpMethod.PATCH,
        "/twins/:id/modules/:mid",
        Permission.SERVICE_CONNECT,
        ctx -> updateTwin(ctx, false));
    on(
        router,
        HttpMethod.PUT,
        "/twins/:id/modules/:mid",
        Permission.SERVICE_CONNECT,
        ctx -> updateTwin(ctx, true));
    // Import and export jobs. /jobs/v2/... are the scheduled device jobs, not these.
    on(router, HttpMethod.POST, "/jobs/create", Permission.REGISTRY_WRITE, this::createJob);
    on(router, HttpMethod.GET, "/jobs", Permission.REGISTRY_READ, this::listJobs);
    onJob(
        router,
        HttpMethod.GET,
        Permission.REGISTRY_READ,
        ctx -> bulkJobs.get(ctx.pathParam("id")).map(ServiceApi::jobReply));
    onJob(
        router,
        HttpMethod.DELETE,
        Permission.REGISTRY_WRITE,
        ctx -> bulkJobs.cancel(ctx.pathParam("id")).map(ServiceApi::jobReply));
    on(
        router,
        HttpMethod.GET,
        "/statistics/devices",
        Permission.REGISTRY_READ,
        ctx -> Future.succeededFuture(Reply.json(200, deviceStatistics())));
    on(
        router,
        HttpMethod.GET,
        "/statistics/service",
        Permission.SERVICE_CONNECT,
        ctx ->
            Future.succeededFuture(
                Reply.json(
                    200,
                    new JsonObject()
                        .put(
                            "connectedDeviceCount",
                            registry.statistics().connectedDeviceCount()))));

    router.errorHandler(
        404,
        ctx ->
            fail(
                ctx,
                new HubException(
                    ErrorCode.GENERIC_NOT_FOUND,
                    "No such resource: " + ctx.request().method() + " " + ctx.request().path())));
    router.errorHandler(
        405,
        ctx ->
            fail(
                ctx,
                new HubException(
                    ErrorCode.GENERIC_METHOD_NOT_ALLOWED,
                    "Method "
                        + ctx.request().method()
                        + " is not allowed on "
                        + ctx.request().path())));
    router.errorHandler(
        413,
        ctx ->
            fail(
                ctx,
                new HubException(
                    ErrorCode.MESSAGE_TOO_LARGE,
                    "Request body is larger than " + MAX_BODY + " bytes")));
    router.errorHandler(
        500,
        ctx ->
            fail(
                ctx,
                ctx.failure() == null
                    ? new HubException(ErrorCode.SERVER_ERROR, "Internal error")
                    : ctx.failure()));
    router.errorHandler(
        400,
        ctx ->
            fail(
                ctx,
                ctx.failure() instanceof HubException he
                    ? he
                    : HubException.badRequest("Bad request")));
    return router;
  }

  private record Reply(int status, Buffer body) {
    static Reply json(int status, JsonObject body) {
      return new Reply(status, body.toBuffer());
    }

    static Reply json(int status, JsonArray body) {
      return new Reply(status, body.toBuffer());
    }

    static Reply noContent() {
      return new Reply(204, null);
    }
  }

  private void on(
      Router router,
      HttpMethod method,
      String path,
      Permission permission,
      Function<RoutingContext, Future<Reply>> op) {
    router.route(method, path).handler(ctx -> reply(ctx, permission, op));
  }

  /** {@code /jobs/:id}, leaving {@code /jobs/v2} to the routes of scheduled jobs. */
  private void onJob(
      Router router,
      HttpMethod method,
      Permission permission,
      Function<RoutingContext, Future<Reply>> op) {
    router
        .route(method, "/jobs/:id")
        .handler(
            ctx -> {
              if ("v2".equals(ctx.pathParam("id"))) {
                ctx.next();
              } else {
                reply(ctx, permission, op);
              }
            });
  }

  private void reply(
      RoutingContext ctx, Permission permission, Function<RoutingContext, Future<Reply>> op) {
    Future<Reply> reply;
    try {
      Principal principal = ctx.get(PRINCIPAL);
      principal.require(permission);
      reply = op.apply(ctx);
    } catch (RuntimeException e) {
      reply = Future.failedFuture(e);
    }
    reply.onComplete(
        ar -> {
          if (ar.failed()) {
            fail(ctx, ar.cause());
            return;
          }
          Reply r = ar.result();
          if (r.body() == null) {
            ctx.response().setStatusCode(r.status()).end();
          } else {
            ctx.response()
                .setStatusCode(r.status())
                .putHeader(HttpHeaders.CONTENT_TYPE, JSON)
                .end(r.body());
          }
        });
  }

  private static void fail(RoutingContext ctx, Throwable failure) {
    RestErrors.send(ctx.response(), ctx.request().method().name(), ctx.request().path(), failure);
  }

  /** Checks api-version and the SAS token before anything else, including reading the body. */
  private void authenticate(RoutingContext ctx) {
    try {
      String apiVersion = ctx.request().getParam("api-version");
      if (apiVersion == null || apiVersion.isBlank()) {
        throw new HubException(
            ErrorCode.INVALID_PROTOCOL_VERSION,
            "The api-version query parameter is required, e.g. ?api-version=2021-04-12");
      }
      Principal principal =
          authenticator.authenticateService(
              ctx.request().getHeader(HttpHeaders.AUTHORIZATION),
              ctx.request().authority() == null ? null : ctx.request().authority().host(),
              ctx.request().path());
      ctx.put(PRINCIPAL, principal);
      ctx.next();
    } catch (RuntimeException e) {
      fail(ctx, e);
    }
  }

  // ---- devices

  private Future<Reply> listDevices(RoutingContext ctx) {
    int top = MAX_TOP;
    String topText = ctx.request().getParam("top");
    if (topText != null) {
      try {
        top = Integer.parseInt(topText.trim());
      } catch (NumberFormatException e) {
        throw HubException.badRequest(
            "Query parameter 'top' must be a number, got '" + topText + "'");
      }
      if (top < 1 || top > MAX_TOP) {
        throw HubException.badRequest(
            "Query parameter 'top' must be 1.." + MAX_TOP + ", got " + top);
      }
    }
    JsonArray out = new JsonArray();
    for (Device d : registry.list(top)) {
      out.add(IdentityCodec.toJson(d));
    }
    return Future.succeededFuture(Reply.json(200, out));
  }

  private static JsonObject describe(TwinIndex index) {
    return new JsonObject()
        .put("path", index.path())
        .put("entries", index.size())
        .put("distinctValues", index.distinctValues());
  }

  private Future<Reply> listIndexes(RoutingContext ctx) {
    JsonArray out = new JsonArray();
    new java.util.TreeMap<>(indexes.indexes()).values().forEach(i -> out.add(describe(i)));
    return Future.succeededFuture(Reply.json(200, out));
  }

  private Future<Reply> createIndex(RoutingContext ctx) {
    return indexes.create(ctx.pathParam("path")).map(i -> Reply.json(200, describe(i)));
  }

  private Future<Reply> dropIndex(RoutingContext ctx) {
    indexes.drop(ctx.pathParam("path"));
    return Future.succeededFuture(Reply.noContent());
  }

  private Future<Reply> getDevice(RoutingContext ctx) {
    return registry.get(ctx.pathParam("id")).map(d -> Reply.json(200, IdentityCodec.toJson(d)));
  }

  private Future<Reply> purgeQueue(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    return cloudToDevice
        .purge(id)
        .map(
            n ->
                Reply.json(
                    200,
                    new JsonObject()
                        .put("totalMessagesPurged", n)
                        .put("deviceId", id)
                        .putNull("moduleId")));
  }

  private Future<Reply> sendToDevice(RoutingContext ctx) {
    var message = CloudToDeviceCodec.fromJson(JsonFields.parseObject(ctx.body().buffer()));
    return cloudToDevice
        .enqueue(ctx.pathParam("id"), message)
        .map(e -> Reply.json(201, CloudToDeviceCodec.toJson(e)));
  }

  private Future<Reply> takeFeedback(RoutingContext ctx) {
    String max = ctx.request().getParam("max");
    int n = FEEDBACK_BATCH;
    if (max != null) {
      try {
        n = Integer.parseInt(max);
      } catch (NumberFormatException e) {
        n = -1;
      }
      if (n < 1 || n > MAX_FEEDBACK_BATCH) {
        throw HubException.badRequest(
            "max must be a number from 1 to " + MAX_FEEDBACK_BATCH + ", got '" + max + "'");
      }
    }
    return cloudToDevice
        .takeFeedback(n)
        .map(
            records -> {
              JsonArray out = new JsonArray();
              for (Feedback f : records) {
                out.add(f.toJson());
              }
              return Reply.json(200, out);
            });
  }

  private Future<Reply> putDevice(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    JsonObject body = JsonFields.parseObject(ctx.body().buffer());
    String ifMatch = ctx.request().getHeader(HttpHeaders.IF_MATCH);
    var spec = IdentityCodec.deviceSpecFromJson(body, id);
    Future<Device> result =
        ifMatch == null ? registry.create(spec) : registry.update(spec, ifMatch);
    return result.map(d -> Reply.json(200, IdentityCodec.toJson(d)));
  }

  private Future<Reply> deleteDevice(RoutingContext ctx) {
    return registry
        .delete(ctx.pathParam("id"), ctx.request().getHeader(HttpHeaders.IF_MATCH))
        .map(v -> Reply.noContent());
  }

  private Future<Reply> bulk(RoutingContext ctx) {
    JsonArray entries = JsonFields.parseArray(ctx.body().buffer());
    List<BulkOperation> ops = new ArrayList<>(entries.size());
    for (int i = 0; i < entries.size(); i++) {
      ops.add(IdentityCodec.bulkOperationFromJson(entries.getValue(i), "[" + i + "]"));
    }
    return bulk.apply(ops)
        .map(r -> Reply.json(r.isSuccessful() ? 200 : 400, IdentityCodec.toJson(r)));
  }

  // ---- import and export jobs

  private Future<Reply> createJob(RoutingContext ctx) {
    BulkJobRequest request =
        BulkJobCodec.requestFromJson(JsonFields.parseObject(ctx.body().buffer()));
    if (request.type() == BulkJobType.EXPORT) {
      // An export reveals every identity, keys included.
      Principal principal = ctx.get(PRINCIPAL);
      principal.require(Permission.REGISTRY_READ);
    }
    return bulkJobs.create(request).map(ServiceApi::jobReply);
  }

  private Future<Reply> listJobs(RoutingContext ctx) {
    return bulkJobs
        .list()
        .map(
            jobs -> {
              JsonArray out = new JsonArray();
              jobs.forEach(j -> out.add(BulkJobCodec.toJson(j)));
              return Reply.json(200, out);
            });
  }

  private static Reply jobReply(BulkJob job) {
    return Reply.json(200, BulkJobCodec.toJson(job));
  }

  // ---- twins

  private Future<Twin> ensureTwin(String deviceId, String moduleId) {
    return TwinIdentities.ensure(registry, twins, deviceId, moduleId);
  }

  private Future<Reply> getTwin(RoutingContext ctx) {
    return ensureTwin(ctx.pathParam("id"), ctx.pathParam("mid"))
        .map(t -> new Reply(200, TwinJson.write(t)));
  }

  private Future<Reply> updateTwin(RoutingContext ctx, boolean replace) {
    JsonObject body = JsonFields.parseObject(ctx.body().buffer());
    JsonObject tags = JsonFields.object(body, "tags", null);
    JsonObject properties = JsonFields.object(body, "properties", null);
    JsonObject desired =
        properties == null ? null : JsonFields.object(properties, "desired", "properties");
    TwinUpdate update =
        new TwinUpdate(tags, desired, replace, ctx.request().getHeader(HttpHeaders.IF_MATCH));
    return ensureTwin(ctx.pathParam("id"), ctx.pathParam("mid"))
        .compose(t -> twins.update(t.key(), update))
        .map(t -> new Reply(200, TwinJson.write(t)));
  }

  private JsonObject deviceStatistics() {
    RegistryStatistics s = registry.statistics();
    return new JsonObject()
        .put("totalDeviceCount", s.totalDeviceCount())
        .put("enabledDeviceCount", s.enabledDeviceCount())
        .put("disabledDeviceCount", s.disabledDeviceCount());
  }

  // ---- modules

  private Future<Reply> listModules(RoutingContext ctx) {
    return registry
        .listModules(ctx.pathParam("id"))
        .map(
            ms -> {
              JsonArray out = new JsonArray();
              for (Module m : ms) {
                out.add(IdentityCodec.toJson(m));
              }
              return Reply.json(200, out);
            });
  }

  private Future<Reply> getModule(RoutingContext ctx) {
    return registry
        .getModule(ctx.pathParam("id"), ctx.pathParam("mid"))
        .map(m -> Reply.json(200, IdentityCodec.toJson(m)));
  }

  private Future<Reply> putModule(RoutingContext ctx) {
    JsonObject body = JsonFields.parseObject(ctx.body().buffer());
    var spec = IdentityCodec.moduleSpecFromJson(body, ctx.pathParam("id"), ctx.pathParam("mid"));
    String ifMatch = ctx.request().getHeader(HttpHeaders.IF_MATCH);
    Future<Module> result =
        ifMatch == null ? registry.createModule(spec) : registry.updateModule(spec, ifMatch);
    return result.map(m -> Reply.json(200, IdentityCodec.toJson(m)));
  }

  private Future<Reply> deleteModule(RoutingContext ctx) {
    return registry
        .deleteModule(
            ctx.pathParam("id"),
            ctx.pathParam("mid"),
            ctx.request().getHeader(HttpHeaders.IF_MATCH))
        .map(v -> Reply.noContent());
  }

  // ---- X.509 CA certificates

  private Future<Reply> listCertificates(RoutingContext ctx) {
    return Future.succeededFuture(Reply.json(200, CertificateCodec.toJson(certificates.list())));
  }

  private Future<Reply> getCertificate(RoutingContext ctx) {
    return certificates
        .get(ctx.pathParam("name"))
        .map(c -> Reply.json(200, CertificateCodec.toJson(c)));
  }

  private Future<Reply> putCertificate(RoutingContext ctx) {
    return certificates
        .put(
            ctx.pathParam("name"),
            certificateText(ctx),
            ctx.request().getHeader(HttpHeaders.IF_MATCH))
        .map(c -> Reply.json(200, CertificateCodec.toJson(c)));
  }

  private Future<Reply> deleteCertificate(RoutingContext ctx) {
    return certificates
        .delete(ctx.pathParam("name"), ctx.request().getHeader(HttpHeaders.IF_MATCH))
        .map(v -> Reply.noContent());
  }

  /**
   * The certificate in a PUT body: JSON ({@code properties.certificate} or {@code certificate}) or
   * the PEM itself ({@code application/x-pem-file}, {@code text/plain}). Other or missing content
   * types are told apart by the first character, so {@code curl --data-binary @ca.pem} works
   * whatever type curl puts on it.
   */
  private static String certificateText(RoutingContext ctx) {
    Buffer body = ctx.body().buffer();
    if (body == null || body.length() == 0) {
      throw new HubException(ErrorCode.ARGUMENT_NULL, "Request body is empty");
    }
    String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    type = type == null ? "" : type.toLowerCase(Locale.ROOT);
    boolean json =
        type.startsWith("application/json")
            || (!type.startsWith("application/x-pem-file")
                && !type.startsWith("text/plain")
                && body.toString(StandardCharsets.ISO_8859_1).strip().startsWith("{"));
    return json
        ? CertificateCodec.certificateFromJson(JsonFields.parseObject(body))
        : body.toString(StandardCharsets.US_ASCII);
  }
}
