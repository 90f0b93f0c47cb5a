package io.herd.registry;

import io.vertx.core.Future;
import java.util.List;

/** Durable storage of the hub's shared access policies. */
public interface PolicyStore {
  Future<List<AccessPolicy>> load();

  /** Inserts policies that do not exist yet; existing ones are left alone. */
  Future<Void> insertMissing(List<AccessPolicy> policies);
}
