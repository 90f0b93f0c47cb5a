package io.herd.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinIdentity;
import io.herd.core.twin.TwinJson;
import io.herd.core.twin.TwinJsonWriter;
import io.herd.core.twin.TwinKey;
import io.herd.core.twin.TwinNode;
import org.junit.jupiter.api.Test;

class RenderedTwinsTest {
  private static final TwinIdentity ID =
      new TwinIdentity(
          "g", "e", "enabled", null, "Disconnected", null, 0, "sas", null, null, null, false);

  private static Twin twin(String id, long version, String value) {
    TwinNode tags = new TwinNode.Builder(false).put("v", value, 1, 0).build();
    return new Twin(TwinKey.device(id), version, tags, TwinNode.EMPTY, 1, TwinNode.EMPTY, 1, ID);
  }

  private static String render(RenderedTwins cache, Twin t) {
    TwinJsonWriter out = new TwinJsonWriter(16);
    cache.write(out, t, new TwinJsonWriter(16));
    return out.toBuffer().toString();
  }

  @Test
  void aSnapshotRendersOnceAndAChangedTwinRendersAgain() {
    RenderedTwins cache = new RenderedTwins(1 << 20);
    Twin a = twin("d", 2, "one");
    assertThat(render(cache, a)).isEqualTo(TwinJson.write(a).toString());
    assertThat(render(cache, a)).isEqualTo(TwinJson.write(a).toString());
    assertThat(cache.hits()).isEqualTo(1);
    // Same key, same content, another snapshot: never served from the old one's bytes.
    Twin b = twin("d", 3, "two");
    assertThat(render(cache, b)).isEqualTo(TwinJson.write(b).toString());
    assertThat(cache.misses()).isEqualTo(2);
  }

  @Test
  void keepsAboutTheBoundAndTheRecentlyUsed() {
    RenderedTwins cache = new RenderedTwins(20_000);
    Twin hot = twin("hot", 2, "x");
    for (int i = 0; i < 2_000; i++) {
      render(cache, twin("d" + i, 2, "value " + i));
      render(cache, hot);
      assertThat(cache.bytes()).isLessThanOrEqualTo(20_000 + 1_000);
    }
    assertThat(cache.misses()).isEqualTo(2_000 + 1);
    assertThat(cache.hits()).isEqualTo(1_999);
  }

  @Test
  void nothingIsKeptWithABoundOfZero() {
    RenderedTwins cache = new RenderedTwins(0);
    Twin a = twin("d", 2, "one");
    assertThat(render(cache, a))
        .isEqualTo(render(cache, a))
        .isEqualTo(TwinJson.write(a).toString());
    assertThat(cache.bytes()).isZero();
    assertThat(cache.hits()).isZero();
  }
}
