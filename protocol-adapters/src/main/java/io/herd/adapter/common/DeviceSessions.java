package io.herd.adapter.common;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.twin.TwinKey;
import io.herd.registry.ConnectionState;
import io.herd.registry.DeviceRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The live device connections of this hub process, one per identity: a new connection of an
 * identity replaces the old one (IoT Hub closes the old with 400027). Keeps the registry's
 * connection state in step and bounds the number of connections.
 */
public final class DeviceSessions {
  private final DeviceRegistry registry;
  private final Clock clock;
  private final int maxConnections;
  private final AtomicInteger connections = new AtomicInteger();
  private final ConcurrentHashMap<TwinKey, DeviceLink> links = new ConcurrentHashMap<>();
  private final CopyOnWriteArrayList<Consumer<TwinKey>> cloudToDeviceReady =
      new CopyOnWriteArrayList<>();

  /** Direct-method calls waiting for their device to connect and subscribe to methods. */
  private final ConcurrentHashMap<TwinKey, CopyOnWriteArrayList<Promise<Void>>> methodWaiters =
      new ConcurrentHashMap<>();

  /**
   * @param maxConnections authenticated and pending connections together, at most
   */
  public DeviceSessions(DeviceRegistry registry, Clock clock, int maxConnections) {
    this.registry = registry;
    this.clock = clock;
    this.maxConnections = maxConnections;
  }

  /** Takes a connection slot; false when the hub is at its limit. */
  public boolean tryReserve() {
    while (true) {
      int n = connections.get();
      if (n >= maxConnections) {
        return false;
      }
      if (connections.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** Gives a slot taken by {@link #tryReserve} back. */
  public void release() {
    connections.decrementAndGet();
  }

  /** Connections holding a slot (authenticated or not yet). */
  public int connections() {
    return connections.get();
  }

  /** Authenticated connections. */
  public int size() {
    return links.size();
  }

  /** Makes {@code link} the identity's connection, closing the one it replaces. */
  public void register(DeviceLink link) {
    DeviceLink old = links.put(link.key(), link);
    if (old != null && old != link) {
      old.closeReplaced();
    }
    DeviceIdentity id = link.identity();
    registry.connectionChanged(
        id.deviceId(), id.moduleId(), ConnectionState.CONNECTED, clock.instant());
  }

  /** Forgets {@code link}; the identity turns Disconnected unless another link replaced it. */
  public void unregister(DeviceLink link) {
    if (links.remove(link.key(), link)) {
      DeviceIdentity id = link.identity();
      registry.connectionChanged(
          id.deviceId(), id.moduleId(), ConnectionState.DISCONNECTED, clock.instant());
    }
  }

  public Optional<DeviceLink> find(TwinKey key) {
    return Optional.ofNullable(links.get(key));
  }

  /** Invokes a direct method on a connected device or module. */
  public Future<MethodResult> invokeMethod(
      TwinKey key, String methodName, Buffer payload, Duration timeout) {
    DeviceLink link = links.get(key);
    if (link == null) {
      return Future.failedFuture(notOnline(key));
    }
    return link.invokeMethod(methodName, payload, timeout);
  }

  /**
   * Invokes a direct method, first waiting up to {@code connectTimeout} for the device to connect
   * and subscribe to methods when it has not (zero: it must have already). A request is sent to a
   * device once at most.
   */
  public Future<MethodResult> invokeMethod(
      Vertx vertx,
      TwinKey key,
      String methodName,
      Buffer payload,
      Duration responseTimeout,
      Duration connectTimeout) {
    DeviceLink link = links.get(key);
    if (connectTimeout.isZero() || (link != null && link.acceptsMethods())) {
      return invokeMethod(key, methodName, payload, responseTimeout);
    }
    return awaitMethods(vertx, key, connectTimeout)
        .compose(ready -> invokeMethod(key, methodName, payload, responseTimeout));
  }

  /** Delivers a cloud-to-device message to a connected device. */
  public Future<DeliveryOutcome> deliver(TwinKey key, CloudToDeviceMessage message) {
    DeviceLink link = links.get(key);
    if (link == null) {
      return Future.failedFuture(notOnline(key));
    }
    return link.deliver(message);
  }

  /**
   * Completes once {@code key} has a connection subscribed to direct methods (at once when it has
   * one), or fails with 404103 DeviceNotOnline after {@code timeout}.
   */
  public Future<Void> awaitMethods(Vertx vertx, TwinKey key, Duration timeout) {
    Promise<Void> ready = Promise.promise();
    CopyOnWriteArrayList<Promise<Void>> waiters =
        methodWaiters.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>());
    waiters.add(ready);
    // A subscription that came before the waiter was registered would not signal it.
    DeviceLink link = links.get(key);
    if (link != null && link.acceptsMethods()) {
      ready.tryComplete();
    }
    long timer =
        vertx.setTimer(
            Math.max(1, timeout.toMillis()),
            t ->
                ready.tryFail(
                    new HubException(
                        ErrorCode.DEVICE_NOT_ONLINE,
                        "Device "
                            + key
                            + " did not connect and subscribe to direct methods within "
                            + timeout.toSeconds()
                            + " s")));
    return ready
        .future()
        .andThen(
            ar -> {
              vertx.cancelTimer(timer);
              waiters.remove(ready);
              methodWaiters.computeIfPresent(key, (k, l) -> l.isEmpty() ? null : l);
            });
  }

  /** Called by a link when its device subscribed to direct methods. */
  public void methodsReady(DeviceLink link) {
    CopyOnWriteArrayList<Promise<Void>> waiters = methodWaiters.get(link.key());
    if (waiters != null) {
      for (Promise<Void> p : waiters) {
        p.tryComplete();
      }
    }
  }

  /**
   * Registers a listener called (on the connection's thread) each time a connected identity starts
   * taking cloud-to-device messages, i.e. after its C2D subscription was granted: the moment to
   * send what queued up while it was away.
   */
  public void onCloudToDeviceReady(Consumer<TwinKey> listener) {
    cloudToDeviceReady.add(listener);
  }

  /** Called by an adapter when {@code key} may now receive {@link #deliver} calls. */
  public void cloudToDeviceReady(TwinKey key) {
    for (Consumer<TwinKey> l : cloudToDeviceReady) {
      l.accept(key);
    }
  }

  static HubException notOnline(TwinKey key) {
    return new HubException(
        ErrorCode.DEVICE_NOT_ONLINE, "Device " + key + " is not connected to this hub");
  }
}
