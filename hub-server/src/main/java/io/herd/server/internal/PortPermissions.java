package io.herd.server.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether this process may bind a port, judged from the kernel's state rather than from a failed
 * bind's message: ports at or above {@code ip_unprivileged_port_start} are open to everyone, lower
 * ones need CAP_NET_BIND_SERVICE (root has it).
 */
public final class PortPermissions {
  private static final int CAP_NET_BIND_SERVICE = 10;

  private PortPermissions() {}

  private static final Path UNPRIVILEGED_START =
      Path.of("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  private static final Path STATUS = Path.of("/proc/self/status");

  public static boolean mayBind(int port) {
    return mayBind(port, UNPRIVILEGED_START, STATUS);
  }

  /** As {@link #mayBind(int)}, reading the kernel's state from the given files. */
  static boolean mayBind(int port, Path unprivilegedStartFile, Path statusFile) {
    if (port == 0 || port >= unprivilegedStart(unprivilegedStartFile)) {
      return true;
    }
    return hasBindCapability(statusFile);
  }

  static int unprivilegedStart(Path file) {
    // Read as a stream to end of line: procfs reports sizes that Files.readString trusts, and
    // then returns only the first character ("1" for "1024").
    try (BufferedReader r = Files.newBufferedReader(file)) {
      return Integer.parseInt(r.readLine().trim());
    } catch (IOException | NumberFormatException | NullPointerException | SecurityException e) {
      return 1024; // not Linux: the classic rule
    }
  }

  private static boolean hasBindCapability(Path statusFile) {
    try {
      try (BufferedReader r = Files.newBufferedReader(statusFile)) {
        for (String line = r.readLine(); line != null; line = r.readLine()) {
          if (line.startsWith("CapEff:")) {
            BigInteger caps = new BigInteger(line.substring("CapEff:".length()).trim(), 16);
            return caps.testBit(CAP_NET_BIND_SERVICE);
          }
        }
      }
    } catch (IOException | NumberFormatException | SecurityException e) {
      // fall through: unknown, so let the bind itself decide
    }
    return "root".equals(System.getProperty("user.name"));
  }
}
