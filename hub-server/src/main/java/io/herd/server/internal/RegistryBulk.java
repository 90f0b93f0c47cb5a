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
    return apply(ops, List.of());
  }

  /**
   * Like {@link #apply(List)}, and applies the twin parts alone of {@code twinPartsOnly}: entries
   * whose identity part an interrupted import applied already. At most 100 entries in all, on
   * distinct devices.
   */
  public Future<BulkResult> apply(List<BulkOperation> ops, List<BulkOperation> twinPartsOnly) {
    Future<BulkResult> identities =
        ops.isEmpty() ? Future.succeededFuture(new BulkResult(List.of())) : registry.bulk(ops);
    List<BulkOperation> all = new ArrayList<>(ops);
    all.addAll(twinPartsOnly);
    return identities.compose(r -> applyTwinParts(all, r));
  }

  /** Whether applying the entry changes its twin: it has a twin part and does not delete. */
  public static boolean hasTwinPart(BulkOperation op) {
    return op.twin() != null
        && op.mode() != ImportMode.DELETE
        && op.mode() != ImportMode.DELETE_IF_MATCH_ETAG;
  }

  private Future<BulkResult> applyTwinParts(List<BulkOperation> ops, BulkResult identities) {
    Set<String> failed = new HashSet<>();
    identities.errors().forEach(e -> failed.add(e.deviceId()));
    List<Future<?>> updates = new ArrayList<>();
    List<BulkError> errors = new ArrayList<>(identities.errors());
    for (BulkOperation op : ops) {
      String id = op.device().deviceId();
      if (!hasTwinPart(op) || failed.contains(id)) {
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
