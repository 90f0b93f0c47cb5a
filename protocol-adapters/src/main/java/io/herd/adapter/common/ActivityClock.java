package io.herd.adapter.common;

import io.herd.registry.DeviceRegistry;
import java.time.Clock;
import java.time.Instant;

/**
 * Keeps an identity's {@code lastActivityTime} in the registry, coarsely: at most one update per
 * second, however many messages the device sends. One per connection of an identity; not
 * thread-safe (it lives on the connection's context).
 */
public final class ActivityClock {
  private static final long GRANULARITY_MS = 1000;

  private final DeviceRegistry registry;
  private final Clock clock;
  private final String deviceId;
  private final String moduleId;
  private long lastMs;

  public ActivityClock(DeviceRegistry registry, Clock clock, String deviceId, String moduleId) {
    this.registry = registry;
    this.clock = clock;
    this.deviceId = deviceId;
    this.moduleId = moduleId;
  }

  /** The device did something now. */
  public void touch() {
    long now = clock.millis();
    if (now - lastMs >= GRANULARITY_MS) {
      lastMs = now;
      registry.activity(deviceId, moduleId, Instant.ofEpochMilli(now));
    }
  }
}
