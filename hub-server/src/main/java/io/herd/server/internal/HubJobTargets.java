package io.herd.server.internal;

import io.herd.adapter.common.DeviceSessions;
import io.herd.adapter.common.MethodResult;
import io.herd.core.HubException;
import io.herd.core.twin.TwinKey;
import io.herd.query.CompiledQuery;
import io.herd.query.index.IndexPlanner;
import io.herd.query.index.TwinIndex;
import io.herd.registry.DeviceRegistry;
import io.herd.server.jobs.JobEngine;
import io.herd.server.methods.MethodCall;
import io.herd.twin.TwinStore;
import io.herd.twin.TwinUpdate;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/** What jobs act on in a running hub: hot twins, the registry and live device sessions. */
public final class HubJobTargets implements JobEngine.Targets {
  private final Vertx vertx;
  private final DeviceRegistry registry;
  private final TwinStore twins;
  private final DeviceSessions sessions;
  private final Supplier<Map<String, TwinIndex>> indexes;

  public HubJobTargets(
      Vertx vertx,
      DeviceRegistry registry,
      TwinStore twins,
      DeviceSessions sessions,
      Supplier<Map<String, TwinIndex>> indexes) {
    this.vertx = vertx;
    this.registry = registry;
    this.twins = twins;
    this.sessions = sessions;
    this.indexes = indexes;
  }

  @Override
  public Future<List<String>> select(CompiledQuery condition) {
    return vertx.executeBlocking(
        () -> {
          List<String> ids = new ArrayList<>();
          Optional<IndexPlanner.IndexScan> scan = IndexPlanner.choose(condition, indexes.get());
          if (scan.isPresent()) {
            for (TwinKey key : scan.get().candidates()) {
              twins
                  .find(key)
                  .filter(condition::matches)
                  .ifPresent(t -> ids.add(t.key().deviceId()));
            }
          } else {
            twins.forEach(
                t -> {
                  if (condition.matches(t)) {
                    ids.add(t.key().deviceId());
                  }
                });
          }
          ids.sort(null);
          return ids;
        },
        false);
  }

  @Override
  public Future<Void> updateTwin(String deviceId, TwinUpdate update) {
    TwinKey key = TwinKey.device(deviceId);
    // The hot path of a twin job: a hot twin is updated at once; only a missing one is made first.
    if (twins.find(key).isPresent()) {
      return twins.update(key, update).mapEmpty();
    }
    return TwinIdentities.ensure(registry, twins, deviceId, null)
        .compose(t -> twins.update(key, update))
        .mapEmpty();
  }

  @Override
  public Future<MethodResult> invokeMethod(String deviceId, MethodCall m) {
    if (registry.find(deviceId).isEmpty()) {
      return Future.failedFuture(HubException.deviceNotFound(deviceId));
    }
    return sessions.invokeMethod(
        vertx,
        TwinKey.device(deviceId),
        m.methodName(),
        m.payload(),
        Duration.ofSeconds(m.responseTimeoutInSeconds()),
        Duration.ofSeconds(m.connectTimeoutInSeconds()));
  }
}
