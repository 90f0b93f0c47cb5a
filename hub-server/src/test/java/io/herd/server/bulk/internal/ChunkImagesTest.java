package io.herd.server.bulk.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.registry.BulkOperation;
import io.herd.registry.DeviceSpec;
import io.herd.registry.DeviceStatus;
import io.herd.registry.ImportMode;
import io.herd.server.bulk.ImportChunk.PreImage;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChunkImagesTest {
  private static final JsonObject TAGS = new JsonObject().put("tags", new JsonObject().put("a", 1));

  private static BulkOperation op(String id, ImportMode mode, JsonObject twin) {
    return new BulkOperation(
        mode, new DeviceSpec(id, DeviceStatus.ENABLED, null, null, false, null, null), null, twin);
  }

  private static Map.Entry<String, PreImage> image(String id, String etag, Long twin) {
    return Map.entry(id, new PreImage(id, etag, twin));
  }

  @SafeVarargs
  private static Map<String, PreImage> images(Map.Entry<String, PreImage>... entries) {
    return Map.ofEntries(entries);
  }

  @Test
  void devicesAsTheyWereAreAppliedAgainAndChangedOnesCountAsApplied() {
    List<BulkOperation> ops =
        List.of(
            op("untouched", ImportMode.CREATE, null),
            op("created", ImportMode.CREATE, null),
            op("deleted", ImportMode.DELETE, TAGS),
            op("updated", ImportMode.UPDATE, null));
    ChunkImages.Replay replay =
        ChunkImages.replay(
            ops,
            images(
                image("untouched", "MQ==", null),
                image("created", null, null),
                image("deleted", "Mg==", null),
                image("updated", "Mw==", null)),
            images(
                image("untouched", "MQ==", null),
                image("created", "OQ==", null),
                image("deleted", null, null),
                image("updated", "MTA=", null)));
    assertThat(replay.apply()).containsExactly(ops.get(0));
    assertThat(replay.twinPartsOnly()).isEmpty();
    assertThat(replay.applied()).isEqualTo(3);
  }

  @Test
  void anIdentityAppliedWithoutItsTwinPartGetsTheTwinPartAlone() {
    List<BulkOperation> ops =
        List.of(
            op("both", ImportMode.CREATE_OR_UPDATE, TAGS),
            op("identity", ImportMode.CREATE, TAGS),
            op("neither", ImportMode.CREATE_OR_UPDATE, TAGS));
    ChunkImages.Replay replay =
        ChunkImages.replay(
            ops,
            images(
                image("both", "MQ==", 3L), image("identity", null, 0L), image("neither", null, 0L)),
            images(
                image("both", "NQ==", 4L),
                image("identity", "Ng==", 0L),
                image("neither", null, 0L)));
    assertThat(replay.apply()).containsExactly(ops.get(2));
    assertThat(replay.twinPartsOnly()).containsExactly(ops.get(1));
    assertThat(replay.applied()).isEqualTo(1);
  }

  @Test
  void aTwinOnlyLineIsDoneWhenItsTwinChangedWhateverTheIdentity() {
    List<BulkOperation> ops =
        List.of(
            op("twinned", ImportMode.UPDATE_TWIN_IF_MATCH_ETAG, TAGS),
            op("not-yet", ImportMode.UPDATE_TWIN, TAGS));
    ChunkImages.Replay replay =
        ChunkImages.replay(
            ops,
            images(image("twinned", "MQ==", 2L), image("not-yet", "Mg==", 5L)),
            // The identity of not-yet changed meanwhile, not by this chunk: its line did not apply.
            images(image("twinned", "MQ==", 3L), image("not-yet", "Nw==", 5L)));
    assertThat(replay.apply()).containsExactly(ops.get(1));
    assertThat(replay.twinPartsOnly()).isEmpty();
    assertThat(replay.applied()).isEqualTo(1);
  }

  @Test
  void aDeviceTheRecordedChunkDidNotHaveIsApplied() {
    List<BulkOperation> ops = List.of(op("other", ImportMode.CREATE_OR_UPDATE, null));
    ChunkImages.Replay replay =
        ChunkImages.replay(ops, images(), images(image("other", "MQ==", null)));
    assertThat(replay.apply()).isEqualTo(ops);
    assertThat(replay.applied()).isZero();
  }
}
