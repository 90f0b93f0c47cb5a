package io.herd.server;

import io.herd.adapter.amqp.AmqpAdapter;
import io.herd.adapter.amqp.AmqpConfig;
import io.herd.adapter.common.AdapterServices;
import io.herd.adapter.common.DeviceAuthenticator;
import io.herd.adapter.common.DeviceSessions;
import io.herd.adapter.common.LiveEventStream;
import io.herd.adapter.common.X509Verifier;
import io.herd.adapter.mqtt.MqttAdapter;
import io.herd.adapter.mqtt.MqttConfig;
import io.herd.core.pg.Migration;
import io.herd.core.pg.SchemaMigrator;
import io.herd.registry.AccessPolicies;
import io.herd.registry.CertificateAuthorities;
import io.herd.registry.DeviceRegistry;
import io.herd.registry.IdentityChange;
import io.herd.registry.SasAuthenticator;
import io.herd.registry.X509Authenticator;
import io.herd.registry.pg.PgCertificateStore;
import io.herd.registry.pg.PgIdentityStore;
import io.herd.registry.pg.PgPolicyStore;
import io.herd.registry.pg.RegistrySchema;
import io.herd.server.api.QueryColumns;
import io.herd.server.api.QueryIndexes;
import io.herd.server.api.ServiceApi;
import io.herd.server.bulk.BulkJobs;
import io.herd.server.bulk.pg.BulkSchema;
import io.herd.server.bulk.pg.PgBulkJobStore;
import io.herd.server.c2d.CloudToDeviceConfig;
import io.herd.server.c2d.CloudToDeviceQueues;
import io.herd.server.c2d.pg.C2dSchema;
import io.herd.server.c2d.pg.PgCloudToDeviceStore;
import io.herd.server.internal.DataDirLock;
import io.herd.server.internal.EmbeddedDatabase;
import io.herd.server.internal.HttpsVerticle;
import io.herd.server.internal.HubInfoFile;
import io.herd.server.internal.HubJobTargets;
import io.herd.server.internal.PortPermissions;
import io.herd.server.internal.QueueService;
import io.herd.server.internal.SessionRecipients;
import io.herd.server.internal.SteadyHeap;
import io.herd.server.internal.TwinIdentities;
import io.herd.server.jobs.JobEngine;
import io.herd.server.jobs.pg.JobSchema;
import io.herd.server.jobs.pg.PgJobStore;
import io.herd.server.tls.LocalCertificateAuthority;
import io.herd.server.tls.ServerTls;
import io.herd.server.tls.TlsMaterial;
import io.herd.twin.TwinEngine;
import io.herd.twin.TwinEngineConfig;
import io.herd.twin.TwinStore;
import io.herd.twin.pg.PgTwinRepository;
import io.herd.twin.pg.TwinSchema;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: one running hub. {@link #start} brings the parts up in dependency order
 * (data-directory lock, PostgreSQL, schema, registry, TLS, listeners) and {@link #close} takes them
 * down in reverse. Both block the calling thread, which must not be an event loop.
 */
public final class Hub implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Hub.class);
  private static final int POOL_SIZE = 20;

  /** Telemetry messages the live events stream keeps for readers that reconnect. */
  private static final int EVENTS_RETAINED = 10_000;

  /**
   * One event loop per core. Twin changes hop between the request's loop and the twin's shard; with
   * more loops than cores every hop is also a context switch.
   */
  private static final int EVENT_LOOPS = Math.max(2, Runtime.getRuntime().availableProcessors());

  private final HubConfig config;
  private final AtomicBoolean ready = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private DataDirLock lock;
  private EmbeddedDatabase embedded;
  private Vertx vertx;
  private Pool pool;
  private DeviceRegistry registry;
  private TwinStore twins;
  private QueryIndexes queryIndexes;
  private QueryColumns queryColumns;
  private AccessPolicies policies;
  private CertificateAuthorities certificateAuthorities;
  private X509Authenticator x509Authenticator;
  private TlsMaterial tls;
  private String httpsDeployment;
  private int httpsPort;
  private int mqttPort;
  private int mqttPlainPort = -1;
  private MqttAdapter mqtt;
  private int amqpPort;
  private AmqpAdapter amqp;
  private DeviceSessions sessions;
  private LiveEventStream events;
  private CloudToDeviceQueues cloudToDevice;
  private JobEngine jobs;
  private BulkJobs bulkJobs;

  private Hub(HubConfig config) {
    this.config = config;
  }

  /** Starts a hub; on failure everything already started is stopped again. */
  public static Hub start(HubConfig config) throws Exception {
    Hub hub = new Hub(config);
    try {
      hub.startParts();
      return hub;
    } catch (Exception | Error e) {
      hub.close();
      throw e;
    }
  }

  private void startParts() throws Exception {
    long t0 = System.nanoTime();
    Optional<SteadyHeap.Ratios> steadyHeap = SteadyHeap.fromSystemProperty();
    lock = DataDirLock.acquire(config.dataDir());

    String pgUrl = config.pgUrl();
    if (pgUrl == null) {
      embedded = EmbeddedDatabase.start(config.pgDir());
      pgUrl = embedded.url();
    }

    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    vertx =
        Vertx.builder()
            .with(
                new VertxOptions()
                    .setPreferNativeTransport(true)
                    .setEventLoopPoolSize(EVENT_LOOPS)
                    .setMetricsOptions(
                        new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)))
            .withMetrics(new MicrometerMetricsFactory(metrics))
            .build();

    PgConnectOptions connect = PgConnectOptions.fromUri(pgUrl.replaceFirst("^jdbc:", ""));
    connect.setPipeliningLimit(256).setCachePreparedStatements(true);
    pool =
        PgBuilder.pool()
            .with(new PoolOptions().setMaxSize(POOL_SIZE).setShared(false))
            .connectingTo(connect)
            .using(vertx)
            .build();

    List<Migration> migrations = new ArrayList<>(RegistrySchema.migrations());
    migrations.addAll(TwinSchema.migrations());
    migrations.addAll(C2dSchema.migrations());
    migrations.addAll(JobSchema.migrations());
    migrations.addAll(BulkSchema.migrations());
    int applied = Future.await(SchemaMigrator.migrate(pool, migrations));
    LOG.info(
        "schema ready [migrations-applied: {}, transport: {}]",
        applied,
        vertx.isNativeTransportEnabled() ? "epoll" : "nio");

    // CA certificates load beside the policies; both are small.
    Future<CertificateAuthorities> certificatesLoaded =
        CertificateAuthorities.open(vertx, new PgCertificateStore(pool));
    policies = Future.await(AccessPolicies.open(new PgPolicyStore(pool)));
    certificateAuthorities = Future.await(certificatesLoaded);
    // Identities and twins load side by side; pairing them waits for the registry.
    long tLoad = System.nanoTime();
    Future<DeviceRegistry> registryLoaded = DeviceRegistry.open(vertx, new PgIdentityStore(pool));
    Future<TwinStore> twinsLoaded =
        TwinEngine.open(
            vertx,
            new PgTwinRepository(pool),
            TwinEngineConfig.defaults(),
            // Pairing runs on a worker thread, where waiting is allowed (Future.await is not).
            sink ->
                TwinIdentities.forEach(
                    registryLoaded.toCompletionStage().toCompletableFuture().join(), sink));
    registryLoaded.onSuccess(
        r ->
            LOG.info(
                "registry loaded [identities: {}, ms: {}]",
                r.size(),
                (System.nanoTime() - tLoad) / 1_000_000));
    registry = Future.await(registryLoaded);
    twins = Future.await(twinsLoaded);
    LOG.info(
        "registry and twins loaded [identities: {}, twins: {}, ms: {}]",
        registry.size(),
        twins.size(),
        (System.nanoTime() - tLoad) / 1_000_000);
    TwinIdentities.follow(registry, twins);
    queryIndexes = new QueryIndexes(vertx, twins);
    Future.await(queryIndexes.createAll(config.queryIndexes()));
    HubConfig.QueryConfig queryConfig = config.query();
    queryColumns =
        new QueryColumns(
            vertx,
            twins,
            queryConfig.columns(),
            queryConfig.autoColumns(),
            queryConfig.columnMaxValues());
    Future.await(queryColumns.start());
    Gauge.builder("herd_twins", twins, TwinStore::size)
        .description("Twins held in memory")
        .register(metrics);
    Gauge.builder("herd_registry_devices", registry, r -> r.statistics().totalDeviceCount())
        .description("Devices in the identity registry")
        .register(metrics);
    Gauge.builder("herd_registry_identities", registry, DeviceRegistry::size)
        .description("Devices and modules in the identity registry")
        .register(metrics);

    tls =
        config.tlsCert() != null
            ? TlsMaterial.userSupplied(config.tlsCert(), config.tlsKey())
            : LocalCertificateAuthority.ensure(config.tlsDir(), config.hostName());

    SasAuthenticator authenticator =
        new SasAuthenticator(policies, config.hostName(), Clock.systemUTC());
    HubConfig.DeviceLimits limits = config.devices();
    events = new LiveEventStream(EVENTS_RETAINED);
    sessions = new DeviceSessions(registry, Clock.systemUTC(), limits.maxConnections());
    cloudToDevice = openCloudToDevice(limits);
    jobs =
        Future.await(
            JobEngine.open(
                vertx,
                new PgJobStore(pool),
                new HubJobTargets(vertx, registry, twins, sessions, queryIndexes::indexes),
                Clock.systemUTC()));
    x509Authenticator = new X509Authenticator(registry, certificateAuthorities, Clock.systemUTC());
    X509Verifier x509 = x509Authenticator::authenticate;
    AdapterServices adapterServices =
        new AdapterServices(
            new DeviceAuthenticator(registry, authenticator, x509, Clock.systemUTC()),
            sessions,
            registry,
            twins,
            events,
            Clock.systemUTC());
    MqttConfig mqttConfig =
        new MqttConfig(
            limits.mqttMaxMessageBytes(), limits.mqttMaxInflight(), limits.deviceMessageRate(), 10);
    mqttPort = freePortIfZero(config.mqttPort());
    List<NetServerOptions> mqttListeners = new ArrayList<>();
    mqttListeners.add(
        ServerTls.apply(
            deviceListenerOptions(mqttPort), tls, /* requestClientCertificates= */ true));
    if (limits.mqttPlainPort() >= 0) {
      mqttPlainPort = freePortIfZero(limits.mqttPlainPort());
      mqttListeners.add(deviceListenerOptions(mqttPlainPort));
    }
    mqtt = Future.await(MqttAdapter.start(vertx, mqttConfig, adapterServices, mqttListeners));
    LOG.info(
        "MQTT listening [tls-port: {}, plain-port: {}, websocket: https {}{}]",
        mqttPort,
        mqttPlainPort < 0 ? "off" : mqttPlainPort,
        "port",
        MqttAdapter.WEBSOCKET_PATH);

    bulkJobs =
        Future.await(
            BulkJobs.open(
                vertx,
                new PgBulkJobStore(pool),
                registry,
                twins,
                config.jobsDir(),
                config.dataDir().resolve("jobs-work"),
                Clock.systemUTC()));
    AmqpConfig amqpConfig =
        AmqpConfig.defaults()
            .withDeviceLimits(
                limits.mqttMaxMessageBytes(), limits.mqttMaxInflight(), limits.deviceMessageRate());
    amqpPort = freePortIfZero(config.amqpPort());
    amqp =
        Future.await(
            AmqpAdapter.start(
                vertx,
                amqpConfig,
                adapterServices,
                authenticator,
                new QueueService(cloudToDevice),
                List.of(
                    ServerTls.apply(
                        deviceListenerOptions(amqpPort),
                        tls,
                        /* requestClientCertificates= */ true)),
                EVENT_LOOPS));
    LOG.info(
        "AMQP listening [tls-port: {}, websocket: https port {} ({})]",
        amqpPort,
        MqttAdapter.WEBSOCKET_PATH,
        AmqpAdapter.WEBSOCKET_SUBPROTOCOL);

    ServiceApi api =
        new ServiceApi(
            registry,
            twins,
            certificateAuthorities,
            authenticator,
            events,
            sessions,
            cloudToDevice,
            queryIndexes,
            queryColumns,
            config.query().renderCacheMb(),
            jobs,
            adapterServices.authenticator(),
            bulkJobs);
    var scrape = PrometheusScrapingHandler.create(metrics);

    httpsPort = choosePort(config.httpsPort(), config.fallbackHttpsPort());
    HttpServerOptions httpOptions =
        new HttpServerOptions()
            .setHost(config.bindHost())
            .setPort(httpsPort)
            .setIdleTimeout(600)
            .setIdleTimeoutUnit(TimeUnit.SECONDS)
            .setCompressionSupported(false)
            .setTcpNoDelay(true)
            .setWebSocketSubProtocols(
                List.of(MqttAdapter.WEBSOCKET_SUBPROTOCOL, AmqpAdapter.WEBSOCKET_SUBPROTOCOL))
            .setMaxWebSocketFrameSize(MqttAdapter.maxWebSocketBytes(mqttConfig))
            .setMaxWebSocketMessageSize(MqttAdapter.maxWebSocketBytes(mqttConfig));
    ServerTls.apply(httpOptions, tls, /* requestClientCertificates= */ true);
    int instances = EVENT_LOOPS;
    httpsDeployment =
        Future.await(
            vertx.deployVerticle(
                () ->
                    new HttpsVerticle(
                        httpOptions,
                        v -> api.router(v, ready::get, scrape),
                        mqtt.webSocketHandler(),
                        amqp.webSocketHandler()),
                new DeploymentOptions().setInstances(instances)));

    HubInfoFile.write(
        config.dataDir().resolve("hub.json"),
        HubInfoFile.content(
            config.hostName(), httpsPort, mqttPort, amqpPort, tls.caCertificate(), policies));
    // The twins are loaded: from now on G1 may keep the heap lean (conf/jvm.options).
    steadyHeap.ifPresent(
        r -> LOG.info("heap free ratios after start-up [{}]", SteadyHeap.applyToThisJvm(r)));
    ready.set(true);
    LOG.info(
        "herd ready [host-name: {}, https: {}, data-dir: {}, devices: {}, startup-ms: {}]",
        config.hostName(),
        httpsPort,
        config.dataDir(),
        registry.statistics().totalDeviceCount(),
        (System.nanoTime() - t0) / 1_000_000);
  }

  /** Loads the queues and makes every device's cloudToDeviceMessageCount match them. */
  private CloudToDeviceQueues openCloudToDevice(HubConfig.DeviceLimits limits) {
    long t0 = System.nanoTime();
    CloudToDeviceQueues queues =
        Future.await(
            CloudToDeviceQueues.open(
                vertx,
                new PgCloudToDeviceStore(pool),
                new SessionRecipients(registry, sessions),
                CloudToDeviceConfig.withQueueDepth(limits.c2dMaxQueueDepth()),
                Clock.systemUTC()));
    sessions.onCloudToDeviceReady(
        key -> {
          if (!key.isModule()) {
            queues.onReady(key.deviceId());
          }
        });
    registry.onChange(
        change -> {
          if (change instanceof IdentityChange.DeleteDevice d) {
            queues.deviceDeleted(d.deviceId());
          }
        });
    // The stored count of a device may be stale; the queue is the truth.
    registry.forEachIdentity(
        d -> {
          int n = queues.pending(d.deviceId());
          if (n != d.cloudToDeviceMessageCount()) {
            registry.cloudToDeviceMessageCountChanged(d.deviceId(), n);
          }
        },
        m -> {});
    LOG.info("cloud-to-device queues loaded [ms: {}]", (System.nanoTime() - t0) / 1_000_000);
    return queues;
  }

  /** Options of a device listener (MQTT or AMQP) on {@code port}. */
  private NetServerOptions deviceListenerOptions(int port) {
    return new NetServerOptions()
        .setHost(config.bindHost())
        .setPort(port)
        .setTcpNoDelay(true)
        .setAcceptBacklog(4096);
  }

  /** Every listener instance must share one port, so a 0 (any) is resolved once here. */
  private static int freePortIfZero(int port) throws IOException {
    if (port != 0) {
      return port;
    }
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** The configured port, or the fallback when the process may not bind it. */
  private static int choosePort(int wanted, int fallback) throws IOException {
    int port = wanted;
    if (!PortPermissions.mayBind(port)) {
      LOG.warn(
          "no permission to bind HTTPS port {}; using {} instead. The Azure service SDKs and the"
              + " device HTTPS transport only reach port 443: run as root, grant"
              + " CAP_NET_BIND_SERVICE, or forward 443 to {}",
          port,
          fallback,
          fallback);
      port = fallback;
    }
    if (port == 0) {
      // Every listener instance must share one port, so pick it once here.
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
    }
    return port;
  }

  public HubConfig config() {
    return config;
  }

  public int httpsPort() {
    return httpsPort;
  }

  /** The MQTT-over-TLS port. */
  public int mqttPort() {
    return mqttPort;
  }

  /** The AMQP-over-TLS port. */
  public int amqpPort() {
    return amqpPort;
  }

  /** The plain MQTT port, -1 when there is none. */
  public int mqttPlainPort() {
    return mqttPlainPort;
  }

  /** Live device connections: the internal API for direct methods and cloud-to-device. */
  public DeviceSessions sessions() {
    return sessions;
  }

  /** The durable cloud-to-device queues. */
  public JobEngine jobs() {
    return jobs;
  }

  public CloudToDeviceQueues cloudToDevice() {
    return cloudToDevice;
  }

  /** Import and export jobs of the identity registry. */
  public BulkJobs bulkJobs() {
    return bulkJobs;
  }

  /** The built-in events endpoint. */
  public LiveEventStream events() {
    return events;
  }

  public boolean isReady() {
    return ready.get();
  }

  public DeviceRegistry registry() {
    return registry;
  }

  public TwinStore twins() {
    return twins;
  }

  public AccessPolicies policies() {
    return policies;
  }

  public CertificateAuthorities certificateAuthorities() {
    return certificateAuthorities;
  }

  /** Device authentication by client certificate, for the device protocol adapters. */
  public X509Authenticator x509Authenticator() {
    return x509Authenticator;
  }

  public Path caFile() {
    return tls == null ? null : tls.caCertificate();
  }

  public Vertx vertx() {
    return vertx;
  }

  /** Stops listeners (letting requests in flight finish), then the pool, PostgreSQL, the lock. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    ready.set(false);
    LOG.info("herd stopping");
    try {
      if (httpsDeployment != null) {
        Future.await(vertx.undeploy(httpsDeployment));
      }
      if (bulkJobs != null) {
        // Before the pool: an import's chunk in flight commits its progress.
        Future.await(bulkJobs.close());
      }
      if (mqtt != null) {
        Future.await(mqtt.close());
      }
      if (amqp != null) {
        Future.await(amqp.close());
      }
      if (jobs != null) {
        Future.await(jobs.close());
      }
      if (cloudToDevice != null) {
        Future.await(cloudToDevice.close());
      }
      if (pool != null) {
        Future.await(pool.close());
      }
      if (vertx != null) {
        Future.await(vertx.close());
      }
    } catch (RuntimeException e) {
      LOG.warn("error while stopping listeners", e);
    }
    try {
      if (embedded != null) {
        embedded.close();
      }
    } catch (IOException e) {
      LOG.warn("error while stopping embedded PostgreSQL", e);
    }
    try {
      if (lock != null) {
        lock.close();
      }
    } catch (IOException e) {
      LOG.warn("error while releasing the data directory lock", e);
    }
    LOG.info("herd stopped");
  }
}
