package io.herd.simulator;

import io.herd.simulator.internal.FaultPlan;
import io.herd.simulator.internal.SimulatorOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The settings of a simulation, validated: which hub, which devices, how they behave, how long.
 * {@link #fromArgs} reads them from {@code herd sim} arguments (see {@code --help}), with defaults
 * for everything not given.
 *
 * @param hubConfig the hub's {@code hub.json}, or null
 * @param connectionString a service connection string with RegistryWrite, or null (then the {@code
 *     iothubowner} one of hubConfig)
 * @param caFile the CA to trust, or null (hub.json's, else the JVM's default trust)
 * @param mqttPort the MQTT TLS port; 0 for hub.json's or 8883
 * @param amqpPort the AMQP TLS port; 0 for hub.json's or 5671
 * @param protocol how the devices connect
 * @param devices the fleet: devices {@code prefix-0} .. {@code prefix-(devices-1)}
 * @param first the first device this process simulates (several processes split the fleet)
 * @param count how many devices this process simulates
 * @param rate telemetry messages per second per device (0: none)
 * @param durationSeconds how long to run once connected; 0 until stopped
 * @param eventLoops client event loops; 0 for one per core
 * @param statusSeconds seconds between status lines; 0 for none
 * @param child this process was forked by another to simulate its slice: it reports on stdout for
 *     its parent and stops when its standard input closes
 */
public record SimulatorConfig(
    Path hubConfig,
    String connectionString,
    Path caFile,
    int mqttPort,
    int amqpPort,
    Protocol protocol,
    String prefix,
    int devices,
    int first,
    int count,
    Map<String, String> tags,
    double rate,
    double failPercent,
    double slowPercent,
    long slowMs,
    double churnPercent,
    long seed,
    long fwStepMs,
    String fwVersion,
    long reconnectMs,
    long configApplyMs,
    int durationSeconds,
    int processes,
    int eventLoops,
    int connectConcurrency,
    Path reportFile,
    int statusSeconds,
    boolean child) {

  /** Devices one process simulates at most: one socket each, under the 20,000 open files. */
  public static final int MAX_DEVICES_PER_PROCESS = 19_000;

  private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9._-]{1,100}");
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_-]{1,128}");

  /** The device protocol: MQTT 3.1.1 or AMQP 1.0, each over TLS as the Azure SDKs use it. */
  public enum Protocol {
    MQTT,
    AMQP
  }

  public SimulatorConfig {
    tags = Collections.unmodifiableMap(new LinkedHashMap<>(tags));
    check(
        hubConfig != null || connectionString != null,
        "give --connection-string (a service policy with RegistryWrite, such as iothubowner)"
            + " or --hub-config DIR/hub.json");
    check(protocol != null, "--protocol must be mqtt or amqp");
    check(PREFIX.matcher(prefix).matches(), "--prefix must match " + PREFIX + ": " + prefix);
    check(devices >= 1 && devices <= 10_000_000, "--devices must be in 1 .. 10,000,000");
    check(
        first >= 0 && count >= 1 && (long) first + count <= devices,
        "the slice " + first + ":" + count + " is not within the " + devices + " devices");
    check(processes >= 1 && processes <= 64, "--processes must be in 1 .. 64");
    int perProcess = child ? count : (devices + processes - 1) / processes;
    check(
        perProcess <= MAX_DEVICES_PER_PROCESS,
        "one process simulates at most "
            + MAX_DEVICES_PER_PROCESS
            + " devices (one socket each); use --processes "
            + ((devices + MAX_DEVICES_PER_PROCESS - 1) / MAX_DEVICES_PER_PROCESS)
            + " or more");
    for (String key : tags.keySet()) {
      check(TAG.matcher(key).matches(), "--tag names must match " + TAG + ": " + key);
    }
    check(rate >= 0 && rate <= 100, "--rate must be in 0 .. 100 messages per second per device");
    check(failPercent >= 0 && failPercent <= 100, "--fail-percent must be in 0 .. 100");
    check(slowPercent >= 0 && slowPercent <= 100, "--slow-percent must be in 0 .. 100");
    check(churnPercent >= 0 && churnPercent <= 100, "--churn must be in 0 .. 100");
    check(slowMs >= 0 && slowMs <= 3_600_000, "--slow-ms must be in 0 .. 3,600,000");
    check(fwStepMs >= 2 && fwStepMs <= 3_600_000, "--fw-step-ms must be in 2 .. 3,600,000");
    check(fwVersion != null && !fwVersion.isBlank(), "--fw-version must not be empty");
    check(reconnectMs >= 0 && reconnectMs <= 3_600_000, "--reconnect-ms must be in 0 .. 3,600,000");
    check(
        configApplyMs >= 0 && configApplyMs <= 3_600_000,
        "--config-apply-ms must be in 0 .. 3,600,000");
    check(durationSeconds >= 0, "--duration must be >= 0");
    check(mqttPort >= 0 && mqttPort < 65_536, "--mqtt-port must be a port");
    check(amqpPort >= 0 && amqpPort < 65_536, "--amqp-port must be a port");
    check(eventLoops >= 0 && eventLoops <= 64, "--event-loops must be in 0 .. 64");
    check(
        connectConcurrency >= 1 && connectConcurrency <= 100_000,
        "--connect-concurrency must be in 1 .. 100,000");
    check(statusSeconds >= 0, "--status-seconds must be >= 0");
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /**
   * Reads {@code herd sim} arguments; throws IllegalArgumentException saying what is wrong (help is
   * not handled here).
   */
  public static SimulatorConfig fromArgs(String... args) {
    return SimulatorOptions.parse(args).toConfig();
  }

  /** The arguments that {@link #fromArgs} reads back into this configuration. */
  public List<String> toArgs() {
    List<String> a = new ArrayList<>();
    if (hubConfig != null) {
      a.addAll(List.of("--hub-config", hubConfig.toString()));
    }
    if (connectionString != null) {
      a.addAll(List.of("--connection-string", connectionString));
    }
    if (caFile != null) {
      a.addAll(List.of("--ca", caFile.toString()));
    }
    a.addAll(
        List.of(
            "--mqtt-port", Integer.toString(mqttPort),
            "--amqp-port", Integer.toString(amqpPort),
            "--protocol", protocol.name().toLowerCase(java.util.Locale.ROOT),
            "--prefix", prefix,
            "--devices", Integer.toString(devices),
            "--slice", first + ":" + count));
    tags.forEach((k, v) -> a.addAll(List.of("--tag", k + "=" + v)));
    a.addAll(
        List.of(
            "--rate", Double.toString(rate),
            "--fail-percent", Double.toString(failPercent),
            "--slow-percent", Double.toString(slowPercent),
            "--slow-ms", Long.toString(slowMs),
            "--churn", Double.toString(churnPercent),
            "--seed", Long.toString(seed),
            "--fw-step-ms", Long.toString(fwStepMs),
            "--fw-version", fwVersion,
            "--reconnect-ms", Long.toString(reconnectMs),
            "--config-apply-ms", Long.toString(configApplyMs),
            "--duration", Integer.toString(durationSeconds),
            "--processes", Integer.toString(processes),
            "--event-loops", Integer.toString(eventLoops),
            "--connect-concurrency", Integer.toString(connectConcurrency),
            "--status-seconds", Integer.toString(statusSeconds)));
    if (reportFile != null) {
      a.addAll(List.of("--report", reportFile.toString()));
    }
    if (child) {
      a.add("--child");
    }
    return a;
  }

  /**
   * The configuration of a forked process that simulates devices {@code first .. first+count-1} and
   * writes its report to {@code reportFile}.
   */
  public SimulatorConfig forChild(int first, int count, Path reportFile) {
    return copy(first, count, 1, reportFile, true);
  }

  /** This configuration for devices {@code first .. first+count-1} of the fleet only. */
  public SimulatorConfig withSlice(int first, int count) {
    return copy(first, count, processes, reportFile, child);
  }

  private SimulatorConfig copy(
      int first, int count, int processes, Path reportFile, boolean child) {
    return new SimulatorConfig(
        hubConfig,
        connectionString,
        caFile,
        mqttPort,
        amqpPort,
        protocol,
        prefix,
        devices,
        first,
        count,
        tags,
        rate,
        failPercent,
        slowPercent,
        slowMs,
        churnPercent,
        seed,
        fwStepMs,
        fwVersion,
        reconnectMs,
        configApplyMs,
        durationSeconds,
        processes,
        eventLoops,
        connectConcurrency,
        reportFile,
        statusSeconds,
        child);
  }

  /** The id of device number {@code n}: {@code prefix-n}. */
  public String deviceId(int n) {
    return prefix + "-" + n;
  }

  /** The numbers of the devices that fail firmware updates (--fail-percent, --seed). */
  public Set<Integer> firmwareFailures() {
    return chosen(new FaultPlan(seed, devices, failPercent, 0)::failsFirmwareUpdates);
  }

  /** The numbers of the devices that answer methods late (--slow-percent, --seed). */
  public Set<Integer> lateAnswerers() {
    return chosen(new FaultPlan(seed, devices, 0, slowPercent)::answersLate);
  }

  private Set<Integer> chosen(java.util.function.IntPredicate plan) {
    Set<Integer> chosen = new TreeSet<>();
    for (int n = 0; n < devices; n++) {
      if (plan.test(n)) {
        chosen.add(n);
      }
    }
    return chosen;
  }

  /** The settings a report shows (no keys or connection strings). */
  public JsonObject toJson() {
    JsonObject tagJson = new JsonObject();
    tags.forEach(tagJson::put);
    return new JsonObject()
        .put("protocol", protocol.name().toLowerCase(java.util.Locale.ROOT))
        .put("prefix", prefix)
        .put("devices", devices)
        .put("tags", tagJson)
        .put("rate", rate)
        .put("failPercent", failPercent)
        .put("slowPercent", slowPercent)
        .put("slowMs", slowMs)
        .put("churnPercent", churnPercent)
        .put("seed", seed)
        .put("fwStepMs", fwStepMs)
        .put("fwVersion", fwVersion)
        .put("reconnectMs", reconnectMs)
        .put("configApplyMs", configApplyMs)
        .put("durationSeconds", durationSeconds)
        .put("processes", processes);
  }
}
