package io.herd.server.bulk.internal;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinKey;
import io.herd.registry.BulkOperation;
import io.herd.registry.Device;
import io.herd.registry.DeviceRegistry;
import io.herd.server.bulk.ImportChunk;
import io.herd.server.bulk.ImportChunk.PreImage;
import io.herd.server.internal.RegistryBulk;
import io.herd.twin.TwinStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The pre-images of an import chunk's devices, and what comparing them with the devices as they are
 * now tells about an attempt at the chunk that a crash interrupted.
 *
 * <p>Every change the registry commits gives the identity a new etag (versions grow hub-wide), and
 * every twin part gives the twin a new {@link Twin#serviceVersion}, which the device's reported
 * properties leave alone. So a device whose etag or twin service version differs from its pre-image
 * was changed by the interrupted attempt, and one that is as it was was not: that attempt either
 * failed on it or never got to it, and applying it now has the outcome the attempt would have had.
 * The one thing a comparison cannot tell is a change another client made to one of the chunk's
 * devices between the pre-image and the crash; it is taken for the import's.
 */
public final class ChunkImages {
  private final DeviceRegistry registry;
  private final TwinStore twins;

  public ChunkImages(DeviceRegistry registry, TwinStore twins) {
    this.registry = registry;
    this.twins = twins;
  }

  /**
   * What the devices of {@code ops} are now, in their order. Reads committed state, so call it when
   * no change of the import is in flight.
   */
  public List<PreImage> of(List<BulkOperation> ops) {
    List<PreImage> out = new ArrayList<>(ops.size());
    for (BulkOperation op : ops) {
      String id = op.device().deviceId();
      Device d = registry.find(id).orElse(null);
      Long twin = null;
      if (RegistryBulk.hasTwinPart(op)) {
        Twin t = d == null ? null : twins.find(TwinKey.device(id)).orElse(null);
        // A twin left from an earlier device of this id is replaced by an empty one before a twin
        // part applies, and the twin engine may not have followed a new device yet.
        boolean current = t != null && t.identity().generationId().equals(d.generationId());
        twin = current ? t.serviceVersion() : 0L;
      }
      out.add(new PreImage(id, d == null ? null : d.etag(), twin));
    }
    return out;
  }

  /**
   * The operations of an interrupted chunk, sorted by what the interrupted attempt did.
   *
   * @param apply not reached by the attempt (or failed): to apply as usual
   * @param twinPartsOnly identity part applied, twin part not: to apply the twin part of
   * @param applied how many the attempt applied whole; they count as succeeded
   */
  public record Replay(List<BulkOperation> apply, List<BulkOperation> twinPartsOnly, int applied) {}

  /** Sorts {@code ops}, which {@code interrupted} recorded, by comparing them with now. */
  public Replay replay(List<BulkOperation> ops, ImportChunk interrupted) {
    return replay(ops, byDevice(interrupted.devices()), byDevice(of(ops)));
  }

  static Replay replay(
      List<BulkOperation> ops, Map<String, PreImage> before, Map<String, PreImage> now) {
    List<BulkOperation> apply = new ArrayList<>();
    List<BulkOperation> twinPartsOnly = new ArrayList<>();
    int applied = 0;
    for (BulkOperation op : ops) {
      PreImage was = before.get(op.device().deviceId());
      PreImage is = now.get(op.device().deviceId());
      if (was == null) {
        // Not in the chunk recorded: the input changed since; nothing to compare with.
        apply.add(op);
        continue;
      }
      boolean twinPart = RegistryBulk.hasTwinPart(op);
      boolean twinDone =
          twinPart && !Objects.equals(was.twinServiceVersion(), is.twinServiceVersion());
      if (op.mode().touchesTwinOnly()) {
        // The identity part only checks that the device exists.
        if (twinDone) {
          applied++;
        } else {
          apply.add(op);
        }
      } else if (Objects.equals(was.etag(), is.etag())) {
        apply.add(op);
      } else if (twinPart && !twinDone) {
        twinPartsOnly.add(op);
      } else {
        applied++;
      }
    }
    return new Replay(apply, twinPartsOnly, applied);
  }

  private static Map<String, PreImage> byDevice(List<PreImage> images) {
    Map<String, PreImage> out = new HashMap<>();
    images.forEach(i -> out.put(i.deviceId(), i));
    return out;
  }
}
