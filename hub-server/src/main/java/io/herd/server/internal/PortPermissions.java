package io.herd.server.internal;

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

  public static boolean mayBind(int port) {
    if (port == 0 || port >= unprivilegedStart()) {
      return true;
    }
    return hasBindCapability();
  }

  private static int unprivilegedStart() {
    try {
      return Integer.parseInt(
          Files.readString(Path.of("/proc/sys/net/ipv4/ip_unprivileged_port_start")).trim());
    } catch (IOException | NumberFormatException | SecurityException e) {
      return 1024; // not Linux: the classic rule
    }
  }

  private static boolean hasBindCapability() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("CapEff:")) {
          BigInteger caps = new BigInteger(line.substring("CapEff:".length()).trim(), 16);
          return caps.testBit(CAP_NET_BIND_SERVICE);
        }
      }
    } catch (IOException | NumberFormatException | SecurityException e) {
      // fall through: unknown, so let the bind itself decide
    }
    return "root".equals(System.getProperty("user.name"));
  }
}
