package io.herd.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinKey;
import io.herd.core.twin.TwinNode;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class QueryResultsTest {
  private final AtomicLong now = new AtomicLong();

  private static Twin[] twins(int n) {
    Twin[] out = new Twin[n];
    for (int i = 0; i < n; i++) {
      out[i] =
          new Twin(
              TwinKey.device("d" + i),
              1,
              TwinNode.EMPTY,
              TwinNode.EMPTY,
              1,
              TwinNode.EMPTY,
              1,
              null);
    }
    return out;
  }

  @Test
  void keysAreFoundByIdAndQueryTextOnly() {
    QueryResults results = new QueryResults(4, 1_000, 100, now::get);
    QueryResults.Entry e = results.put("SELECT * FROM devices", twins(3), -1);
    assertThat(results.get(e.id, "SELECT * FROM devices").twins).hasSize(3);
    assertThat(results.get(e.id, "SELECT * FROM devices.modules")).isNull();
    assertThat(results.get("unknown", "SELECT * FROM devices")).isNull();
    assertThat(results.get(null, "SELECT * FROM devices")).isNull();
    assertThat(results.put("SELECT * FROM devices", twins(1), -1).id).isNotEqualTo(e.id);
  }

  @Test
  void idleEntriesExpireAndUseKeepsThemAlive() {
    QueryResults results = new QueryResults(4, 1_000, 100, now::get);
    QueryResults.Entry used = results.put("q1", twins(1), -1);
    QueryResults.Entry idle = results.put("q2", twins(1), -1);
    now.set(80);
    assertThat(results.get(used.id, "q1")).isNotNull();
    now.set(150);
    assertThat(results.get(used.id, "q1")).isNotNull();
    assertThat(results.get(idle.id, "q2")).isNull();
  }

  @Test
  void theLeastRecentlyUsedGoFirstBeyondTheEntryAndKeyLimits() {
    QueryResults results = new QueryResults(2, 10, 1_000, now::get);
    QueryResults.Entry a = results.put("a", twins(4), -1);
    now.set(1);
    QueryResults.Entry b = results.put("b", twins(4), -1);
    now.set(2);
    assertThat(results.get(a.id, "a")).isNotNull();
    now.set(3);
    QueryResults.Entry c = results.put("c", twins(1), -1);
    assertThat(results.size()).isEqualTo(2);
    assertThat(results.get(b.id, "b")).as("least recently used").isNull();
    now.set(4);
    QueryResults.Entry d = results.put("d", twins(8), -1);
    assertThat(results.size()).isEqualTo(2);
    now.set(5);
    QueryResults.Entry e = results.put("e", twins(5), -1); // 8 + 5 keys > 10: only e is left
    assertThat(results.get(a.id, "a")).isNull();
    assertThat(results.get(d.id, "d")).isNull();
    assertThat(results.get(c.id, "c")).isNull();
    assertThat(results.get(e.id, "e")).isNotNull();
    assertThat(results.size()).isEqualTo(1);
  }
}
