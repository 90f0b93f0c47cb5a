package io.herd.registry.internal;

import io.herd.core.ErrorCode;
import io.herd.core.Etags;
import io.herd.core.HubException;
import io.herd.registry.Authentication;
import io.herd.registry.AuthenticationType;
import io.herd.registry.BulkError;
import io.herd.registry.BulkOperation;
import io.herd.registry.BulkResult;
import io.herd.registry.ConnectionState;
import io.herd.registry.Device;
import io.herd.registry.DeviceRegistry;
import io.herd.registry.DeviceSpec;
import io.herd.registry.DeviceStatus;
import io.herd.registry.IdentityChange;
import io.herd.registry.IdentityStore;
import io.herd.registry.ImportMode;
import io.herd.registry.Module;
import io.herd.registry.ModuleSpec;
import io.herd.registry.RegistryStatistics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Identities in memory, written through to an {@link IdentityStore}. Every change runs on one owner
 * context under a per-device lock, is committed, and only then becomes visible in the maps that
 * readers on any thread use.
 */
public final class DeviceRegistryImpl implements DeviceRegistry {
  /** IoT Hub's limit of modules per device. */
  public static final int MAX_MODULES_PER_DEVICE = 50;

  public static final int MAX_BULK = 100;
  private static final int KEY_BYTES = 32;

  private final Context owner;
  private final IdentityStore store;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final KeyLocks locks = new KeyLocks();
  private final ConcurrentHashMap<String, Device> devices = new ConcurrentHashMap<>();

  /** Inner maps are immutable and replaced whole, so readers never see one half-changed. */
  private final ConcurrentHashMap<String, Map<String, Module>> modules = new ConcurrentHashMap<>();

  private final CopyOnWriteArrayList<Consumer<IdentityChange>> listeners =
      new CopyOnWriteArrayList<>();
  private final AtomicLong enabled = new AtomicLong();
  private final AtomicLong connected = new AtomicLong();
  private final AtomicLong moduleCount = new AtomicLong();
  private long version;
  private long generation;

  private DeviceRegistryImpl(Context owner, IdentityStore store, Clock clock) {
    this.owner = owner;
    this.store = store;
    this.clock = clock;
  }

  public static Future<DeviceRegistryImpl> open(Vertx vertx, IdentityStore store) {
    return open(vertx, store, Clock.systemUTC());
  }

  public static Future<DeviceRegistryImpl> open(Vertx vertx, IdentityStore store, Clock clock) {
    DeviceRegistryImpl r = new DeviceRegistryImpl(vertx.getOrCreateContext(), store, clock);
    return store
        .loadAll(r::loaded, r::loaded)
        .map(
            maxVersion -> {
              r.version = maxVersion;
              return r;
            });
  }

  private void loaded(Device d) {
    devices.put(d.deviceId(), d);
    count(null, d);
  }

  private void loaded(Module m) {
    modules.merge(
        m.deviceId(),
        Map.of(m.moduleId(), m),
        (a, b) -> {
          Map<String, Module> merged = new HashMap<>(a);
          merged.putAll(b);
          return Map.copyOf(merged);
        });
    moduleCount.incrementAndGet();
  }

  // ---- reads

  @Override
  public Optional<Device> find(String deviceId) {
    return deviceId == null ? Optional.empty() : Optional.ofNullable(devices.get(deviceId));
  }

  @Override
  public Future<Device> get(String deviceId) {
    Device d = deviceId == null ? null : devices.get(deviceId);
    return d == null
        ? Future.failedFuture(HubException.deviceNotFound(deviceId))
        : Future.succeededFuture(d);
  }

  @Override
  public List<Device> list(int top) {
    List<Device> out = new ArrayList<>(Math.min(top, devices.size()));
    for (Device d : devices.values()) {
      if (out.size() >= top) {
        break;
      }
      out.add(d);
    }
    return out;
  }

  @Override
  public Optional<Module> findModule(String deviceId, String moduleId) {
    Map<String, Module> ms = deviceId == null ? null : modules.get(deviceId);
    return ms == null || moduleId == null
        ? Optional.empty()
        : Optional.ofNullable(ms.get(moduleId));
  }

  @Override
  public Future<Module> getModule(String deviceId, String moduleId) {
    return findModule(deviceId, moduleId)
        .map(Future::succeededFuture)
        .orElseGet(() -> Future.failedFuture(HubException.moduleNotFound(deviceId, moduleId)));
  }

  @Override
  public Future<List<Module>> listModules(String deviceId) {
    if (!devices.containsKey(deviceId)) {
      return Future.failedFuture(HubException.deviceNotFound(deviceId));
    }
    return Future.succeededFuture(List.copyOf(modules.getOrDefault(deviceId, Map.of()).values()));
  }

  @Override
  public RegistryStatistics statistics() {
    long total = devices.size();
    long on = enabled.get();
    return new RegistryStatistics(total, on, total - on, connected.get());
  }

  @Override
  public void forEachIdentity(Consumer<Device> deviceSink, Consumer<Module> moduleSink) {
    devices.values().forEach(deviceSink);
    modules.values().forEach(ms -> ms.values().forEach(moduleSink));
  }

  @Override
  public void onChange(Consumer<IdentityChange> listener) {
    listeners.add(listener);
  }

  @Override
  public long size() {
    return devices.size() + moduleCount.get();
  }

  // ---- device changes

  @Override
  public Future<Device> create(DeviceSpec spec) {
    return exclusive(
        List.of(spec.deviceId()),
        () -> {
          if (devices.containsKey(spec.deviceId())) {
            return Future.failedFuture(
                new HubException(
                    ErrorCode.DEVICE_ALREADY_EXISTS,
                    "A device with ID '" + spec.deviceId() + "' is already registered"));
          }
          Device d = newDevice(spec);
          return commit(List.of(new IdentityChange.PutDevice(d))).map(v -> d);
        });
  }

  @Override
  public Future<Device> update(DeviceSpec spec, String ifMatch) {
    return exclusive(
        List.of(spec.deviceId()),
        () -> {
          Device current = devices.get(spec.deviceId());
          if (current == null) {
            return Future.failedFuture(HubException.deviceNotFound(spec.deviceId()));
          }
          if (!Etags.matches(ifMatch, current.etag())) {
            return Future.failedFuture(etagMismatch(spec.deviceId(), ifMatch));
          }
          Device d = updatedDevice(current, spec);
          return commit(List.of(new IdentityChange.PutDevice(d))).map(v -> d);
        });
  }

  @Override
  public Future<Void> delete(String deviceId, String ifMatch) {
    return exclusive(
        List.of(deviceId),
        () -> {
          Device current = devices.get(deviceId);
          if (current == null) {
            return Future.failedFuture(HubException.deviceNotFound(deviceId));
          }
          if (!Etags.matches(ifMatch, current.etag())) {
            return Future.failedFuture(etagMismatch(deviceId, ifMatch));
          }
          return commit(List.of(new IdentityChange.DeleteDevice(deviceId)));
        });
  }

  @Override
  public Future<BulkResult> bulk(List<BulkOperation> operations) {
    if (operations.size() > MAX_BULK) {
      return Future.failedFuture(
          new HubException(
              ErrorCode.TOO_MANY_DEVICES,
              "A bulk request may hold at most "
                  + MAX_BULK
                  + " devices, but has "
                  + operations.size()));
    }
    Set<String> ids = new HashSet<>();
    for (BulkOperation op : operations) {
      if (!ids.add(op.device().deviceId())) {
        return Future.failedFuture(
            new HubException(
                ErrorCode.DEVICE_DEFINED_MULTIPLE_TIMES,
                "Device '" + op.device().deviceId() + "' appears more than once in the request"));
      }
    }
    return exclusive(ids, () -> applyBulk(operations));
  }

  private Future<BulkResult> applyBulk(List<BulkOperation> operations) {
    List<BulkError> errors = new ArrayList<>();
    List<IdentityChange> changes = new ArrayList<>();
    for (BulkOperation op : operations) {
      DeviceSpec spec = op.device();
      String id = spec.deviceId();
      Device current = devices.get(id);
      ImportMode mode = op.mode();
      if (mode.touchesTwinOnly()) {
        // The identity stays as it is; the caller applies the twin part.
        if (current == null) {
          errors.add(notFound(id));
        }
        continue;
      }
      if (mode.checksEtag() && current != null && !Etags.matches(op.etag(), current.etag())) {
        errors.add(
            new BulkError(
                id,
                null,
                ErrorCode.PRECONDITION_FAILED,
                "ETag '" + op.etag() + "' does not match the device's etag"));
        continue;
      }
      switch (mode) {
        case CREATE -> {
          if (current != null) {
            errors.add(
                new BulkError(
                    id,
                    null,
                    ErrorCode.DEVICE_ALREADY_EXISTS,
                    "A device with ID '" + id + "' is already registered"));
          } else {
            changes.add(new IdentityChange.PutDevice(newDevice(spec)));
          }
        }
        case CREATE_OR_UPDATE, CREATE_OR_UPDATE_IF_MATCH_ETAG ->
            changes.add(
                new IdentityChange.PutDevice(
                    current == null ? newDevice(spec) : updatedDevice(current, spec)));
        case UPDATE, UPDATE_IF_MATCH_ETAG -> {
          if (current == null) {
            errors.add(notFound(id));
          } else {
            changes.add(new IdentityChange.PutDevice(updatedDevice(current, spec)));
          }
        }
        case DELETE, DELETE_IF_MATCH_ETAG -> {
          if (current == null) {
            errors.add(notFound(id));
          } else {
            changes.add(new IdentityChange.DeleteDevice(id));
          }
        }
        default -> throw new IllegalStateException("unhandled import mode " + mode);
      }
    }
    if (changes.isEmpty()) {
      return Future.succeededFuture(new BulkResult(errors));
    }
    return commit(changes).map(v -> new BulkResult(errors));
  }

  private static BulkError notFound(String id) {
    return new BulkError(id, null, ErrorCode.DEVICE_NOT_FOUND, "Device " + id + " not found");
  }

  private Device newDevice(DeviceSpec spec) {
    Instant now = now();
    return new Device(
        spec.deviceId(),
        nextGenerationId(now),
        ++version,
        spec.status(),
        spec.statusReason(),
        null,
        ConnectionState.DISCONNECTED,
        null,
        null,
        0,
        credentials(spec.authentication(), null),
        spec.iotEdge(),
        spec.deviceScope(),
        spec.parentScopes());
  }

  private Device updatedDevice(Device current, DeviceSpec spec) {
    Instant statusTime = spec.status() == current.status() ? current.statusUpdatedTime() : now();
    return new Device(
        current.deviceId(),
        current.generationId(),
        ++version,
        spec.status(),
        spec.statusReason(),
        statusTime,
        current.connectionState(),
        current.connectionStateUpdatedTime(),
        current.lastActivityTime(),
        current.cloudToDeviceMessageCount(),
        credentials(spec.authentication(), current.authentication()),
        spec.iotEdge(),
        spec.deviceScope(),
        spec.parentScopes());
  }

  // ---- module changes

  @Override
  public Future<Module> createModule(ModuleSpec spec) {
    return exclusive(
        List.of(spec.deviceId()),
        () -> {
          if (!devices.containsKey(spec.deviceId())) {
            return Future.failedFuture(HubException.deviceNotFound(spec.deviceId()));
          }
          Map<String, Module> current = modules.getOrDefault(spec.deviceId(), Map.of());
          if (current.containsKey(spec.moduleId())) {
            return Future.failedFuture(
                new HubException(
                    ErrorCode.MODULE_ALREADY_EXISTS_ON_DEVICE,
                    "A module with ID '"
                        + spec.moduleId()
                        + "' already exists on device '"
                        + spec.deviceId()
                        + "'"));
          }
          if (current.size() >= MAX_MODULES_PER_DEVICE) {
            return Future.failedFuture(
                new HubException(
                    ErrorCode.TOO_MANY_MODULES_ON_DEVICE,
                    "Device '"
                        + spec.deviceId()
                        + "' already has the maximum of "
                        + MAX_MODULES_PER_DEVICE
                        + " modules"));
          }
          Instant now = now();
          Module m =
              new Module(
                  spec.deviceId(),
                  spec.moduleId(),
                  spec.managedBy(),
                  nextGenerationId(now),
                  ++version,
                  ConnectionState.DISCONNECTED,
                  null,
                  null,
                  0,
                  credentials(spec.authentication(), null));
          return commit(List.of(new IdentityChange.PutModule(m))).map(v -> m);
        });
  }

  @Override
  public Future<Module> updateModule(ModuleSpec spec, String ifMatch) {
    return exclusive(
        List.of(spec.deviceId()),
        () -> {
          Module current = modules.getOrDefault(spec.deviceId(), Map.of()).get(spec.moduleId());
          if (current == null) {
            return Future.failedFuture(
                HubException.moduleNotFound(spec.deviceId(), spec.moduleId()));
          }
          if (!Etags.matches(ifMatch, current.etag())) {
            return Future.failedFuture(etagMismatch(spec.deviceId(), ifMatch));
          }
          Module m =
              new Module(
                  current.deviceId(),
                  current.moduleId(),
                  spec.managedBy(),
                  current.generationId(),
                  ++version,
                  current.connectionState(),
                  current.connectionStateUpdatedTime(),
                  current.lastActivityTime(),
                  current.cloudToDeviceMessageCount(),
                  credentials(spec.authentication(), current.authentication()));
          return commit(List.of(new IdentityChange.PutModule(m))).map(v -> m);
        });
  }

  @Override
  public Future<Void> deleteModule(String deviceId, String moduleId, String ifMatch) {
    return exclusive(
        List.of(deviceId),
        () -> {
          Module current = modules.getOrDefault(deviceId, Map.of()).get(moduleId);
          if (current == null) {
            return Future.failedFuture(HubException.moduleNotFound(deviceId, moduleId));
          }
          if (!Etags.matches(ifMatch, current.etag())) {
            return Future.failedFuture(etagMismatch(deviceId, ifMatch));
          }
          return commit(List.of(new IdentityChange.DeleteModule(deviceId, moduleId)));
        });
  }

  // ---- machinery

  /**
   * Credentials for a new or updated identity: absent means keep the current ones (or new SAS
   * keys), and empty SAS keys are generated, or kept when the identity already had SAS keys.
   */
  private Authentication credentials(Authentication requested, Authentication current) {
    if (requested == null) {
      return current != null ? current : Authentication.sas(newKey(), newKey());
    }
    if (requested.type() != AuthenticationType.SAS) {
      return requested;
    }
    boolean hadSas = current != null && current.type() == AuthenticationType.SAS;
    String primary = requested.primaryKey();
    String secondary = requested.secondaryKey();
    if (primary == null) {
      primary = hadSas ? current.primaryKey() : newKey();
    }
    if (secondary == null) {
      secondary = hadSas ? current.secondaryKey() : newKey();
    }
    return Authentication.sas(primary, secondary);
  }

  /** Now, at the 100 ns precision IoT Hub timestamps carry, so memory equals what reloads. */
  private Instant now() {
    Instant t = clock.instant();
    return t.minusNanos(t.getNano() % 100);
  }

  private String newKey() {
    byte[] key = new byte[KEY_BYTES];
    random.nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }

  /** Like .NET ticks, as IoT Hub's generation ids look; unique even within one tick. */
  private String nextGenerationId(Instant now) {
    long ticks = (now.getEpochSecond() + 62_135_596_800L) * 10_000_000L + now.getNano() / 100;
    generation = Math.max(generation + 1, ticks);
    return Long.toString(generation);
  }

  private static HubException etagMismatch(String deviceId, String ifMatch) {
    return HubException.preconditionFailed(
        "ETag " + ifMatch + " does not match the current etag of '" + deviceId + "'");
  }

  /** Commits changes, then makes them visible. Runs on the owner context. */
  private Future<Void> commit(List<IdentityChange> changes) {
    return OwnerContext.follow(owner, store.apply(changes))
        .onSuccess(
            v -> {
              List<IdentityChange> visible = new ArrayList<>(changes.size());
              for (IdentityChange c : changes) {
                visible.add(publish(c));
              }
              for (IdentityChange c : visible) {
                notifyListeners(c);
              }
            });
  }

  private void notifyListeners(IdentityChange c) {
    for (Consumer<IdentityChange> l : listeners) {
      l.accept(c);
    }
  }

  /**
   * Makes a committed change visible and returns it as readers see it: connection fields live in
   * memory only and may have moved on while the change was being committed, so they are kept.
   */
  private IdentityChange publish(IdentityChange change) {
    if (change instanceof IdentityChange.PutDevice p) {
      Device next = p.device();
      Device live = devices.get(next.deviceId());
      if (live != null && live.generationId().equals(next.generationId())) {
        next =
            next.withConnection(
                    live.connectionState(),
                    live.connectionStateUpdatedTime(),
                    live.lastActivityTime())
                .withCloudToDeviceMessageCount(live.cloudToDeviceMessageCount());
      }
      Device old = devices.put(next.deviceId(), next);
      count(old, next);
      return new IdentityChange.PutDevice(next);
    } else if (change instanceof IdentityChange.DeleteDevice d) {
      Device old = devices.remove(d.deviceId());
      count(old, null);
      Map<String, Module> gone = modules.remove(d.deviceId());
      if (gone != null) {
        moduleCount.addAndGet(-gone.size());
      }
    } else if (change instanceof IdentityChange.PutModule p) {
      Module m = p.module();
      Map<String, Module> next = new LinkedHashMap<>(modules.getOrDefault(m.deviceId(), Map.of()));
      Module live = next.get(m.moduleId());
      if (live != null && live.generationId().equals(m.generationId())) {
        m =
            m.withConnection(
                live.connectionState(), live.connectionStateUpdatedTime(), live.lastActivityTime());
      }
      if (next.put(m.moduleId(), m) == null) {
        moduleCount.incrementAndGet();
      }
      modules.put(m.deviceId(), Map.copyOf(next));
      return new IdentityChange.PutModule(m);
    } else if (change instanceof IdentityChange.DeleteModule d) {
      Map<String, Module> next = new LinkedHashMap<>(modules.getOrDefault(d.deviceId(), Map.of()));
      if (next.remove(d.moduleId()) != null) {
        moduleCount.decrementAndGet();
      }
      if (next.isEmpty()) {
        modules.remove(d.deviceId());
      } else {
        modules.put(d.deviceId(), Map.copyOf(next));
      }
    }
    return change;
  }

  @Override
  public void connectionChanged(
      String deviceId, String moduleId, ConnectionState state, Instant at) {
    // On the owner context, so that connection changes and committed changes never interleave.
    owner.runOnContext(v -> setConnection(deviceId, moduleId, state, at, true));
  }

  @Override
  public void activity(String deviceId, String moduleId, Instant at) {
    owner.runOnContext(v -> setConnection(deviceId, moduleId, null, at, false));
  }

  @Override
  public void cloudToDeviceMessageCountChanged(String deviceId, int count) {
    owner.runOnContext(
        v -> {
          Device d = devices.get(deviceId);
          if (d == null || d.cloudToDeviceMessageCount() == count) {
            return;
          }
          Device next = d.withCloudToDeviceMessageCount(count);
          devices.put(deviceId, next);
          notifyListeners(new IdentityChange.PutDevice(next));
        });
  }

  /** {@code state} null keeps the current state and only moves lastActivityTime forward. */
  private void setConnection(
      String deviceId, String moduleId, ConnectionState state, Instant at, boolean stateChange) {
    Instant time = at.minusNanos(at.getNano() % 100);
    IdentityChange change;
    if (moduleId == null) {
      Device d = devices.get(deviceId);
      if (d == null) {
        return;
      }
      Device next =
          d.withConnection(
              stateChange ? state : d.connectionState(),
              stateChange ? time : d.connectionStateUpdatedTime(),
              later(d.lastActivityTime(), time));
      if (next.equals(d)) {
        return;
      }
      devices.put(deviceId, next);
      count(d, next);
      change = new IdentityChange.PutDevice(next);
    } else {
      Map<String, Module> ms = modules.get(deviceId);
      Module m = ms == null ? null : ms.get(moduleId);
      if (m == null) {
        return;
      }
      Module next =
          m.withConnection(
              stateChange ? state : m.connectionState(),
              stateChange ? time : m.connectionStateUpdatedTime(),
              later(m.lastActivityTime(), time));
      if (next.equals(m)) {
        return;
      }
      Map<String, Module> copy = new LinkedHashMap<>(ms);
      copy.put(moduleId, next);
      modules.put(deviceId, Map.copyOf(copy));
      change = new IdentityChange.PutModule(next);
    }
    notifyListeners(change);
  }

  private static Instant later(Instant a, Instant b) {
    return a == null || b.isAfter(a) ? b : a;
  }

  private void count(Device old, Device now) {
    if (old != null) {
      if (old.status() == DeviceStatus.ENABLED) {
        enabled.decrementAndGet();
      }
      if (old.connectionState() == ConnectionState.CONNECTED) {
        connected.decrementAndGet();
      }
    }
    if (now != null) {
      if (now.status() == DeviceStatus.ENABLED) {
        enabled.incrementAndGet();
      }
      if (now.connectionState() == ConnectionState.CONNECTED) {
        connected.incrementAndGet();
      }
    }
  }

  /**
   * Runs {@code op} on the owner context holding the locks of {@code keys}, and completes the
   * returned future on the caller's context.
   */
  private <T> Future<T> exclusive(Collection<String> keys, Supplier<Future<T>> op) {
    return OwnerContext.call(owner, () -> locks.holding(keys, op));
  }
}
