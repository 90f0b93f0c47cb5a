package io.herd.server.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PortPermissionsTest {
  @TempDir Path dir;

  private Path file(String name, String content) throws Exception {
    return Files.writeString(dir.resolve(name), content);
  }

  @Test
  void privilegedPortsNeedTheBindCapability() throws Exception {
    Path start = file("start", "1024\n");
    Path none = file("none", "Name:\tjava\nCapEff:\t0000000000000000\n");
    Path bind = file("bind", "Name:\tjava\nCapEff:\t0000000000000400\n");
    assertThat(PortPermissions.mayBind(443, start, none)).isFalse();
    assertThat(PortPermissions.mayBind(443, start, bind)).isTrue();
    assertThat(PortPermissions.mayBind(8443, start, none)).isTrue();
    assertThat(PortPermissions.mayBind(0, start, none)).isTrue();
  }

  @Test
  void aLoweredUnprivilegedStartOpensLowPorts() throws Exception {
    Path none = file("none", "CapEff:\t0000000000000000\n");
    assertThat(PortPermissions.mayBind(443, file("start", "80\n"), none)).isTrue();
  }

  @Test
  void readsTheRealProcfsValueWhole() throws Exception {
    // procfs reports sizes that made Files.readString return "1" for "1024".
    Path real = Path.of("/proc/sys/net/ipv4/ip_unprivileged_port_start");
    assumeTrue(Files.exists(real), "Linux only");
    Process cat = new ProcessBuilder("cat", real.toString()).start();
    String expected =
        new String(cat.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(PortPermissions.unprivilegedStart(real)).isEqualTo(Integer.parseInt(expected));
  }
}
