package io.herd.cli;

import java.io.BufferedOutputStream;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code herd}: the operator CLI over the hub's service REST API. {@link #main} runs one command
 * and exits with its code: 0 ok, 1 the hub answered with an error (or could not be reached), 2 a
 * usage error. {@link #run} does the same in-process, for tests.
 */
@Command(
    name = "herd",
    // -h/--help and -V/--version on every command.
    scope = ScopeType.INHERIT,
    mixinStandardHelpOptions = true,
    version = "herd " + HerdCli.VERSION,
    sortOptions = false,
    description = {
      "Operates a Herd hub (or any Azure IoT Hub) over its service REST API.",
      "Connects with --connection-string, HERD_CONNECTION_STRING, --hub-config DIR or"
          + " HERD_HUB_CONFIG; without any, ./data/hub.json when it exists."
    },
    footer = {
      "",
      "Exit codes: 0 ok, 1 the hub answered with an error or could not be reached, 2 usage error."
    },
    // Subcommands are added in run(): only the one named, so start-up reflects over one tree.
    subcommands = {})
public final class HerdCli implements Runnable {
  static final String VERSION = "0.1.0";
  static final int OK = 0;
  static final int HUB_ERROR = 1;
  static final int USAGE = 2;
  private static final int DEFAULT_WIDTH = 120;

  /** The commands, in the order help lists them. */
  private static final Map<String, Class<?>> COMMANDS = new LinkedHashMap<>();

  static {
    COMMANDS.put("devices", DevicesCommand.class);
    COMMANDS.put("twin", TwinCommand.class);
    COMMANDS.put("query", QueryCommand.class);
    COMMANDS.put("method", MethodCommand.class);
    COMMANDS.put("c2d", C2dCommand.class);
    COMMANDS.put("monitor", MonitorCommand.class);
    COMMANDS.put("jobs", JobsCommand.class);
    COMMANDS.put("stats", StatsCommand.class);
    COMMANDS.put("help", CommandLine.HelpCommand.class);
  }

  /** Root options that take a value, so their value is not taken for the command's name. */
  private static final Set<String> VALUED_OPTIONS =
      Set.of("--connection-string", "--hub-config", "--ca", "-o", "--output");

  @Option(
      names = "--connection-string",
      paramLabel = "CS",
      scope = ScopeType.INHERIT,
      description =
          "Service connection string (HostName=host[:port];SharedAccessKeyName=...;"
              + "SharedAccessKey=...); default: HERD_CONNECTION_STRING.")
  String connectionString;

  @Option(
      names = "--hub-config",
      paramLabel = "DIR",
      scope = ScopeType.INHERIT,
      description =
          "A hub's data directory (or its hub.json): connects to 127.0.0.1 at its HTTPS port as"
              + " iothubowner and trusts its CA; default: HERD_HUB_CONFIG.")
  Path hubConfig;

  @Option(
      names = "--ca",
      paramLabel = "FILE",
      scope = ScopeType.INHERIT,
      description =
          "PEM CA certificate(s) to trust; default: the CA named in hub.json, else HERD_CA, else"
              + " the JDK's trust store.")
  Path ca;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      scope = ScopeType.INHERIT,
      description = "table (default), json or csv.")
  Output.Format outputFormat;

  @Spec CommandSpec spec;

  private final Map<String, String> env;
  private final PrintStream out;
  private final PrintStream err;
  private HubClient client;
  private Integer width;

  /**
   * @param env the environment ({@code HERD_*}, {@code COLUMNS})
   * @param out where results go
   * @param err where errors, warnings and progress go
   */
  public HerdCli(Map<String, String> env, PrintStream out, PrintStream err) {
    this.env = env;
    this.out = out;
    this.err = err;
  }

  public static void main(String[] args) {
    // UTF-8 whatever the locale: JSON is UTF-8, and ids and values may be any text.
    PrintStream out =
        new PrintStream(
            new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16),
            false,
            StandardCharsets.UTF_8);
    PrintStream err =
        new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
    int code = new HerdCli(System.getenv(), out, err).run(args);
    out.flush();
    err.flush();
    System.exit(code);
  }

  /** Runs one command line and returns its exit code. */
  public int run(String... args) {
    CommandLine cmd = new CommandLine(this);
    // picocli reflects over every command it is given, a good part of the start-up time: give it
    // the one named (all for help, an unknown name, or none, so usage and suggestions list them).
    String name = commandName(args);
    if (name != null && COMMANDS.containsKey(name) && !name.equals("help")) {
      cmd.addSubcommand(name, COMMANDS.get(name));
    } else {
      COMMANDS.forEach(cmd::addSubcommand);
    }
    PrintWriter outWriter = new PrintWriter(out, true);
    PrintWriter errWriter = new PrintWriter(err, true);
    cmd.setOut(outWriter);
    cmd.setErr(errWriter);
    cmd.setCaseInsensitiveEnumValuesAllowed(true);
    cmd.setParameterExceptionHandler(
        (e, a) -> {
          errWriter.println("error: " + e.getMessage());
          CommandLine.UnmatchedArgumentException.printSuggestions(e, errWriter);
          errWriter.println(
              "Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
          return USAGE;
        });
    cmd.setExecutionExceptionHandler((e, c, parsed) -> failed(e));
    try {
      return cmd.execute(args);
    } finally {
      if (client != null) {
        client.close();
        client = null;
      }
      outWriter.flush();
      errWriter.flush();
      out.flush();
    }
  }

  /** The first argument that is neither an option nor a root option's value, or null. */
  static String commandName(String[] args) {
    for (int i = 0; i < args.length; i++) {
      if (VALUED_OPTIONS.contains(args[i])) {
        i++;
      } else if (!args[i].startsWith("-")) {
        return args[i];
      }
    }
    return null;
  }

  private int failed(Exception e) {
    if (e instanceof HubError he) {
      err.println(he.describe());
      return HUB_ERROR;
    }
    if (e instanceof HubClient.Unreachable) {
      err.println("error: " + e.getMessage());
      return HUB_ERROR;
    }
    err.println("error: " + e);
    if (env.containsKey("HERD_DEBUG")) {
      e.printStackTrace(err);
    }
    return HUB_ERROR;
  }

  /** {@code herd} alone: the usage, as a usage error. */
  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "a command is required");
  }

  /** The client for this run, connected as the options and environment say. */
  HubClient client() {
    if (client == null) {
      HubTarget target = target();
      try {
        client = new HubClient(target, () -> System.currentTimeMillis() / 1000);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage()); // the CA file
      }
    }
    return client;
  }

  private HubTarget target() {
    Path caFile = ca != null ? ca : pathEnv("HERD_CA");
    try {
      if (connectionString != null && hubConfig != null) {
        throw new IllegalArgumentException("give --connection-string or --hub-config, not both");
      }
      if (connectionString != null) {
        return HubTarget.of(ConnectionString.parse(connectionString), caFile);
      }
      if (hubConfig != null) {
        return HubTarget.fromHubConfig(hubConfig, ca);
      }
      String cs = env.get("HERD_CONNECTION_STRING");
      if (cs != null && !cs.isBlank()) {
        return HubTarget.of(ConnectionString.parse(cs), caFile);
      }
      Path dir = pathEnv("HERD_HUB_CONFIG");
      if (dir != null) {
        return HubTarget.fromHubConfig(dir, ca);
      }
      if (Files.isRegularFile(Path.of("data", "hub.json"))) {
        return HubTarget.fromHubConfig(Path.of("data"), ca);
      }
      throw new IllegalArgumentException(
          "no hub to talk to: give --connection-string (or HERD_CONNECTION_STRING) or"
              + " --hub-config DIR (or HERD_HUB_CONFIG)");
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  private Path pathEnv(String name) {
    String v = env.get(name);
    return v == null || v.isBlank() ? null : Path.of(v);
  }

  Output output() {
    return new Output(
        outputFormat == null ? Output.Format.TABLE : outputFormat,
        out,
        this::terminalWidth,
        err::println);
  }

  PrintStream err() {
    return err;
  }

  /**
   * Whether progress may redraw a line on stderr: {@code HERD_STDERR_TTY} (1 or 0, which {@code
   * scripts/herd} sets from {@code [ -t 2 ]}), else whether the JVM has a console.
   */
  boolean stderrIsTerminal() {
    String v = env.get("HERD_STDERR_TTY");
    if (v != null) {
      return v.equals("1") || v.equalsIgnoreCase("true");
    }
    return System.console() != null;
  }

  /** {@code COLUMNS}, else {@code stty size} of the controlling terminal, else 120. */
  int terminalWidth() {
    if (width == null) {
      width = parseWidth(env.get("COLUMNS"));
      if (width == null) {
        width = sttyWidth();
      }
      if (width == null) {
        width = DEFAULT_WIDTH;
      }
    }
    return width;
  }

  static Integer parseWidth(String text) {
    if (text == null) {
      return null;
    }
    try {
      int w = Integer.parseInt(text.strip());
      return w > 0 ? w : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static Integer sttyWidth() {
    File tty = new File("/dev/tty");
    if (!tty.exists()) {
      return null;
    }
    try {
      Process p =
          new ProcessBuilder("stty", "size")
              .redirectInput(tty)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      if (!p.waitFor(2, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return null;
      }
      String[] parts = text.strip().split("\\s+");
      return parts.length == 2 ? parseWidth(parts[1]) : null;
    } catch (Exception e) {
      return null;
    }
  }
}
