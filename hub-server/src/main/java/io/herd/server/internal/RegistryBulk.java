package io.herd.server.internal;

import io.herd.core.HubException;
import io.herd.registry.BulkError;
import io.herd.registry.BulkOperation;
import io.herd.registry.BulkResult;
import io.herd.registry.DeviceRegistry;
import io.herd.registry.ImportMode;
import io.herd.twin.TwinStore;
import io.herd.twin.TwinUpdate;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Bulk registry operations with their twin parts, for {@code POST /devices} and import jobs: the
 * identities in one registry call, then the tags and desired properties of the entries whose
 * identity part succeeded (replacing the twin's for the updateTwin modes, merging otherwise).
 */
public final class RegistryBulk {
  private final DeviceRegistry registry;
  private final TwinStore twins;

  public RegistryBulk(DeviceRegistry registry, TwinStore twins) {
    this.registry = registry;
    this.twins = twins;
  }

  /**
   * Applies up to 100 operations on distinct devices; per-entry failures, of the identity or the
   * twin part, are in the result. Completes on the caller's context.
   */
  public Future<BulkResult> apply(List<BulkOperation> ops) {
    return registry.bulk(ops).compose(r -> applyTwinParts(ops, r));
  }

  private Future<BulkResult> applyTwinParts(List<BulkOperation> ops, BulkResult identities) {
    Set<String> failed = new HashSet<>();
    identities.errors().forEach(e -> failed.add(e.deviceId()));
    List<Future<?>> updates = new ArrayList<>();
    List<BulkError> errors = new ArrayList<>(identities.errors());
    for (BulkOperation op : ops) {
      String id = op.device().deviceId();
      boolean deleting =
          op.mode() == ImportMode.DELETE || op.mode() == ImportMode.DELETE_IF_MATCH_ETAG;
      if (op.twin() == null || failed.contains(id) || deleting) {
        continue;
      }
      JsonObject properties = op.twin().getJsonObject("properties");
      TwinUpdate update =
          new TwinUpdate(
              op.twin().getJsonObject("tags"),
              properties == null ? null : properties.getJsonObject("desired"),
              op.mode().touchesTwinOnly(),
              op.mode() == ImportMode.UPDATE_TWIN_IF_MATCH_ETAG
                  ? op.twin().getString("etag")
                  : null);
      updates.add(
          TwinIdentities.ensure(registry, twins, id, null)
              .compose(t -> twins.update(t.key(), update))
              .recover(
                  e -> {
                    HubException he = HubException.from(e);
                    // Completions arrive on the caller's context, one at a time.
                    errors.add(new BulkError(id, null, he.errorCode(), he.getMessage()));
                    return Future.succeededFuture();
                  }));
    }
    return Future.join(updates).map(v -> new BulkResult(errors));
  }
}
