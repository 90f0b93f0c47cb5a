package io.herd.simulator;

import io.herd.simulator.internal.Figures;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/**
 * What a simulation counted and measured: counts of events, HdrHistogram latencies in microseconds,
 * error reasons, and how many devices were online. Reports of several processes merge into one
 * ({@link #merge}); {@link #toJson} is the {@code --report} file, which carries each histogram
 * whole (compressed, base64) so that other tools can merge or re-read it.
 */
public final class SimulationReport {

  /** The name and version of the report format, the {@code format} member. */
  public static final String FORMAT = "herd-sim-report/1";

  /** What the devices count; {@link #wireName()} is the key in the report. */
  public enum Count {
    /**
     * Connections accepted (CONNACK 0, or the AMQP put-token answered 200), first connects and
     * reconnects alike.
     */
    CONNECTS("connects"),
    /**
     * Connect attempts that failed: TCP, TLS, a refused CONNACK or put-token, or no subscription or
     * twin.
     */
    CONNECT_FAILURES("connectFailures"),
    /** Connections the hub or the network closed, not the device. */
    CONNECTIONS_LOST("connectionsLost"),
    /** Connections dropped on purpose by --churn. */
    CHURN_DROPS("churnDrops"),
    /** SAS tokens renewed before they expire as the SDKs do: MQTT reconnects, AMQP puts anew. */
    TOKEN_RENEWALS("tokenRenewals"),
    TELEMETRY_SENT("telemetrySent"),
    TELEMETRY_ACKED("telemetryAcked"),
    /** Telemetry not acknowledged: the connection closed first, or the hub refused it (AMQP). */
    TELEMETRY_FAILED("telemetryFailed"),
    /**
     * Telemetry not sent because the device was offline, its window of unacknowledged messages was
     * full, or the hub gave no AMQP link credit.
     */
    TELEMETRY_SKIPPED("telemetrySkipped"),
    REPORTED_SENT("reportedSent"),
    /** Reported-property patches answered 204. */
    REPORTED_ACKED("reportedAcked"),
    /** Reported-property patches answered otherwise, or not at all. */
    REPORTED_FAILED("reportedFailed"),
    DESIRED_RECEIVED("desiredReceived"),
    METHODS_RECEIVED("methodsReceived"),
    METHODS_ANSWERED("methodsAnswered"),
    /** Methods a --slow-percent device answered after --slow-ms. */
    METHODS_LATE("methodsLate"),
    REBOOTS("reboots"),
    FACTORY_RESETS("factoryResets"),
    FIRMWARE_UPDATES("firmwareUpdates"),
    FIRMWARE_SUCCEEDED("firmwareSucceeded"),
    FIRMWARE_FAILED("firmwareFailed"),
    CONFIG_APPLIED("configApplied"),
    CONFIG_FAILED("configFailed");

    private final String wireName;

    Count(String wireName) {
      this.wireName = wireName;
    }

    public String wireName() {
      return wireName;
    }
  }

  /** What the devices time, in microseconds; {@link #wireName()} is the key in the report. */
  public enum Latency {
    /** TCP + TLS + CONNECT/CONNACK; AMQP: TCP + TLS + SASL + Open + put-token answered. */
    CONNECT("connect"),
    /** Telemetry PUBLISH (QoS 1) to its PUBACK; AMQP: a message to its accepted disposition. */
    TELEMETRY_PUBACK("telemetryPuback"),
    /** Reported-property PATCH to its 204. */
    REPORTED_ACK("reportedAck"),
    /** A method request's arrival to the device's answer (includes --slow-ms). */
    METHOD_AT_DEVICE("methodAtDevice"),
    /**
     * A desired-property patch's {@code sentAtMs} (epoch milliseconds, set by whoever wrote the
     * patch) to its arrival; only patches that carry it.
     */
    DESIRED_DELIVERY("desiredDelivery");

    private final String wireName;

    Latency(String wireName) {
      this.wireName = wireName;
    }

    public String wireName() {
      return wireName;
    }
  }

  private static final double[] PERCENTILES = {50, 90, 99, 99.9};

  private final Figures figures;
  private final int devices;
  private final int online;
  private final int processes;
  private final long startedAtMillis;
  private final double seconds;
  private final JsonObject options;

  /**
   * A report of {@code devices} simulated devices, {@code online} of them connected when it was
   * taken, over {@code seconds} from {@code startedAtMillis}; {@code figures} is copied.
   */
  SimulationReport(
      Figures figures,
      int devices,
      int online,
      int processes,
      long startedAtMillis,
      double seconds,
      JsonObject options) {
    this.figures = figures.copy();
    this.devices = devices;
    this.online = online;
    this.processes = processes;
    this.startedAtMillis = startedAtMillis;
    this.seconds = seconds;
    this.options = options == null ? new JsonObject() : options.copy();
  }

  public long count(Count c) {
    return figures.get(c);
  }

  /** A copy of the latency histogram, in microseconds. */
  public Histogram latency(Latency l) {
    return figures.histogram(l).copy();
  }

  /** Error reasons and how often each happened (at most {@value Figures#MAX_REASONS} reasons). */
  public Map<String, Long> errors() {
    return figures.errors();
  }

  public int devices() {
    return devices;
  }

  public int online() {
    return online;
  }

  public int processes() {
    return processes;
  }

  public long startedAtMillis() {
    return startedAtMillis;
  }

  public double seconds() {
    return seconds;
  }

  /** The report of both: counts and histograms added, devices and processes summed. */
  public SimulationReport merge(SimulationReport other) {
    Figures f = figures.copy();
    f.add(other.figures);
    return new SimulationReport(
        f,
        devices + other.devices,
        online + other.online,
        processes + other.processes,
        Math.min(startedAtMillis, other.startedAtMillis),
        Math.max(seconds, other.seconds),
        options);
  }

  /** The {@code --report} file's content. */
  public JsonObject toJson() {
    JsonObject counts = new JsonObject();
    for (Count c : Count.values()) {
      counts.put(c.wireName(), count(c));
    }
    JsonObject latencies = new JsonObject();
    for (Latency l : Latency.values()) {
      Histogram h = figures.histogram(l);
      JsonObject j =
          new JsonObject()
              .put("count", h.getTotalCount())
              .put("meanMs", round(h.getTotalCount() == 0 ? 0 : h.getMean() / 1e3));
      for (double p : PERCENTILES) {
        j.put(percentileKey(p), round(ms(h, p)));
      }
      j.put("maxMs", round(h.getMaxValue() / 1e3));
      ByteBuffer buffer = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
      int length = h.encodeIntoCompressedByteBuffer(buffer);
      j.put(
          "hdr",
          Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buffer.array(), length)));
      latencies.put(l.wireName(), j);
    }
    JsonObject errors = new JsonObject();
    figures.errors().forEach(errors::put);
    return new JsonObject()
        .put("format", FORMAT)
        .put("startedAt", Instant.ofEpochMilli(startedAtMillis).toString())
        .put("seconds", round(seconds))
        .put("processes", processes)
        .put("devices", devices)
        .put("online", online)
        .put("options", options.copy())
        .put("counts", counts)
        .put("errors", errors)
        .put("latencies", latencies);
  }

  /** Reads what {@link #toJson} wrote; throws IllegalArgumentException when it cannot. */
  public static SimulationReport fromJson(JsonObject json) {
    if (!FORMAT.equals(json.getString("format"))) {
      throw new IllegalArgumentException("not a " + FORMAT + " report: " + json.getValue("format"));
    }
    Figures f = new Figures();
    JsonObject counts = json.getJsonObject("counts", new JsonObject());
    for (Count c : Count.values()) {
      f.add(c, counts.getLong(c.wireName(), 0L));
    }
    JsonObject latencies = json.getJsonObject("latencies", new JsonObject());
    for (Latency l : Latency.values()) {
      JsonObject j = latencies.getJsonObject(l.wireName());
      if (j != null && j.getString("hdr") != null) {
        try {
          f.histogram(l)
              .add(
                  Histogram.decodeFromCompressedByteBuffer(
                      ByteBuffer.wrap(Base64.getDecoder().decode(j.getString("hdr"))), 0));
        } catch (DataFormatException | RuntimeException e) {
          throw new IllegalArgumentException(
              "the " + l.wireName() + " histogram does not decode: " + e.getMessage(), e);
        }
      }
    }
    json.getJsonObject("errors", new JsonObject())
        .forEach(e -> f.error(e.getKey(), ((Number) e.getValue()).longValue()));
    return new SimulationReport(
        f,
        json.getInteger("devices", 0),
        json.getInteger("online", 0),
        json.getInteger("processes", 1),
        Instant.parse(json.getString("startedAt")).toEpochMilli(),
        json.getDouble("seconds", 0.0),
        json.getJsonObject("options"));
  }

  /** The summary printed at the end of a run. */
  public String summary() {
    StringBuilder sb = new StringBuilder();
    line(
        sb,
        "devices   : %d simulated in %d process%s, %d online at the end, %.1f s",
        devices,
        processes,
        processes == 1 ? "" : "es",
        online,
        seconds);
    line(
        sb,
        "connects  : %d (%d failed), %d lost, %d churn drops, %d token renewals",
        count(Count.CONNECTS),
        count(Count.CONNECT_FAILURES),
        count(Count.CONNECTIONS_LOST),
        count(Count.CHURN_DROPS),
        count(Count.TOKEN_RENEWALS));
    line(
        sb,
        "telemetry : %d sent, %d acknowledged, %d failed, %d skipped",
        count(Count.TELEMETRY_SENT),
        count(Count.TELEMETRY_ACKED),
        count(Count.TELEMETRY_FAILED),
        count(Count.TELEMETRY_SKIPPED));
    line(
        sb,
        "reported  : %d sent, %d acknowledged (204), %d failed; desired patches received %d",
        count(Count.REPORTED_SENT),
        count(Count.REPORTED_ACKED),
        count(Count.REPORTED_FAILED),
        count(Count.DESIRED_RECEIVED));
    line(
        sb,
        "methods   : %d received, %d answered (%d late); reboots %d, factory resets %d",
        count(Count.METHODS_RECEIVED),
        count(Count.METHODS_ANSWERED),
        count(Count.METHODS_LATE),
        count(Count.REBOOTS),
        count(Count.FACTORY_RESETS));
    line(
        sb,
        "firmware  : %d updates started, %d succeeded, %d failed; configurations %d applied,"
            + " %d failed",
        count(Count.FIRMWARE_UPDATES),
        count(Count.FIRMWARE_SUCCEEDED),
        count(Count.FIRMWARE_FAILED),
        count(Count.CONFIG_APPLIED),
        count(Count.CONFIG_FAILED));
    line(
        sb,
        "latency ms: %-16s %8s %8s %8s %8s %8s %9s",
        "",
        "p50",
        "p90",
        "p99",
        "p99.9",
        "max",
        "count");
    for (Latency l : Latency.values()) {
      Histogram h = figures.histogram(l);
      line(
          sb,
          "            %-16s %8.2f %8.2f %8.2f %8.2f %8.2f %9d",
          l.wireName(),
          ms(h, 50),
          ms(h, 90),
          ms(h, 99),
          ms(h, 99.9),
          h.getMaxValue() / 1e3,
          h.getTotalCount());
    }
    figures.errors().forEach((k, v) -> line(sb, "error     : %d x %s", v, k));
    return sb.toString();
  }

  private static void line(StringBuilder sb, String format, Object... args) {
    sb.append(String.format(Locale.ROOT, format, args)).append('\n');
  }

  private static double ms(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1e3;
  }

  private static String percentileKey(double p) {
    return "p"
        + (p == Math.rint(p) ? Long.toString((long) p) : Double.toString(p).replace(".", ""))
        + "Ms";
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
