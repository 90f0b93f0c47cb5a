package io.herd.simulator.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class QueryFleetTest {

  @Test
  void givesTheSameTwinForTheSameNumber() {
    assertThat(QueryFleet.twin(123_456)).isEqualTo(QueryFleet.twin(123_456));
    assertThat(QueryFleet.twin(7).tagsAndDesired().encode())
        .isEqualTo(QueryFleet.twin(7).tagsAndDesired().encode());
    assertThat(QueryFleet.twin(7)).isNotEqualTo(QueryFleet.twin(8));
  }

  @Test
  void putsTheQueriedFieldsWhereTheQueriesLook() {
    QueryFleet.Twin t = QueryFleet.twin(42);
    JsonObject doc = t.tagsAndDesired();

    JsonObject tags = doc.getJsonObject("tags");
    JsonObject desired = doc.getJsonObject("properties").getJsonObject("desired");
    assertThat(tags.getString("site")).isEqualTo(t.siteName()).matches("site-\\d{4}");
    assertThat(tags.getString("region")).isEqualTo(QueryFleet.REGIONS[t.region()]);
    assertThat(tags.getInteger("floor")).isEqualTo(t.floor()).isBetween(1, 12);
    assertThat(desired.getString("fw")).isEqualTo(QueryFleet.FIRMWARE[t.fw()]);
    assertThat(desired.getJsonObject("telemetry").getInteger("intervalSeconds"))
        .isEqualTo(t.intervalSeconds());
  }

  @Test
  void keepsDocumentsFreeOfCharactersThatCopyTextFormatEscapes() {
    for (int n = 0; n < 2_000; n++) {
      String json = QueryFleet.twin(n).tagsAndDesired().encode();
      assertThat(json).doesNotContain("\t", "\n", "\\");
      assertThat(json.length()).isBetween(400, 800);
    }
  }

  @Test
  void spreadsTwinsOverSitesAndSkewsFirmwareTowardsNewerVersions() {
    Set<Integer> sites = new HashSet<>();
    int[] fw = new int[QueryFleet.FIRMWARE.length];
    for (int n = 0; n < 100_000; n++) {
      QueryFleet.Twin t = QueryFleet.twin(n);
      sites.add(t.site());
      fw[t.fw()]++;
    }
    assertThat(sites).hasSize(QueryFleet.SITES);
    assertThat(fw[0]).isBetween(2_500, 3_500);
    assertThat(fw[4]).isBetween(34_000, 36_000);
  }

  @Test
  void countsWhatEachQueryMatches() {
    int twins = 50_000;
    long eq = 0;
    long scan = 0;
    for (int n = 0; n < twins; n++) {
      QueryFleet.Twin t = QueryFleet.twin(n);
      eq += t.siteName().equals("site-0042") ? 1 : 0;
      scan +=
          t.tagsAndDesired().getJsonObject("tags").getString("region").equals("ap-east")
                  && t.floor() >= 11
                  && t.intervalSeconds() == 120
              ? 1
              : 0;
    }
    QueryFleet.Expected e = QueryFleet.expected(twins);

    assertThat(e.equality()).isEqualTo(eq).isBetween(1L, 12L);
    assertThat(e.scan()).isEqualTo(scan).isBetween(100L, 160L);
    assertThat(e.groups().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(twins);
    assertThat(e.groups().keySet()).containsExactlyInAnyOrder(QueryFleet.FIRMWARE);
  }

  @Test
  void aSmallerSiteCountPutsMoreTwinsOnEachSite() {
    int twins = 50_000;
    long eq = 0;
    for (int n = 0; n < twins; n++) {
      eq += QueryFleet.twin(n, 1_000).siteName().equals("site-0042") ? 1 : 0;
    }
    QueryFleet.Expected e = QueryFleet.expected(twins, 1_000);

    assertThat(e.equality()).isEqualTo(eq).isBetween(30L, 70L);
    assertThat(e.scan()).isEqualTo(QueryFleet.expected(twins).scan());
    assertThatThrownBy(() -> QueryFleet.twin(1, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> QueryFleet.twin(1, 10_001))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rejectsNegativeNumbers() {
    assertThatThrownBy(() -> QueryFleet.twin(-1)).isInstanceOf(IllegalArgumentException.class);
  }
}
