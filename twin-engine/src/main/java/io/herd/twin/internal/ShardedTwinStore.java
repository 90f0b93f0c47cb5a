package io.herd.twin.internal;

import io.herd.core.ErrorCode;
import io.herd.core.Etags;
import io.herd.core.HubException;
import io.herd.core.twin.Ticks;
import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinCodec;
import io.herd.core.twin.TwinIdentity;
import io.herd.core.twin.TwinJson;
import io.herd.core.twin.TwinKey;
import io.herd.core.twin.TwinNode;
import io.herd.core.twin.TwinPatch;
import io.herd.twin.TwinChange;
import io.herd.twin.TwinEngineConfig;
import io.herd.twin.TwinRepository;
import io.herd.twin.TwinStore;
import io.herd.twin.TwinUpdate;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Twins sharded by device id over single-writer contexts. Each shard queues changes (bounded),
 * applies a group of them to its twins in order, commits the group in one transaction, and only
 * then publishes the new snapshots, completes the callers' Futures and tells subscribers. A
 * device's module twins live on its shard, so removing a device is one shard's business.
 */
public final class ShardedTwinStore implements TwinStore {
  private static final Logger LOG = LoggerFactory.getLogger(ShardedTwinStore.class);

  private final ConcurrentHashMap<TwinKey, Twin> twins = new ConcurrentHashMap<>(1 << 16);
  private final TwinRepository repository;
  private final TwinEngineConfig config;
  private final Clock clock;
  private final Shard[] shards;
  private final CopyOnWriteArrayList<Consumer<TwinChange>> everyone = new CopyOnWriteArrayList<>();
  private final ConcurrentHashMap<TwinKey, CopyOnWriteArrayList<Consumer<TwinChange>>> perTwin =
      new ConcurrentHashMap<>();

  private ShardedTwinStore(
      Vertx vertx, TwinRepository repository, TwinEngineConfig config, Clock clock) {
    this.repository = repository;
    this.config = config;
    this.clock = clock;
    this.shards = new Shard[config.shards()];
    for (int i = 0; i < shards.length; i++) {
      // Called off any context, each getOrCreateContext takes the next event loop.
      shards[i] = new Shard(vertx.getOrCreateContext());
    }
  }

  /**
   * Loads stored twins and pairs them with the registry's identities: a stored twin whose
   * generation matches is kept, an identity without one gets an empty twin, and stored twins
   * without an identity are deleted.
   *
   * @param identities calls its argument once per device and module identity
   */
  public static Future<ShardedTwinStore> open(
      Vertx vertx,
      TwinRepository repository,
      TwinEngineConfig config,
      Clock clock,
      Consumer<BiConsumer<TwinKey, TwinIdentity>> identities) {
    ShardedTwinStore store = new ShardedTwinStore(vertx, repository, config, clock);
    Map<TwinKey, String> generations = new ConcurrentHashMap<>();
    return repository
        .loadAll(
            stored -> {
              // Generation first: pairing reads both maps once loading is complete.
              generations.put(stored.key(), stored.generationId());
              store.twins.put(
                  stored.key(),
                  TwinCodec.decode(stored.key(), stored.version(), stored.state(), null));
            })
        .compose(
            v ->
                vertx.executeBlocking(
                    () -> {
                      pair(store, generations, identities);
                      return null;
                    },
                    false))
        .compose(
            v -> {
              // What is left was stored for identities that no longer exist.
              List<TwinKey> orphans = new ArrayList<>(generations.keySet());
              orphans.forEach(store.twins::remove);
              if (orphans.isEmpty()) {
                return Future.succeededFuture(store);
              }
              LOG.info("removing twins without identity [count: {}]", orphans.size());
              return repository.write(List.of(), orphans, List.of()).map(x -> store);
            });
  }

  /** Gives every identity its twin; runs on a worker, since a fleet may be millions. */
  private static void pair(
      ShardedTwinStore store,
      Map<TwinKey, String> generations,
      Consumer<BiConsumer<TwinKey, TwinIdentity>> identities) {
    identities.accept(
        (key, identity) -> {
          Twin loaded = store.twins.get(key);
          String generation = generations.remove(key);
          if (loaded != null && identity.generationId().equals(generation)) {
            store.twins.put(key, loaded.withIdentity(identity));
          } else {
            store.twins.put(key, Twin.empty(key, identity));
          }
          store.shardOf(key).index(key);
        });
  }

  private Shard shardOf(TwinKey key) {
    return shards[Math.floorMod(key.deviceId().hashCode(), shards.length)];
  }

  // ---- reads

  @Override
  public Optional<Twin> find(TwinKey key) {
    return Optional.ofNullable(twins.get(key));
  }

  @Override
  public void forEach(Consumer<Twin> action) {
    twins.values().forEach(action);
  }

  @Override
  public long size() {
    return twins.size();
  }

  // ---- changes

  /** What one change does to the shard's view of its twins; runs on the shard. */
  private interface Change<T> {
    /** Applies the change; returns the caller's result, or throws a HubException. */
    T apply(Batch batch);
  }

  @Override
  public Future<Twin> ensure(TwinKey key, TwinIdentity identity) {
    return submit(
        key,
        true,
        batch -> {
          Twin current = batch.get(key);
          if (current == null
              || !current.identity().generationId().equals(identity.generationId())) {
            Twin fresh = Twin.empty(key, identity);
            batch.replaceQuietly(key, fresh);
            batch.event(new TwinChange(TwinChange.Kind.CREATED, key, null, fresh));
            return fresh;
          }
          return withIdentity(batch, current, identity);
        });
  }

  /** The twin with new registry fields, kept in memory only; unchanged when they are equal. */
  private static Twin withIdentity(Batch batch, Twin current, TwinIdentity identity) {
    if (current.identity().equals(identity)) {
      return current;
    }
    Twin next = current.withIdentity(identity);
    batch.replaceQuietly(current.key(), next);
    TwinChange.Kind kind = TwinChange.Kind.IDENTITY;
    if (!Objects.equals(current.identity().connectionState(), identity.connectionState())) {
      kind =
          "Connected".equals(identity.connectionState())
              ? TwinChange.Kind.CONNECTED
              : TwinChange.Kind.DISCONNECTED;
    }
    batch.event(new TwinChange(kind, current.key(), null, next));
    return next;
  }

  @Override
  public Future<Void> updateIdentity(TwinKey key, TwinIdentity identity) {
    return submit(
            key,
            true,
            batch -> {
              Twin current = batch.get(key);
              if (current != null) {
                withIdentity(batch, current, identity);
              }
              return null;
            })
        .mapEmpty();
  }

  @Override
  public Future<Twin> update(TwinKey key, TwinUpdate update) {
    return submit(
        key,
        false,
        batch -> {
          Twin current = require(batch, key);
          if (!Etags.matches(update.ifMatch(), current.etag())) {
            throw HubException.preconditionFailed(
                "ETag " + update.ifMatch() + " does not match the twin's etag of " + key);
          }
          long ticks = Ticks.of(clock.instant());
          TwinNode tags = current.tags();
          TwinNode desired = current.desired();
          long desiredVersion = current.desiredVersion();
          JsonObject desiredEvent = null;
          if (update.replace()) {
            tags = TwinPatch.replace(update.tags(), TwinPatch.Section.TAGS, ticks, 0);
            desiredVersion++;
            desired =
                TwinPatch.replace(
                    update.desired(), TwinPatch.Section.DESIRED, ticks, desiredVersion);
            desiredEvent = TwinJson.values(desired).put("$version", desiredVersion);
          } else {
            if (update.tags() != null) {
              tags = TwinPatch.merge(tags, update.tags(), TwinPatch.Section.TAGS, ticks, 0);
            }
            if (update.desired() != null) {
              desiredVersion++;
              desired =
                  TwinPatch.merge(
                      desired, update.desired(), TwinPatch.Section.DESIRED, ticks, desiredVersion);
              desiredEvent = withoutMetadataKeys(update.desired()).put("$version", desiredVersion);
            }
          }
          Twin next = current.withServiceSide(tags, desired, desiredVersion);
          batch.write(key, next);
          if (update.replace() || update.tags() != null) {
            batch.event(new TwinChange(TwinChange.Kind.TAGS, key, update.tags(), next));
          }
          if (desiredEvent != null) {
            batch.event(new TwinChange(TwinChange.Kind.DESIRED, key, desiredEvent, next));
          }
          return next;
        });
  }

  private static JsonObject withoutMetadataKeys(JsonObject patch) {
    JsonObject copy = patch.copy();
    copy.remove("$metadata");
    copy.remove("$version");
    return copy;
  }

  @Override
  public Future<Twin> patchReported(TwinKey key, JsonObject patch) {
    return submit(
        key,
        false,
        batch -> {
          Twin current = require(batch, key);
          long ticks = Ticks.of(clock.instant());
          long reportedVersion = current.reportedVersion() + 1;
          TwinNode reported =
              TwinPatch.merge(
                  current.reported(), patch, TwinPatch.Section.REPORTED, ticks, reportedVersion);
          Twin next = current.withReported(reported, reportedVersion);
          batch.write(key, next);
          batch.event(new TwinChange(TwinChange.Kind.REPORTED, key, patch, next));
          return next;
        });
  }

  @Override
  public Future<Void> remove(TwinKey key) {
    return submit(
            key,
            true,
            batch -> {
              Twin gone = batch.get(key);
              if (gone != null) {
                batch.delete(key);
                batch.event(new TwinChange(TwinChange.Kind.DELETED, key, null, gone));
              }
              return null;
            })
        .mapEmpty();
  }

  @Override
  public Future<Void> removeDevice(String deviceId) {
    TwinKey deviceKey = TwinKey.device(deviceId);
    return submit(
            deviceKey,
            true,
            batch -> {
              for (TwinKey key : batch.shard.keysOf(deviceId)) {
                Twin gone = batch.get(key);
                if (gone != null) {
                  batch.event(new TwinChange(TwinChange.Kind.DELETED, key, null, gone));
                }
              }
              batch.deleteDevice(deviceId);
              return null;
            })
        .mapEmpty();
  }

  private static Twin require(Batch batch, TwinKey key) {
    Twin t = batch.get(key);
    if (t == null) {
      throw key.isModule()
          ? HubException.moduleNotFound(key.deviceId(), key.moduleId())
          : HubException.deviceNotFound(key.deviceId());
    }
    return t;
  }

  private <T> Future<T> submit(TwinKey key, boolean control, Change<T> change) {
    Promise<T> promise = Promise.promise();
    Context caller = Vertx.currentContext();
    Shard shard = shardOf(key);
    shard.ctx.runOnContext(
        v -> {
          // Registry-driven (control) changes are never refused: losing one would leave a twin
          // out of step with its identity. Writers from outside are pushed back instead.
          if (!control && shard.queue.size() >= config.maxQueue()) {
            promise.fail(
                new HubException(
                    ErrorCode.THROTTLE_BACKLOG_LIMIT_EXCEEDED,
                    "Twin updates are arriving faster than they can be committed; retry"));
            return;
          }
          shard.queue.add(new Queued<>(change, promise, caller));
          if (!shard.committing) {
            shard.drain();
          }
        });
    return promise.future();
  }

  private record Queued<T>(Change<T> change, Promise<T> promise, Context caller) {
    void complete(Object result) {
      @SuppressWarnings("unchecked")
      T r = (T) result;
      if (caller == null) {
        promise.complete(r);
      } else {
        caller.runOnContext(v -> promise.complete(r));
      }
    }

    void fail(Throwable t) {
      if (caller == null) {
        promise.fail(t);
      } else {
        caller.runOnContext(v -> promise.fail(t));
      }
    }
  }

  /** The shard's view while applying one group: changed twins shadow the published ones. */
  private final class Batch {
    final Shard shard;
    final Map<TwinKey, Twin> touched = new LinkedHashMap<>();
    final Set<TwinKey> dirty = new HashSet<>();
    final Set<TwinKey> deleted = new HashSet<>();
    final Set<String> deletedDevices = new HashSet<>();
    final List<TwinChange> events = new ArrayList<>();

    Batch(Shard shard) {
      this.shard = shard;
    }

    Twin get(TwinKey key) {
      if (touched.containsKey(key)) {
        return touched.get(key);
      }
      if (deletedDevices.contains(key.deviceId())) {
        return null;
      }
      return twins.get(key);
    }

    /** A change kept in memory only (identity fields, a fresh empty twin). */
    void replaceQuietly(TwinKey key, Twin twin) {
      touched.put(key, twin);
      deleted.remove(key);
    }

    void write(TwinKey key, Twin twin) {
      touched.put(key, twin);
      dirty.add(key);
      deleted.remove(key);
    }

    void delete(TwinKey key) {
      touched.put(key, null);
      dirty.remove(key);
      deleted.add(key);
    }

    void deleteDevice(String deviceId) {
      for (TwinKey key : shard.keysOf(deviceId)) {
        touched.put(key, null);
        dirty.remove(key);
      }
      deletedDevices.add(deviceId);
    }

    void event(TwinChange change) {
      events.add(change);
    }

    boolean needsWrite() {
      return !dirty.isEmpty() || !deleted.isEmpty() || !deletedDevices.isEmpty();
    }
  }

  private final class Shard {
    final Context ctx;
    final ArrayDeque<Queued<?>> queue = new ArrayDeque<>();

    /** Module ids per device id, so a device's twins can be found without a scan. */
    final Map<String, Set<String>> modules = new HashMap<>();

    boolean committing;

    Shard(Context ctx) {
      this.ctx = ctx;
    }

    void index(TwinKey key) {
      if (key.isModule()) {
        modules.computeIfAbsent(key.deviceId(), d -> new HashSet<>()).add(key.moduleId());
      }
    }

    List<TwinKey> keysOf(String deviceId) {
      List<TwinKey> keys = new ArrayList<>();
      keys.add(TwinKey.device(deviceId));
      for (String m : modules.getOrDefault(deviceId, Set.of())) {
        keys.add(TwinKey.module(deviceId, m));
      }
      return keys;
    }

    void drain() {
      if (queue.isEmpty()) {
        return;
      }
      committing = true;
      Batch batch = new Batch(this);
      List<Queued<?>> applied = new ArrayList<>();
      List<Object> results = new ArrayList<>();
      while (!queue.isEmpty() && applied.size() < config.maxBatch()) {
        Queued<?> q = queue.poll();
        int eventsBefore = batch.events.size();
        try {
          Object result = q.change().apply(batch);
          applied.add(q);
          results.add(result);
        } catch (RuntimeException e) {
          batch.events.subList(eventsBefore, batch.events.size()).clear();
          q.fail(e);
        }
      }
      if (applied.isEmpty()) {
        committing = false;
        drain();
        return;
      }
      Future<Void> written =
          batch.needsWrite()
              ? repository.write(
                  batch.dirty.stream().map(batch.touched::get).toList(),
                  batch.deleted,
                  batch.deletedDevices)
              : Future.succeededFuture();
      written.onComplete(ar -> ctx.runOnContext(v -> finish(batch, applied, results, ar.cause())));
    }

    private void finish(
        Batch batch, List<Queued<?>> applied, List<Object> results, Throwable failure) {
      if (failure != null) {
        LOG.warn("twin commit failed [changes: {}]", applied.size(), failure);
        HubException error =
            new HubException(ErrorCode.SERVER_ERROR, "Twin change could not be stored", failure);
        applied.forEach(q -> q.fail(error));
      } else {
        for (String deviceId : batch.deletedDevices) {
          for (TwinKey key : keysOf(deviceId)) {
            twins.remove(key);
          }
          modules.remove(deviceId);
        }
        batch.touched.forEach(
            (key, twin) -> {
              if (twin == null) {
                twins.remove(key);
                if (key.isModule()) {
                  Set<String> ms = modules.get(key.deviceId());
                  if (ms != null) {
                    ms.remove(key.moduleId());
                  }
                }
              } else {
                twins.put(key, twin);
                index(key);
              }
            });
        // Subscribers first: what they derive from a change (query indexes and columns) is then
        // current before its writer is acknowledged, so a query issued after the ack reads it.
        batch.events.forEach(ShardedTwinStore.this::publish);
        for (int i = 0; i < applied.size(); i++) {
          applied.get(i).complete(results.get(i));
        }
      }
      committing = false;
      drain();
    }
  }

  private void publish(TwinChange change) {
    for (Consumer<TwinChange> l : everyone) {
      deliver(l, change);
    }
    CopyOnWriteArrayList<Consumer<TwinChange>> ls = perTwin.get(change.key());
    if (ls != null) {
      for (Consumer<TwinChange> l : ls) {
        deliver(l, change);
      }
    }
  }

  private static void deliver(Consumer<TwinChange> listener, TwinChange change) {
    try {
      listener.accept(change);
    } catch (RuntimeException e) {
      LOG.warn("twin change listener failed [twin: {}]", change.key(), e);
    }
  }

  // ---- subscriptions

  @Override
  public Subscription subscribe(TwinKey key, Consumer<TwinChange> listener) {
    perTwin.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add(listener);
    return () ->
        perTwin.computeIfPresent(
            key,
            (k, ls) -> {
              ls.remove(listener);
              return ls.isEmpty() ? null : ls;
            });
  }

  @Override
  public Subscription subscribeAll(Consumer<TwinChange> listener) {
    everyone.add(listener);
    return () -> everyone.remove(listener);
  }
}
