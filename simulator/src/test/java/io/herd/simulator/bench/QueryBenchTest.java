package io.herd.simulator.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

class QueryBenchTest {

  @Test
  void asksBothSidesTheSameQuestions() {
    assertThat(QueryBench.Q_EQUALITY).contains("tags.site = 'site-0042'");
    assertThat(QueryBench.PG_EQUALITY).contains("{\"tags\":{\"site\":\"site-0042\"}}");
    assertThat(QueryBench.Q_SCAN)
        .contains("tags.region = 'ap-east'", "tags.floor >= 11", "intervalSeconds = 120");
    assertThat(QueryBench.PG_SCAN)
        .contains("->>'region' = 'ap-east'", "::int >= 11", "->>'intervalSeconds')::int = 120");
    assertThat(QueryBench.Q_GROUP).contains("GROUP BY properties.desired.fw");
    assertThat(QueryBench.PG_GROUP).contains("->'desired'->>'fw'", "GROUP BY 1");
    assertThat(QueryBench.Q_COUNT)
        .startsWith("SELECT COUNT() AS n FROM devices WHERE")
        .endsWith(QueryBench.Q_SCAN.substring(QueryBench.Q_SCAN.indexOf(" WHERE ")));
    assertThat(QueryBench.PG_COUNT)
        .startsWith("SELECT count(*) AS n FROM twins_jsonb WHERE")
        .endsWith(QueryBench.PG_SCAN.substring(QueryBench.PG_SCAN.indexOf(" WHERE ")));
  }

  @Test
  void defaultsToAMillionTwinsAndFullPages() {
    QueryBench.Options o = QueryBench.Options.parse(new String[] {"--hub-json", "hub.json"});

    assertThat(o.devices()).isEqualTo(1_000_000);
    assertThat(o.pageSize()).isEqualTo(1000);
    assertThat(o.create()).isTrue();
    assertThat(o.postgres()).isTrue();
  }

  @Test
  void needsAPrefixToQueryExistingTwins() {
    assertThatThrownBy(
            () -> QueryBench.Options.parse(new String[] {"--hub-json", "h", "--no-create"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--prefix");
  }

  @Test
  void countsRowsOfWellFormedArraysOnly() {
    assertThat(QueryBench.countRows(Buffer.buffer("[]"))).isZero();
    assertThat(
            QueryBench.countRows(
                Buffer.buffer("[{\"a\":[1,{\"b\":\"]}\"}]},{\"deviceId\":\"d\\\"\"}]")))
        .isEqualTo(2);
    for (String bad : new String[] {"{}", "[1,2]", "[{\"a\":1}", "[{\"a\":1}] x", "[{\"a\":}]"}) {
      assertThatThrownBy(() -> QueryBench.countRows(Buffer.buffer(bad)))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void parsesTreesOnlyWhenAsked() {
    assertThat(QueryBench.Options.parse(new String[] {"--hub-json", "h"}).parseTrees()).isFalse();
    assertThat(
            QueryBench.Options.parse(new String[] {"--hub-json", "h", "--parse-trees"})
                .parseTrees())
        .isTrue();
  }
}
