package io.herd.registry;

import java.time.Instant;

/**
 * Who a client certificate authenticated as.
 *
 * @param moduleId null for a device
 * @param type {@code SELF_SIGNED} or {@code CERTIFICATE_AUTHORITY}
 * @param caName the registered CA certificate the chain led to; null for {@code SELF_SIGNED}
 * @param notAfter when the client certificate expires
 */
public record X509Identity(
    String deviceId, String moduleId, AuthenticationType type, String caName, Instant notAfter) {}
