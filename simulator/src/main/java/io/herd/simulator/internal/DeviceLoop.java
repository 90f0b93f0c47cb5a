package io.herd.simulator.internal;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * The simulated devices of one event loop (one instance per loop, so every device's state has a
 * single owner): connects them with a bounded number of first connects in flight, keeps their
 * connections alive, drops {@code --churn} percent of the idle ones each second, and hands out a
 * copy of their figures when asked. Every method the simulation's thread calls hops onto this loop.
 */
public final class DeviceLoop extends VerticleBase {

  private static final int CHUNK = 250;

  /** A device of this loop: its number, id and key. */
  public record Member(int number, String id, byte[] key) {}

  /**
   * What a snapshot holds: the loop's figures (a copy), how many of its devices are online, and how
   * many have been online at least once.
   */
  public record Snapshot(Figures figures, int online, int connected) {}

  private final List<Member> members;
  private final DeviceConnection.Opener opener;
  private final String hostName;
  private final IntFunction<DeviceBehaviour.Settings> settings;
  private final int connectConcurrency;
  private final double churnPercent;
  private final long reconnectMs;
  private final Random random;
  private final Figures figures = new Figures();
  private final List<SimulatedDevice> devices = new ArrayList<>();
  private int nextToConnect;
  private double churnCarry;

  /**
   * @param settings the behaviour of device number n
   * @param connectConcurrency first connects in flight at most on this loop
   */
  public DeviceLoop(
      List<Member> members,
      DeviceConnection.Opener opener,
      String hostName,
      IntFunction<DeviceBehaviour.Settings> settings,
      int connectConcurrency,
      double churnPercent,
      long reconnectMs,
      long seed) {
    this.members = members;
    this.opener = opener;
    this.hostName = hostName;
    this.settings = settings;
    this.connectConcurrency = Math.max(1, connectConcurrency);
    this.churnPercent = churnPercent;
    this.reconnectMs = reconnectMs;
    this.random = new Random(seed);
  }

  @Override
  public Future<?> start() {
    SimulatedDevice.Environment env =
        new SimulatedDevice.Environment(
            vertx, opener, hostName, figures, random, reconnectMs, this::connectNext);
    for (Member m : members) {
      devices.add(new SimulatedDevice(env, m.id(), m.key(), settings.apply(m.number())));
    }
    // [MQTT-3.1.2-23] a client sends a packet at least once per keep-alive period.
    vertx.setPeriodic(
        MqttDeviceConnection.KEEP_ALIVE_SECONDS * 500L,
        t -> inChunks(0, SimulatedDevice::ping, () -> {}));
    if (churnPercent > 0) {
      vertx.setPeriodic(1_000, t -> churn());
    }
    for (int i = 0; i < connectConcurrency; i++) {
      connectNext();
    }
    return Future.succeededFuture();
  }

  /** Starts the next first connect; each device calls it once its first attempt is over. */
  private void connectNext() {
    if (nextToConnect < devices.size()) {
      devices.get(nextToConnect++).connect();
    }
  }

  /**
   * Drops churnPercent of the devices, chosen at random among those online and not owing a method
   * answer (a drop would fail that call and make the report hinge on chance); fractions carry over.
   */
  private void churn() {
    churnCarry += devices.size() * churnPercent / 100.0;
    int n = (int) churnCarry;
    churnCarry -= n;
    for (int tries = 0; n > 0 && tries < 4 * devices.size(); tries++) {
      SimulatedDevice d = devices.get(random.nextInt(devices.size()));
      if (d.isOnline() && !d.owesMethodAnswer()) {
        d.drop();
        n--;
      }
    }
  }

  public Future<Snapshot> snapshot() {
    Promise<Snapshot> p = Promise.promise();
    context.runOnContext(
        v -> {
          int online = 0;
          int connected = 0;
          for (SimulatedDevice d : devices) {
            online += d.isOnline() ? 1 : 0;
            connected += d.wasOnline() ? 1 : 0;
          }
          p.complete(new Snapshot(figures.copy(), online, connected));
        });
    return p.future();
  }

  /** Disconnects every device (DISCONNECT or AMQP close, then the socket). */
  public Future<Void> stopDevices() {
    Promise<Void> p = Promise.promise();
    context.runOnContext(v -> inChunks(0, SimulatedDevice::stop, p::complete));
    return p.future();
  }

  /**
   * Applies {@code action} to every device, a few hundred per turn of the loop so that it stays
   * responsive (each ping or close goes through TLS), then runs {@code then}.
   */
  private void inChunks(int from, Consumer<SimulatedDevice> action, Runnable then) {
    int end = Math.min(devices.size(), from + CHUNK);
    for (int k = from; k < end; k++) {
      action.accept(devices.get(k));
    }
    if (end < devices.size()) {
      context.runOnContext(v -> inChunks(end, action, then));
    } else {
      then.run();
    }
  }
}
