package io.herd.registry;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/** An in-memory IdentityStore that can be told to fail, for registry unit tests. */
public final class FakeIdentityStore implements IdentityStore {
  public final Map<String, Device> devices = new ConcurrentHashMap<>();
  public final Map<String, Module> modules = new ConcurrentHashMap<>();
  public final List<List<IdentityChange>> commits = new ArrayList<>();
  public volatile boolean failNext;

  @Override
  public Future<Long> loadAll(Consumer<Device> d, Consumer<Module> m) {
    long max = 0;
    for (Device x : devices.values()) {
      d.accept(x);
      max = Math.max(max, x.version());
    }
    for (Module x : modules.values()) {
      m.accept(x);
      max = Math.max(max, x.version());
    }
    return Future.succeededFuture(max);
  }

  @Override
  public synchronized Future<Void> apply(List<IdentityChange> changes) {
    if (failNext) {
      failNext = false;
      return Future.failedFuture(new IllegalStateException("disk on fire"));
    }
    commits.add(List.copyOf(changes));
    for (IdentityChange c : changes) {
      if (c instanceof IdentityChange.PutDevice p) {
        devices.put(p.device().deviceId(), p.device());
      } else if (c instanceof IdentityChange.DeleteDevice x) {
        devices.remove(x.deviceId());
        modules.keySet().removeIf(k -> k.startsWith(x.deviceId() + "/"));
      } else if (c instanceof IdentityChange.PutModule p) {
        modules.put(p.module().deviceId() + "/" + p.module().moduleId(), p.module());
      } else if (c instanceof IdentityChange.DeleteModule x) {
        modules.remove(x.deviceId() + "/" + x.moduleId());
      }
    }
    return Future.succeededFuture();
  }
}
