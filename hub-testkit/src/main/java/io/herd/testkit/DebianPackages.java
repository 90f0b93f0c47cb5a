package io.herd.testkit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Command-line peers from Debian packages (e.g. mosquitto_pub) for tests: installed with apt-get
 * when missing and the tests run as root, as CI does; otherwise the test is skipped and says why.
 */
public final class DebianPackages {
  private static final long INSTALL_TIMEOUT_SECONDS = 300;

  private DebianPackages() {}

  /** The path of {@code command}, installing {@code pkg} first when needed. */
  public static synchronized Path require(String command, String pkg) {
    Path found = which(command);
    if (found == null && isRoot()) {
      install(pkg);
      found = which(command);
    }
    assumeTrue(
        found != null,
        command + " is not installed and could not be installed (apt-get install " + pkg + ")");
    return found;
  }

  private static Path which(String command) {
    for (String dir :
        System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
      Path p = Path.of(dir, command);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static void install(String pkg) {
    try {
      Process p =
          new ProcessBuilder("apt-get", "install", "-y", "-q", "--no-install-recommends", pkg)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!p.waitFor(INSTALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return;
      }
      if (p.exitValue() != 0) {
        // The package lists may be missing on a fresh machine.
        Process update =
            new ProcessBuilder("apt-get", "update", "-q")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (update.waitFor(INSTALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
          Process retry =
              new ProcessBuilder("apt-get", "install", "-y", "-q", "--no-install-recommends", pkg)
                  .redirectErrorStream(true)
                  .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                  .start();
          retry.waitFor(INSTALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
      }
    } catch (Exception e) {
      // Not installable here: require() skips the test.
    }
  }
}
