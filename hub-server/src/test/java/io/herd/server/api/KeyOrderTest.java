package io.herd.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinKey;
import io.herd.core.twin.TwinNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class KeyOrderTest {
  private static Twin twin(TwinKey key) {
    return new Twin(key, 1, TwinNode.EMPTY, TwinNode.EMPTY, 1, TwinNode.EMPTY, 1, null);
  }

  private static List<TwinKey> keys(Twin[] twins) {
    return Arrays.stream(twins).map(Twin::key).toList();
  }

  @Test
  void sortsLikeComparingTheKeys() {
    Random r = new Random(11);
    String[] alphabet = {"a", "b", "A", "0", "9", "-", "\u00e9", "\u20ac", "\ud83d\ude00"};
    for (int round = 0; round < 200; round++) {
      String prefix = r.nextBoolean() ? "bench-d06319a2-" : "";
      List<Twin> twins = new ArrayList<>();
      int n = r.nextInt(300);
      for (int i = 0; i < n; i++) {
        StringBuilder id = new StringBuilder(prefix);
        for (int k = r.nextInt(9); k > 0; k--) {
          id.append(alphabet[r.nextInt(alphabet.length)]);
        }
        twins.add(
            twin(
                r.nextInt(4) == 0
                    ? TwinKey.module(id.toString(), "m" + r.nextInt(3))
                    : TwinKey.device(id.toString())));
      }
      Twin[] sorted = twins.toArray(Twin[]::new);
      KeyOrder.sort(sorted);
      List<TwinKey> expected = new ArrayList<>(twins.stream().map(Twin::key).toList());
      expected.sort(KeyOrder.KEYS);
      assertThat(keys(sorted)).isEqualTo(expected);
    }
  }

  @Test
  void aDeviceComesBeforeItsModulesAndShorterIdsFirst() {
    Twin[] twins = {
      twin(TwinKey.module("d1", "m")),
      twin(TwinKey.device("d10")),
      twin(TwinKey.device("d1")),
      twin(TwinKey.device("d")),
    };
    KeyOrder.sort(twins);
    assertThat(keys(twins))
        .containsExactly(
            TwinKey.device("d"),
            TwinKey.device("d1"),
            TwinKey.module("d1", "m"),
            TwinKey.device("d10"));
  }
}
