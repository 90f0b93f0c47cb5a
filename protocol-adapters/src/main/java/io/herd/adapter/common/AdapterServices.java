package io.herd.adapter.common;

import io.herd.registry.DeviceRegistry;
import io.herd.twin.TwinStore;
import java.time.Clock;

/** What every protocol adapter works with; built once by the hub's wiring. */
public record AdapterServices(
    DeviceAuthenticator authenticator,
    DeviceSessions sessions,
    DeviceRegistry registry,
    TwinStore twins,
    EventSink events,
    Clock clock) {}
