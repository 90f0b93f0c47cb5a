package io.herd.twin;

/**
 * Tuning of the twin engine.
 *
 * @param shards single-writer shards, spread over the event loops
 * @param maxBatch most changes committed in one transaction
 * @param maxQueue changes a shard accepts ahead of its commits; beyond it writers get 429002
 */
public record TwinEngineConfig(int shards, int maxBatch, int maxQueue) {
  public TwinEngineConfig {
    if (shards < 1 || maxBatch < 1 || maxQueue < 1) {
      throw new IllegalArgumentException("twin engine settings must be positive");
    }
  }

  public static TwinEngineConfig defaults() {
    // Each shard has one commit in flight. Fewer shards make bigger groups, which keeps the cost
    // per change low; one per core measured best (2 cores: 14.5k/s with 2 shards, 11.5k with 1,
    // 11k with 4, 8.4k with 8; scripts/bench/twins --only patch).
    return new TwinEngineConfig(
        Math.max(1, Runtime.getRuntime().availableProcessors()), 2_000, 5_000);
  }
}
