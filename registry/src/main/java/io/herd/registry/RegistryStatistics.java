package io.herd.registry;

/** Counts for {@code GET /statistics/devices} and {@code /statistics/service}. */
public record RegistryStatistics(
    long totalDeviceCount,
    long enabledDeviceCount,
    long disabledDeviceCount,
    long connectedDeviceCount) {}
