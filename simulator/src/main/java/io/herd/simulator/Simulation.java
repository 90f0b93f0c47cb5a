package io.herd.simulator;

import io.herd.simulator.internal.AmqpDeviceConnection;
import io.herd.simulator.internal.AmqpWire;
import io.herd.simulator.internal.ClientTls;
import io.herd.simulator.internal.DeviceBehaviour;
import io.herd.simulator.internal.DeviceConnection;
import io.herd.simulator.internal.DeviceLoop;
import io.herd.simulator.internal.DeviceRegistrar;
import io.herd.simulator.internal.FaultPlan;
import io.herd.simulator.internal.Figures;
import io.herd.simulator.internal.HubTarget;
import io.herd.simulator.internal.MqttDeviceConnection;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.NetClient;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntFunction;
import java.util.function.ToIntFunction;

/**
 * A running simulation of the devices of one {@link SimulatorConfig} slice in this process: they
 * are registered, then connect and behave on Vert.x event loops (one per core) until {@link #stop}.
 * {@link #report} takes a snapshot of what they counted and measured at any time.
 */
public final class Simulation implements AutoCloseable {

  private static final int CONNECT_TIMEOUT_MS = 30_000;

  private final SimulatorConfig config;
  private final HubTarget target;
  private final List<DeviceLoop> loops = new ArrayList<>();
  private final long startedAtMillis = System.currentTimeMillis();
  private final long startNanos = System.nanoTime();
  private Vertx vertx;
  private SimulationReport finalReport;

  private Simulation(SimulatorConfig config, HubTarget target) {
    this.config = config;
    this.target = target;
  }

  /**
   * Registers the missing devices, then starts connecting them all; returns without waiting for the
   * connections ({@link #awaitOnline}). Says what it registered on {@code out}. Throws
   * IllegalArgumentException for a bad configuration, IllegalStateException when the devices cannot
   * be registered.
   */
  public static Simulation start(SimulatorConfig config, PrintStream out) throws Exception {
    HubTarget target =
        HubTarget.of(
            config.hubConfig(),
            config.connectionString(),
            config.caFile(),
            config.mqttPort(),
            config.amqpPort());
    Simulation s = new Simulation(config, target);
    try {
      s.begin(out);
    } catch (Exception | Error e) {
      s.closeVertx();
      throw e;
    }
    return s;
  }

  private void begin(PrintStream out) throws TimeoutException {
    int eventLoops =
        config.eventLoops() > 0 ? config.eventLoops() : Runtime.getRuntime().availableProcessors();
    vertx =
        Vertx.vertx(
            new VertxOptions()
                .setEventLoopPoolSize(eventLoops)
                .setWorkerPoolSize(2)
                .setInternalBlockingPoolSize(2));
    long t0 = System.nanoTime();
    long deadline = t0 + TimeUnit.SECONDS.toNanos(60 + config.count() / 50);
    DeviceRegistrar.Result registered;
    try (DeviceRegistrar registrar = new DeviceRegistrar(vertx, target)) {
      registered =
          registrar.ensure(
              config.prefix(), config.first(), config.count(), config.tags(), deadline);
    }
    out.printf(
        Locale.ROOT,
        "register  : %s .. %s: %d created, %d existed, in %.1f s%n",
        config.deviceId(config.first()),
        config.deviceId(config.first() + config.count() - 1),
        registered.created(),
        registered.existing(),
        (System.nanoTime() - t0) / 1e9);
    DeviceConnection.Opener opener = opener();
    FaultPlan faults =
        new FaultPlan(config.seed(), config.devices(), config.failPercent(), config.slowPercent());
    long interval = config.rate() > 0 ? Math.max(1, Math.round(1000 / config.rate())) : 0;
    IntFunction<DeviceBehaviour.Settings> settings =
        n ->
            new DeviceBehaviour.Settings(
                config.fwVersion(),
                config.fwStepMs(),
                faults.failsFirmwareUpdates(n),
                faults.answersLate(n),
                config.slowMs(),
                config.reconnectMs(),
                config.configApplyMs(),
                interval);
    List<List<DeviceLoop.Member>> members = new ArrayList<>();
    for (int i = 0; i < eventLoops; i++) {
      members.add(new ArrayList<>());
    }
    for (int i = 0; i < config.count(); i++) {
      int n = config.first() + i;
      members
          .get(i % eventLoops)
          .add(new DeviceLoop.Member(n, config.deviceId(n), registered.keys()[i]));
    }
    List<Future<String>> deployed = new ArrayList<>();
    for (int i = 0; i < eventLoops; i++) {
      int share =
          config.connectConcurrency() / eventLoops
              + (i < config.connectConcurrency() % eventLoops ? 1 : 0);
      DeviceLoop loop =
          new DeviceLoop(
              members.get(i),
              opener,
              target.hostName(),
              settings,
              share,
              config.churnPercent(),
              config.reconnectMs(),
              config.seed() * 31 + config.first() + i);
      loops.add(loop);
      deployed.add(vertx.deployVerticle(loop));
    }
    Future.all(deployed).await(30, TimeUnit.SECONDS);
  }

  /** How the devices connect: the protocol's transport, TLS trusting the target's CA. */
  private DeviceConnection.Opener opener() {
    return switch (config.protocol()) {
      case AMQP ->
          AmqpDeviceConnection.opener(
              vertx,
              AmqpWire.clientOptions(vertx, target.caFile(), true, CONNECT_TIMEOUT_MS),
              target,
              CONNECT_TIMEOUT_MS);
      case MQTT -> {
        NetClient net =
            vertx.createNetClient(
                ClientTls.netClientOptions(vertx, target.caFile(), true, CONNECT_TIMEOUT_MS));
        yield MqttDeviceConnection.opener(vertx, net, target, CONNECT_TIMEOUT_MS);
      }
    };
  }

  public SimulatorConfig config() {
    return config;
  }

  /** How many of the devices are connected, subscribed and have read their twin. */
  public int online() throws TimeoutException {
    return snapshots().stream().mapToInt(DeviceLoop.Snapshot::online).sum();
  }

  /** Waits until every device is online at once; false when {@code timeout} passed first. */
  public boolean awaitOnline(Duration timeout) throws TimeoutException, InterruptedException {
    return await(timeout, DeviceLoop.Snapshot::online);
  }

  /**
   * Waits until every device has come online at least once (with churn, some are offline at any
   * moment); false when {@code timeout} passed first.
   */
  public boolean awaitConnected(Duration timeout) throws TimeoutException, InterruptedException {
    return await(timeout, DeviceLoop.Snapshot::connected);
  }

  private boolean await(Duration timeout, ToIntFunction<DeviceLoop.Snapshot> devices)
      throws TimeoutException, InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (snapshots().stream().mapToInt(devices).sum() < config.count()) {
      if (System.nanoTime() >= end) {
        return false;
      }
      Thread.sleep(50);
    }
    return true;
  }

  /** What the devices counted and measured so far. */
  public synchronized SimulationReport report() throws TimeoutException {
    if (finalReport != null) {
      return finalReport;
    }
    Figures figures = new Figures();
    int online = 0;
    for (DeviceLoop.Snapshot s : snapshots()) {
      figures.add(s.figures());
      online += s.online();
    }
    return new SimulationReport(
        figures,
        config.count(),
        online,
        1,
        startedAtMillis,
        (System.nanoTime() - startNanos) / 1e9,
        config.toJson());
  }

  private List<DeviceLoop.Snapshot> snapshots() throws TimeoutException {
    List<Future<DeviceLoop.Snapshot>> parts = new ArrayList<>();
    for (DeviceLoop l : loops) {
      parts.add(l.snapshot());
    }
    try {
      Future.all(parts).await(30, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new TimeoutException("the event loops did not hand over their figures within 30 s");
    }
    List<DeviceLoop.Snapshot> all = new ArrayList<>();
    for (Future<DeviceLoop.Snapshot> f : parts) {
      all.add(f.result());
    }
    return all;
  }

  /**
   * Disconnects every device and stops; returns the final report (online: the devices connected
   * until the end). Calling it again returns the same report.
   */
  public synchronized SimulationReport stop() throws TimeoutException {
    if (finalReport != null) {
      return finalReport;
    }
    SimulationReport last = report();
    List<Future<Void>> stopping = new ArrayList<>();
    for (DeviceLoop l : loops) {
      stopping.add(l.stopDevices());
    }
    try {
      Future.all(stopping).await(30, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      // Closing Vert.x closes what is left, without the DISCONNECTs.
      System.err.println("herd sim: devices still disconnecting after 30 s; closing the rest");
    }
    finalReport = last;
    closeVertx();
    return finalReport;
  }

  private void closeVertx() {
    if (vertx != null) {
      try {
        vertx.close().await(10, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        System.err.println("herd sim: Vert.x did not close within 10 s");
      }
      vertx = null;
    }
  }

  @Override
  public void close() throws TimeoutException {
    stop();
  }
}
