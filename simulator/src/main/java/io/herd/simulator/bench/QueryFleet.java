package io.herd.simulator.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * The fleet {@link QueryBench} queries: twin {@code n}'s tags and desired properties, the same for
 * the same {@code n} on every run, so that the hub's twins and the PostgreSQL documents hold the
 * same values and each query's row count is known in advance.
 *
 * <p>The fields the queries test: {@code tags.site} ({@value #SITES} sites by default, named {@code
 * site-0000} to {@code site-9999} as in issue 6's {@code site-0042}; uniform), {@code tags.region}
 * (8, uniform), {@code tags.floor} (1 to 12, uniform), {@code
 * properties.desired.telemetry.intervalSeconds} (15 to 120 in steps of 15, uniform) and {@code
 * properties.desired.fw} (6 versions, skewed towards the newer ones, as after a rollout).
 */
final class QueryFleet {

  static final int SITES = 10_000;
  static final String[] REGIONS = {
    "eu-west", "eu-north", "eu-central", "us-east", "us-west", "ap-south", "ap-east", "sa-east"
  };
  static final String[] MODELS = {"TX-4000", "TX-4100", "HX-220", "AQ-9"};
  static final String[] FIRMWARE = {"2.3.9", "2.4.17", "2.4.18", "2.5.0", "3.0.0", "3.0.1"};
  // Cumulative weights out of 100 for FIRMWARE: most of the fleet runs the newer versions.
  private static final int[] FIRMWARE_CUMULATIVE = {3, 8, 20, 45, 80, 100};

  /** What the queries look at in twin {@code n}; the rest of its content derives from these. */
  record Twin(
      int n, int site, int region, int floor, int model, int fw, int intervalSeconds, long serial) {

    String siteName() {
      return siteName(site);
    }

    static String siteName(int site) {
      return String.format(Locale.ROOT, "site-%04d", site);
    }

    /** {@code {"tags": {...}, "properties": {"desired": {...}}}}, about half a kilobyte as JSON. */
    JsonObject tagsAndDesired() {
      JsonObject tags =
          new JsonObject()
              .put("site", siteName())
              .put("region", REGIONS[region])
              .put("floor", floor)
              .put("room", String.format(Locale.ROOT, "%d.%03d", floor, n % 200))
              .put("building", String.format(Locale.ROOT, "B-%02d", 1 + site % 40))
              .put("model", MODELS[model])
              .put("serial", String.format(Locale.ROOT, "SN-%012X", serial))
              .put("owner", "facilities-operations-" + REGIONS[region])
              .put("fleet", "rollout-wave-" + (1 + n % 5));
      JsonObject desired =
          new JsonObject()
              .put("fw", FIRMWARE[fw])
              .put(
                  "telemetry",
                  new JsonObject()
                      .put("intervalSeconds", intervalSeconds)
                      .put("batchSize", 10 * (1 + n % 5))
                      .put(
                          "channels",
                          new JsonArray().add("temperature").add("humidity").add("co2")))
              .put(
                  "thresholds",
                  new JsonObject()
                      .put("temperatureMax", 26 + n % 8)
                      .put("co2Max", 800 + 50 * (n % 15)))
              .put(
                  "firmware",
                  new JsonObject()
                      .put("channel", fw == FIRMWARE.length - 1 ? "preview" : "stable")
                      .put(
                          "url",
                          "https://updates.contoso.example/firmware/"
                              + MODELS[model].toLowerCase(Locale.ROOT)
                              + "/"
                              + FIRMWARE[fw]
                              + "/image.bin"));
      return new JsonObject()
          .put("tags", tags)
          .put("properties", new JsonObject().put("desired", desired));
    }
  }

  private QueryFleet() {}

  static Twin twin(int n) {
    return twin(n, SITES);
  }

  /** Twin {@code n} of a fleet over {@code sites} sites (1 to 10,000). */
  static Twin twin(int n, int sites) {
    if (n < 0) {
      throw new IllegalArgumentException("negative twin number " + n);
    }
    if (sites < 1 || sites > 10_000) {
      throw new IllegalArgumentException("sites must be 1 to 10000, got " + sites);
    }
    SplittableRandom r = new SplittableRandom(n * 0x9E3779B97F4A7C15L + 0x51A7E5L);
    int site = r.nextInt(sites);
    int region = r.nextInt(REGIONS.length);
    int floor = 1 + r.nextInt(12);
    int model = r.nextInt(MODELS.length);
    int w = r.nextInt(100);
    int fw = 0;
    while (w >= FIRMWARE_CUMULATIVE[fw]) {
      fw++;
    }
    int interval = 15 * (1 + r.nextInt(8));
    return new Twin(n, site, region, floor, model, fw, interval, r.nextLong(1L << 48));
  }

  /** The three queries, for the hub and for PostgreSQL, and which twins each one matches. */
  static final String EQ_SITE = Twin.siteName(42);

  static final String SCAN_REGION = "ap-east";
  static final int SCAN_MIN_FLOOR = 11;
  static final int SCAN_INTERVAL = 120;

  static boolean matchesEquality(Twin t) {
    return t.siteName().equals(EQ_SITE);
  }

  static boolean matchesScan(Twin t) {
    return REGIONS[t.region()].equals(SCAN_REGION)
        && t.floor() >= SCAN_MIN_FLOOR
        && t.intervalSeconds() == SCAN_INTERVAL;
  }

  /** Rows each query returns for twins {@code 0 .. twins-1}; the GROUP BY as fw -> count. */
  record Expected(long equality, long scan, TreeMap<String, Long> groups) {}

  static Expected expected(int twins) {
    return expected(twins, SITES);
  }

  static Expected expected(int twins, int sites) {
    long eq = 0;
    long scan = 0;
    TreeMap<String, Long> groups = new TreeMap<>();
    for (int n = 0; n < twins; n++) {
      Twin t = twin(n, sites);
      eq += matchesEquality(t) ? 1 : 0;
      scan += matchesScan(t) ? 1 : 0;
      groups.merge(FIRMWARE[t.fw()], 1L, Long::sum);
    }
    return new Expected(eq, scan, groups);
  }
}
