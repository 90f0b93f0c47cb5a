package io.herd.simulator.internal;

import io.herd.simulator.SimulatorConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code herd sim} command line, read by picocli into a {@link SimulatorConfig}. */
@Command(
    name = "herd sim",
    sortOptions = false,
    usageHelpWidth = 100,
    description = {
      "Simulates IoT Hub devices against Herd: registers the missing ones, connects them over"
          + " MQTT/TLS or AMQP/TLS (--protocol), and runs the device-management patterns (reboot, factoryReset and"
          + " firmwareUpdate methods; desired telemetryConfig) with telemetry, until --duration"
          + " passes or Ctrl-C. Prints a summary; --report FILE writes it as JSON with"
          + " HdrHistogram latencies.",
      ""
    })
public final class SimulatorOptions {

  private static final Path DEFAULT_HUB_CONFIG = Path.of("data", "hub.json");

  @Option(
      names = "--devices",
      paramLabel = "N",
      defaultValue = "100",
      description = "devices PREFIX-0 .. PREFIX-(N-1) (default ${DEFAULT-VALUE})")
  int devices;

  @Option(
      names = "--prefix",
      paramLabel = "P",
      defaultValue = "sim",
      description = "device id prefix (default ${DEFAULT-VALUE})")
  String prefix;

  @Option(
      names = "--connection-string",
      paramLabel = "CS",
      description =
          "service connection string with RegistryWrite (iothubowner);"
              + " HostName may carry :port for HTTPS")
  String connectionString;

  @Option(
      names = "--hub-config",
      paramLabel = "FILE",
      description =
          "the hub's hub.json (DATA_DIR/hub.json): ports, CA, connection strings"
              + " (default: ./data/hub.json when there and no --connection-string)")
  Path hubConfig;

  @Option(names = "--ca", paramLabel = "FILE", description = "CA certificate (PEM) to trust")
  Path ca;

  @Option(
      names = "--mqtt-port",
      paramLabel = "N",
      defaultValue = "0",
      description = "MQTT TLS port (default: hub.json's, else 8883)")
  int mqttPort;

  @Option(
      names = "--amqp-port",
      paramLabel = "N",
      defaultValue = "0",
      description = "AMQP TLS port (default: hub.json's, else 5671)")
  int amqpPort;

  @Option(
      names = "--protocol",
      paramLabel = "mqtt|amqp",
      defaultValue = "mqtt",
      description =
          "device protocol: mqtt (QoS 1 telemetry) or amqp (SASL ANONYMOUS and a put-token on"
              + " $cbs, telemetry settled by the hub) (default ${DEFAULT-VALUE})")
  String protocol;

  @Option(
      names = "--tag",
      paramLabel = "KEY=VALUE",
      description = "twin tag of the devices the simulator creates (repeatable)")
  Map<String, String> tags = new LinkedHashMap<>();

  @Option(
      names = "--rate",
      paramLabel = "R",
      defaultValue = "0.1",
      description = "telemetry messages per second per device (default ${DEFAULT-VALUE})")
  double rate;

  @Option(
      names = "--fail-percent",
      paramLabel = "P",
      defaultValue = "0",
      description = "percent of devices whose firmware updates fail (default ${DEFAULT-VALUE})")
  double failPercent;

  @Option(
      names = "--slow-percent",
      paramLabel = "P",
      defaultValue = "0",
      description =
          "percent of devices that answer methods after --slow-ms" + " (default ${DEFAULT-VALUE})")
  double slowPercent;

  @Option(
      names = "--slow-ms",
      paramLabel = "MS",
      defaultValue = "5000",
      description = "how late slow devices answer (default ${DEFAULT-VALUE})")
  long slowMs;

  @Option(
      names = "--churn",
      paramLabel = "P",
      defaultValue = "0",
      description =
          "percent of devices that drop their connection each second and reconnect"
              + " after --reconnect-ms; devices owing a method answer are spared"
              + " (default ${DEFAULT-VALUE})")
  double churn;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "1",
      description = "chooses the failing and slow devices (default ${DEFAULT-VALUE})")
  long seed;

  @Option(
      names = "--fw-step-ms",
      paramLabel = "MS",
      defaultValue = "500",
      description = "time of one firmware-update step (default ${DEFAULT-VALUE})")
  long fwStepMs;

  @Option(
      names = "--fw-version",
      paramLabel = "V",
      defaultValue = "1.0.0",
      description = "firmware of devices whose twin shows none (default ${DEFAULT-VALUE})")
  String fwVersion;

  @Option(
      names = "--reconnect-ms",
      paramLabel = "MS",
      defaultValue = "1000",
      description =
          "offline time of a reboot, reset, update or churn drop" + " (default ${DEFAULT-VALUE})")
  long reconnectMs;

  @Option(
      names = "--config-apply-ms",
      paramLabel = "MS",
      defaultValue = "200",
      description = "time to apply a telemetryConfig (default ${DEFAULT-VALUE})")
  long configApplyMs;

  @Option(
      names = "--duration",
      paramLabel = "S",
      defaultValue = "0",
      description = "seconds to run once connected; 0 until Ctrl-C (default ${DEFAULT-VALUE})")
  int duration;

  @Option(
      names = "--processes",
      paramLabel = "K",
      defaultValue = "1",
      description =
          "processes to split the devices over (this one and K-1 forked);"
              + " at most 19,000 devices each (default ${DEFAULT-VALUE})")
  int processes;

  @Option(
      names = "--event-loops",
      paramLabel = "N",
      defaultValue = "0",
      description = "client event loops per process (default: one per core)")
  int eventLoops;

  @Option(
      names = "--connect-concurrency",
      paramLabel = "N",
      defaultValue = "200",
      description = "first connects in flight per process (default ${DEFAULT-VALUE})")
  int connectConcurrency;

  @Option(names = "--report", paramLabel = "FILE", description = "write the report as JSON")
  Path report;

  @Option(
      names = "--status-seconds",
      paramLabel = "S",
      defaultValue = "10",
      description = "seconds between status lines; 0 for none (default ${DEFAULT-VALUE})")
  int statusSeconds;

  // Set by a parent process for the processes it forks.
  @Option(names = "--slice", hidden = true)
  String slice;

  @Option(names = "--child", hidden = true)
  boolean child;

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "show this help")
  boolean help;

  /** Parses; throws IllegalArgumentException with picocli's message on bad arguments. */
  public static SimulatorOptions parse(String... args) {
    SimulatorOptions o = new SimulatorOptions();
    try {
      new CommandLine(o).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    return o;
  }

  public boolean helpRequested() {
    return help;
  }

  public static String usage() {
    StringWriter w = new StringWriter();
    new CommandLine(new SimulatorOptions()).usage(new PrintWriter(w));
    return w.toString();
  }

  /** The configuration; throws IllegalArgumentException when a value is out of range. */
  public SimulatorConfig toConfig() {
    SimulatorConfig.Protocol p;
    try {
      p = SimulatorConfig.Protocol.valueOf(protocol.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--protocol must be mqtt or amqp: " + protocol, e);
    }
    int first = 0;
    int count = devices;
    if (slice != null) {
      int colon = slice.indexOf(':');
      try {
        first = Integer.parseInt(slice.substring(0, colon));
        count = Integer.parseInt(slice.substring(colon + 1));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("--slice must be FIRST:COUNT: " + slice, e);
      }
    }
    Path hub = hubConfig;
    if (hub == null && connectionString == null && Files.isRegularFile(DEFAULT_HUB_CONFIG)) {
      hub = DEFAULT_HUB_CONFIG; // where herd serve writes it by default
    }
    return new SimulatorConfig(
        hub,
        connectionString,
        ca,
        mqttPort,
        amqpPort,
        p,
        prefix,
        devices,
        first,
        count,
        tags,
        rate,
        failPercent,
        slowPercent,
        slowMs,
        churn,
        seed,
        fwStepMs,
        fwVersion,
        reconnectMs,
        configApplyMs,
        duration,
        processes,
        eventLoops,
        connectConcurrency,
        report,
        statusSeconds,
        child);
  }
}
