package io.herd.core.twin;

import java.time.Instant;

/**
 * The identity-registry fields a twin shows (azure-iothub-wire.md §5.4). The registry owns them;
 * the twin engine keeps a copy so twin reads and queries need no second lookup.
 *
 * @param generationId tells a re-created device's twin from the deleted one's
 */
public record TwinIdentity(
    String generationId,
    String deviceEtag,
    String status,
    Instant statusUpdateTime,
    String connectionState,
    Instant lastActivityTime,
    int cloudToDeviceMessageCount,
    String authenticationType,
    String primaryThumbprint,
    String secondaryThumbprint,
    String modelId,
    boolean iotEdge) {

  /** A copy with another connection state. */
  public TwinIdentity withConnection(String state, Instant lastActivity) {
    return new TwinIdentity(
        generationId,
        deviceEtag,
        status,
        statusUpdateTime,
        state,
        lastActivity,
        cloudToDeviceMessageCount,
        authenticationType,
        primaryThumbprint,
        secondaryThumbprint,
        modelId,
        iotEdge);
  }
}
