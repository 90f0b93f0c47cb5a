package io.herd.registry;

import java.util.List;

/**
 * What a client may set on a device; the registry owns everything else (generation, etag,
 * connection state, times).
 *
 * @param authentication null to keep the current credentials on update or to generate SAS keys on
 *     create; keys left empty are generated
 */
public record DeviceSpec(
    String deviceId,
    DeviceStatus status,
    String statusReason,
    Authentication authentication,
    boolean iotEdge,
    String deviceScope,
    List<String> parentScopes) {}
