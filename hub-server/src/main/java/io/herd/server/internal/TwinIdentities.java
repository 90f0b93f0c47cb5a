package io.herd.server.internal;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinIdentity;
import io.herd.core.twin.TwinKey;
import io.herd.registry.Device;
import io.herd.registry.DeviceRegistry;
import io.herd.registry.IdentityChange;
import io.herd.registry.Module;
import io.herd.twin.TwinStore;
import io.vertx.core.Future;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the twin engine in step with the registry: the registry's identity fields as twins show
 * them, and twins made and removed with their identities. Lives here because neither module may
 * know the other.
 */
public final class TwinIdentities {
  private static final Logger LOG = LoggerFactory.getLogger(TwinIdentities.class);

  private TwinIdentities() {}

  public static TwinIdentity of(Device d) {
    return new TwinIdentity(
        d.generationId(),
        d.etag(),
        d.status().wire(),
        d.statusUpdatedTime(),
        d.connectionState().wire(),
        d.lastActivityTime(),
        d.cloudToDeviceMessageCount(),
        d.authentication().type().wire(),
        d.authentication().primaryThumbprint(),
        d.authentication().secondaryThumbprint(),
        "",
        d.iotEdge());
  }

  /** A module twin shows its own credentials and connection, and its device's status. */
  public static TwinIdentity of(Module m, Device parent) {
    return new TwinIdentity(
        m.generationId(),
        m.etag(),
        parent == null ? "enabled" : parent.status().wire(),
        parent == null ? null : parent.statusUpdatedTime(),
        m.connectionState().wire(),
        m.lastActivityTime(),
        m.cloudToDeviceMessageCount(),
        m.authentication().type().wire(),
        m.authentication().primaryThumbprint(),
        m.authentication().secondaryThumbprint(),
        "",
        false);
  }

  /** Every identity with its key, for loading the twin engine. */
  public static void forEach(DeviceRegistry registry, BiConsumer<TwinKey, TwinIdentity> sink) {
    registry.forEachIdentity(
        d -> sink.accept(TwinKey.device(d.deviceId()), of(d)),
        m ->
            sink.accept(
                TwinKey.module(m.deviceId(), m.moduleId()),
                of(m, registry.find(m.deviceId()).orElse(null))));
  }

  /**
   * The twin of a registered identity ({@code moduleId} null for a device), made on first use if
   * the engine has none yet. The registry may be a step ahead of the twin (it follows
   * asynchronously); the twin returned shows the registry's state. Fails with DeviceNotFound or
   * ModuleNotFound.
   */
  public static Future<Twin> ensure(
      DeviceRegistry registry, TwinStore twins, String deviceId, String moduleId) {
    if (moduleId == null) {
      return registry.get(deviceId).compose(d -> current(twins, TwinKey.device(deviceId), of(d)));
    }
    return registry
        .getModule(deviceId, moduleId)
        .compose(
            m ->
                current(
                    twins,
                    TwinKey.module(deviceId, moduleId),
                    of(m, registry.find(deviceId).orElse(null))));
  }

  private static Future<Twin> current(TwinStore twins, TwinKey key, TwinIdentity identity) {
    Twin t = twins.find(key).orElse(null);
    return t != null && t.identity().equals(identity)
        ? Future.succeededFuture(t)
        : twins.ensure(key, identity);
  }

  /** Follows registry changes into the twin engine. */
  public static void follow(DeviceRegistry registry, TwinStore twins) {
    registry.onChange(
        change -> {
          Future<?> f;
          if (change instanceof IdentityChange.PutDevice p) {
            f = twins.ensure(TwinKey.device(p.device().deviceId()), of(p.device()));
          } else if (change instanceof IdentityChange.DeleteDevice d) {
            f = twins.removeDevice(d.deviceId());
          } else if (change instanceof IdentityChange.PutModule p) {
            Module m = p.module();
            f =
                twins.ensure(
                    TwinKey.module(m.deviceId(), m.moduleId()),
                    of(m, registry.find(m.deviceId()).orElse(null)));
          } else if (change instanceof IdentityChange.DeleteModule d) {
            f = twins.remove(TwinKey.module(d.deviceId(), d.moduleId()));
          } else {
            return;
          }
          f.onFailure(
              e -> LOG.warn("twin did not follow an identity change [change: {}]", change, e));
        });
  }
}
