package io.herd.testkit;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.NOPLoggerFactory;

/**
 * The official Azure IoT Node SDKs (pinned by the classpath resources {@code node/package.json} and
 * {@code node/package-lock.json}) installed with {@code npm ci}, and a runner for Node scripts that
 * use them.
 *
 * <p>The install lives in a cache directory named after the lock file's hash, so it happens once
 * per machine and lock file, and later runs work offline. Typical use in a compatibility test:
 *
 * <pre>{@code
 * NodeSdk.assumeAvailable();
 * NodeSdk sdk = NodeSdk.installed();
 * NodeSdk.Result result =
 *     sdk.run(sdk.script("registry-compat.js"), env, Duration.ofMinutes(2));
 * assertThat(result.failedChecks()).isEmpty();
 * assertThat(result.exitCode()).isZero();
 * }</pre>
 */
public final class NodeSdk {
  /** The check runner every script requires, and the device checks of MQTT and AMQP. */
  private static final List<String> SHARED_MODULES =
      List.of("compat-harness.js", "device-compat.js");

  /**
   * System property or environment variable (checked in that order) naming the install directory to
   * use instead of {@code ${java.io.tmpdir}/herd-node-sdk-<lock hash>}.
   */
  public static final String CACHE_DIR_OVERRIDE = "HERD_NODE_CACHE";

  /** Written into {@code node_modules} after a successful install; holds the lock file's hash. */
  static final String MARKER = ".herd-installed";

  private static final String RESOURCE_DIR = "/node/";
  private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(5);
  // Bounds the wait for the last output after the process ended or was killed.
  private static final long DRAIN_MILLIS = 5_000;

  private static final Logger LOG = LoggerFactory.getLogger(NodeSdk.class);
  private static final Object INSTALL_LOCK = new Object();
  private static volatile NodeSdk installed;
  // A failed install is not retried in the same JVM: npm's own retries already took minutes.
  private static RuntimeException installFailure;
  private static volatile Boolean available;

  private final Path home;

  private NodeSdk(Path home) {
    this.home = home;
  }

  /** The outcome of a finished process. */
  public record Result(int exitCode, String stdout, String stderr) {

    public boolean succeeded() {
      return exitCode == 0;
    }

    /** The {@code not ok <name>: <details>} lines printed by a check script. */
    public List<String> failedChecks() {
      return stdout.lines().filter(line -> line.startsWith("not ok ")).toList();
    }
  }

  /**
   * Returns the SDKs, installing them first if the cache directory does not yet hold an install of
   * the current lock file. Safe to call from any thread and from several JVMs at once.
   *
   * @throws IllegalStateException if node or npm is missing, or {@code npm ci} fails or takes
   *     longer than 5 minutes (the message carries npm's output); later calls in the same JVM fail
   *     at once with the first failure as cause
   */
  public static NodeSdk installed() {
    NodeSdk sdk = installed;
    if (sdk != null) {
      return sdk;
    }
    synchronized (INSTALL_LOCK) {
      if (installed == null) {
        if (installFailure != null) {
          throw new IllegalStateException(
              "the Node SDKs failed to install earlier", installFailure);
        }
        try {
          installed = install();
        } catch (RuntimeException e) {
          installFailure = e;
          throw e;
        }
      }
      return installed;
    }
  }

  /** Whether {@code node} and {@code npm} are on the {@code PATH}. */
  public static boolean available() {
    Boolean result = available;
    if (result == null) {
      result = onPath("node") && onPath("npm");
      available = result;
    }
    return result;
  }

  /**
   * Skips the calling test if Node is missing, except on CI ({@code CI=true}), where the
   * compatibility tests must really run: there a missing Node fails the test.
   */
  public static void assumeAvailable() {
    if (available()) {
      return;
    }
    String message = "node and npm are not on PATH";
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      Assertions.fail(
          message + "; CI=true, so the Node SDK compatibility tests may not be skipped");
    }
    Assumptions.abort(message);
  }

  /** The install directory: working directory of scripts, holds {@code node_modules}. */
  public Path home() {
    return home;
  }

  public Path nodeModules() {
    return home.resolve("node_modules");
  }

  /**
   * Copies the script shipped as classpath resource {@code node/<name>} into the install directory
   * (where {@code require} finds the SDKs) and returns its path.
   *
   * @throws IllegalArgumentException if there is no such resource
   */
  public Path script(String name) {
    if (name.isEmpty() || name.startsWith(".") || name.contains("/") || name.contains("\\")) {
      throw new IllegalArgumentException("not a plain script file name: " + name);
    }
    Path target = home.resolve("scripts").resolve(name);
    try {
      // Compatibility scripts require the shared modules beside them.
      for (String shared : SHARED_MODULES) {
        writeIfChanged(target.resolveSibling(shared), resource(shared));
      }
      writeIfChanged(target, resource(name));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy script " + name + " to " + target, e);
    }
    return target;
  }

  /**
   * Runs {@code node <script>} in the install directory and waits for it to end. Output goes to the
   * result and, line by line and prefixed with the script's name, to the test log.
   *
   * @param env added to this JVM's environment; a {@code null} value removes the variable. {@code
   *     NODE_PATH} is preset to {@link #nodeModules()} so that scripts outside the install
   *     directory find the SDKs too.
   * @throws IllegalStateException if the script runs longer than {@code timeout}; its process tree
   *     is killed first, and the message carries the output so far
   */
  public Result run(Path script, Map<String, String> env, Duration timeout) {
    Map<String, String> environment = new LinkedHashMap<>();
    String inherited = System.getenv("NODE_PATH");
    environment.put(
        "NODE_PATH",
        inherited == null || inherited.isEmpty()
            ? nodeModules().toString()
            : nodeModules() + File.pathSeparator + inherited);
    environment.putAll(env);
    Path absolute = script.toAbsolutePath();
    return exec(
        List.of("node", absolute.toString()),
        home,
        environment,
        timeout,
        String.valueOf(absolute.getFileName()));
  }

  private static NodeSdk install() {
    if (!available()) {
      throw new IllegalStateException("node and npm must be on PATH to install the Node SDKs");
    }
    try {
      byte[] packageJson = resource("package.json");
      byte[] lock = resource("package-lock.json");
      String hash = sha256Hex(lock).substring(0, 12);
      Path home = cacheDir(hash);
      Files.createDirectories(home);
      // Forked test JVMs and parallel module builds may install into the same directory at once.
      try (FileChannel channel =
              FileChannel.open(
                  home.resolve(".install.lock"),
                  StandardOpenOption.CREATE,
                  StandardOpenOption.WRITE);
          FileLock ignored = channel.lock()) {
        writeIfChanged(home.resolve("package.json"), packageJson);
        writeIfChanged(home.resolve("package-lock.json"), lock);
        Path marker = home.resolve("node_modules").resolve(MARKER);
        if (hash.equals(readOrNull(marker))) {
          LOG.debug("Node SDKs already installed [dir: {}, lock: {}]", home, hash);
        } else {
          npmCi(home);
          Files.writeString(marker, hash);
        }
      }
      return new NodeSdk(home);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot install the Node SDKs", e);
    }
  }

  private static void npmCi(Path home) {
    LOG.info("installing the Node SDKs with npm ci [dir: {}]", home);
    // npm ci deletes node_modules first, so a half-finished earlier install cannot leave a marker.
    Result npm =
        exec(
            List.of("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefer-offline"),
            home,
            Map.of("NPM_CONFIG_UPDATE_NOTIFIER", "false"),
            INSTALL_TIMEOUT,
            "npm ci");
    if (!npm.succeeded()) {
      throw new IllegalStateException(
          String.format(
              "npm ci failed in %s (exit %d)%nstdout:%n%s%nstderr:%n%s",
              home, npm.exitCode(), npm.stdout(), npm.stderr()));
    }
  }

  private static Path cacheDir(String hash) {
    String override = System.getProperty(CACHE_DIR_OVERRIDE, System.getenv(CACHE_DIR_OVERRIDE));
    if (override != null && !override.isBlank()) {
      return Path.of(override).toAbsolutePath();
    }
    return Path.of(System.getProperty("java.io.tmpdir"), "herd-node-sdk-" + hash);
  }

  private static Result exec(
      List<String> command, Path dir, Map<String, String> env, Duration timeout, String label) {
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
    env.forEach(
        (name, value) -> {
          if (value == null) {
            builder.environment().remove(name);
          } else {
            builder.environment().put(name, value);
          }
        });
    Process process;
    try {
      process = builder.start();
      // No input: a script that reads stdin gets EOF instead of hanging until the timeout.
      process.getOutputStream().close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + String.join(" ", command), e);
    }
    OutputPump out = OutputPump.start(process.getInputStream(), label + " stdout");
    OutputPump err = OutputPump.start(process.getErrorStream(), label + " stderr");
    boolean exited;
    try {
      exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      killTree(process);
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + label, e);
    }
    if (!exited) {
      killTree(process);
      throw new IllegalStateException(
          String.format(
              "%s timed out after %s; killed its process tree%nstdout:%n%s%nstderr:%n%s",
              label, timeout, out.text(), err.text()));
    }
    return new Result(process.exitValue(), out.text(), err.text());
  }

  private static void killTree(Process process) {
    // Take the descendants first: once the parent is gone they are re-parented and not found.
    List<ProcessHandle> descendants = process.descendants().toList();
    process.destroyForcibly();
    descendants.forEach(ProcessHandle::destroyForcibly);
    try {
      process.waitFor(DRAIN_MILLIS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Copies a process stream into a buffer and the log, on its own thread. */
  private static final class OutputPump implements Runnable {
    // Without an SLF4J provider the log drops everything; the output must still reach the test log.
    private static final boolean ECHO =
        LoggerFactory.getILoggerFactory() instanceof NOPLoggerFactory;

    private final InputStream stream;
    private final String prefix;
    private final StringBuffer text = new StringBuffer();
    private final Thread thread;

    private OutputPump(InputStream stream, String prefix) {
      this.stream = stream;
      this.prefix = prefix;
      this.thread = new Thread(this, "node-sdk " + prefix);
      thread.setDaemon(true);
    }

    static OutputPump start(InputStream stream, String prefix) {
      OutputPump pump = new OutputPump(stream, prefix);
      pump.thread.start();
      return pump;
    }

    @Override
    public void run() {
      try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, UTF_8))) {
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
          text.append(line).append('\n');
          if (ECHO) {
            System.out.println("[" + prefix + "] " + line);
          } else {
            LOG.info("[{}] {}", prefix, line);
          }
        }
      } catch (IOException e) {
        // The stream closes under us when the process is killed; keep what was read.
        LOG.debug("stopped reading [stream: {}, reason: {}]", prefix, e.toString());
      }
    }

    /** The output, complete once the process ended (a killed tree may leave a partial tail). */
    String text() {
      try {
        thread.join(DRAIN_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return text.toString();
    }
  }

  private static boolean onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    return Arrays.stream(path.split(File.pathSeparator))
        .filter(dir -> !dir.isEmpty())
        .anyMatch(
            dir -> {
              try {
                return Files.isExecutable(Path.of(dir, command));
              } catch (InvalidPathException e) {
                return false;
              }
            });
  }

  private static byte[] resource(String name) throws IOException {
    try (InputStream in = NodeSdk.class.getResourceAsStream(RESOURCE_DIR + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no classpath resource " + RESOURCE_DIR + name);
      }
      return in.readAllBytes();
    }
  }

  /** Writes through a temporary file and an atomic move, so readers never see half a file. */
  private static void writeIfChanged(Path target, byte[] content) throws IOException {
    if (Files.exists(target) && Arrays.equals(Files.readAllBytes(target), content)) {
      return;
    }
    Files.createDirectories(target.getParent());
    Path temp = Files.createTempFile(target.getParent(), target.getFileName() + ".", ".tmp");
    try {
      Files.write(temp, content);
      Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  private static String readOrNull(Path file) throws IOException {
    try {
      return Files.readString(file).trim();
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  private static String sha256Hex(byte[] content) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
