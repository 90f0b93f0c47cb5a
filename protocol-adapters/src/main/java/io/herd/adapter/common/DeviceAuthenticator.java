package io.herd.adapter.common;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.registry.Authentication;
import io.herd.registry.Device;
import io.herd.registry.DeviceRegistry;
import io.herd.registry.Module;
import io.herd.registry.SasAuthenticator;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;

/**
 * Authenticates device and module connections for every protocol: a SAS token (the identity's own
 * key or a DeviceConnect policy) or an X.509 client certificate, and a device that is enabled.
 */
public final class DeviceAuthenticator {
  private final DeviceRegistry registry;
  private final SasAuthenticator sas;
  private final X509Verifier x509;
  private final Clock clock;

  public DeviceAuthenticator(
      DeviceRegistry registry, SasAuthenticator sas, X509Verifier x509, Clock clock) {
    this.registry = registry;
    this.sas = sas;
    this.x509 = x509;
    this.clock = clock;
  }

  /** A successful authentication: who, and until when (epoch millis; Long.MAX_VALUE for X.509). */
  public record Authenticated(DeviceIdentity identity, long expiresAtMillis) {}

  /**
   * Authenticates with a SAS token.
   *
   * @param requestHost the host name the client addressed, accepted as token audience too
   * @throws HubException 401 (bad token, unknown identity) or 403 DeviceDisabled
   */
  public Authenticated withToken(
      String deviceId, String moduleId, String token, String requestHost) {
    Authentication auth = credentials(deviceId, moduleId);
    long expiry = sas.authenticateDevice(token, deviceId, moduleId, auth, requestHost);
    requireEnabled(deviceId);
    // The connection ends when the token expires; one accepted within the clock skew although
    // already expired gets the rest of the skew.
    long expiresAt =
        expiry * 1000 > clock.millis()
            ? expiry * 1000
            : (expiry + SasAuthenticator.MAX_CLOCK_SKEW_SECONDS) * 1000;
    return new Authenticated(new DeviceIdentity(deviceId, moduleId, "sas"), expiresAt);
  }

  /**
   * Authenticates with the client certificate chain of the TLS handshake.
   *
   * @throws HubException 401 (no or wrong certificate, unknown identity) or 403 DeviceDisabled
   */
  public Authenticated withCertificate(
      String deviceId, String moduleId, List<X509Certificate> chain) {
    if (chain == null || chain.isEmpty()) {
      throw new HubException(
          ErrorCode.IOT_HUB_UNAUTHORIZED_ACCESS,
          "Unauthorized: no password (SAS token) and no client certificate");
    }
    if (credentials(deviceId, moduleId) == null) {
      throw new HubException(
          ErrorCode.IOT_HUB_UNAUTHORIZED_ACCESS,
          "Unauthorized: " + describe(deviceId, moduleId) + " is not registered");
    }
    x509.verify(deviceId, moduleId, chain);
    requireEnabled(deviceId);
    return new Authenticated(new DeviceIdentity(deviceId, moduleId, "x509"), Long.MAX_VALUE);
  }

  private Authentication credentials(String deviceId, String moduleId) {
    if (moduleId == null) {
      return registry.find(deviceId).map(Device::authentication).orElse(null);
    }
    return registry.findModule(deviceId, moduleId).map(Module::authentication).orElse(null);
  }

  private void requireEnabled(String deviceId) {
    Device d = registry.find(deviceId).orElse(null);
    if (d == null) {
      throw new HubException(
          ErrorCode.IOT_HUB_UNAUTHORIZED_ACCESS,
          "Unauthorized: device '" + deviceId + "' is not registered");
    }
    if (!d.enabled()) {
      throw new HubException(ErrorCode.DEVICE_DISABLED, "Device '" + deviceId + "' is disabled");
    }
  }

  private static String describe(String deviceId, String moduleId) {
    return moduleId == null
        ? "device '" + deviceId + "'"
        : "module '" + moduleId + "' of device '" + deviceId + "'";
  }
}
