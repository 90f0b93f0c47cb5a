package io.herd.twin;

import io.herd.core.twin.TwinIdentity;
import io.herd.core.twin.TwinKey;
import io.herd.twin.internal.ShardedTwinStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/** Opens the twin engine. */
public final class TwinEngine {
  private TwinEngine() {}

  /**
   * Loads stored twins and pairs them with the identities the registry knows.
   *
   * @param identities calls its argument once per device and module identity
   */
  public static Future<TwinStore> open(
      Vertx vertx,
      TwinRepository repository,
      TwinEngineConfig config,
      Consumer<BiConsumer<TwinKey, TwinIdentity>> identities) {
    return ShardedTwinStore.open(vertx, repository, config, Clock.systemUTC(), identities)
        .map(s -> s);
  }
}
