package io.herd.registry;

/** What a client may set on a module. */
public record ModuleSpec(
    String deviceId, String moduleId, String managedBy, Authentication authentication) {}
