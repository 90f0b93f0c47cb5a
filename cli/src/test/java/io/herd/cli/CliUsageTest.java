package io.herd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Exit codes and option checks that need no hub: 2 for usage errors, 1 when it is unreachable. */
class CliUsageTest {
  private static final String CS =
      "HostName=127.0.0.1:%d;SharedAccessKeyName=iothubowner;"
          + "SharedAccessKey=ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=";
  private final Cli cli = new Cli(Map.of("HERD_CONNECTION_STRING", String.format(CS, 1)));

  @Test
  void unknownOptionsAndCommandsAreUsageErrors() {
    Cli.Result r = cli.run("devices", "list", "--bogus");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Unknown option: '--bogus'").contains("herd devices list --help");
    assertThat(cli.run("devicez").code()).isEqualTo(2);
    assertThat(cli.run().code()).isEqualTo(2);
    assertThat(cli.run("--output", "xml", "stats").err()).contains("xml");
  }

  @Test
  void theCommandNameIsTheFirstWordThatIsNoOptionOrOptionValue() {
    assertThat(HerdCli.commandName(new String[] {"--hub-config", "data", "-o", "json", "stats"}))
        .isEqualTo("stats");
    assertThat(HerdCli.commandName(new String[] {"--output=csv", "devices", "list"}))
        .isEqualTo("devices");
    assertThat(HerdCli.commandName(new String[] {"--ca", "ca.pem"})).isNull();
  }

  @Test
  void helpAndVersionExitZero() {
    Cli.Result help = cli.run("--help");
    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("devices", "twin", "query", "jobs", "monitor", "Exit codes");
    assertThat(cli.run("jobs", "schedule-twin", "--help").out()).contains("--max-per-minute");
    assertThat(cli.run("--version").out()).startsWith("herd ");
  }

  @Test
  void optionValuesAreCheckedBeforeAnythingIsSent() {
    String twinJob = "jobs schedule-twin --query * --desired {} ";
    assertUsage("--window", twinJob + "--window 25:00/10");
    assertUsage("--window", twinJob + "--window 22:00");
    assertUsage("--window", twinJob + "--window 22:00/0");
    assertUsage("--abort-min goes with --abort-percent", twinJob + "--abort-min 5");
    assertUsage("--abort-percent", twinJob + "--abort-percent 101");
    assertUsage("--start", twinJob + "--start tomorrow");
    assertUsage("--job-id", twinJob + "--job-id a_b");
    assertUsage("--max-concurrency", twinJob + "--max-concurrency 0");
    assertUsage("--tags and/or --desired", "jobs schedule-twin --query *");
    assertUsage("--query", "jobs schedule-twin --desired {}");
    assertUsage("--device-timeout", "jobs schedule-method --query * --method m --device-timeout 0");
    assertUsage("--timeout", "jobs schedule-method --query * --method m --response-timeout 301");
    assertUsage("--method", "jobs schedule-method --query *");
    assertUsage("--timeout", "method invoke d1 m --timeout 4");
    assertUsage("--connect-timeout", "method invoke d1 m --connect-timeout -1");
    assertUsage("not valid JSON", "method invoke d1 m --payload {oops");
    assertUsage("JSON object", "twin patch d1 --desired [1]");
    assertUsage("--tags and/or --desired", "twin patch d1");
    assertUsage("--page-size", "query x --page-size 0");
    assertUsage("--page-size", "jobs list --page-size 1001");
    assertUsage("--max-items", "devices list --max-items 0");
    assertUsage("--ack", "c2d send d1 x --ack sometimes");
    assertUsage("--expiry", "c2d send d1 x --expiry soon");
    assertUsage("DATA or --file", "c2d send d1 x --file /etc/hostname");
    assertUsage("nothing to update", "devices update d1");
    assertUsage("--status", "devices create d1 --status asleep");
    assertUsage("--status", "devices update d1 --status asleep");
    assertUsage("selfSigned", "devices create d1 --primary-key AAAA --auth selfSigned");
    assertUsage("--primary-thumbprint", "devices create d1 --auth selfSigned");
    assertUsage("one device", "devices delete d1 d2 --etag x");
    assertUsage("no such file", "devices import /nonexistent/fleet.csv");
    assertUsage("--count", "monitor --count 0");
  }

  @Test
  void aMissingOrBadHubIsAUsageError() {
    Cli none = new Cli(Map.of());
    assertThat(none.run("stats").err()).contains("no hub to talk to");
    assertThat(none.run("stats").code()).isEqualTo(2);
    Cli.Result device =
        none.run("--connection-string", "HostName=h;DeviceId=d;SharedAccessKey=AAAA", "stats");
    assertThat(device.code()).isEqualTo(2);
    assertThat(device.err()).contains("device connection string");
    Cli.Result both =
        cli.run("--connection-string", String.format(CS, 1), "--hub-config", "/tmp", "stats");
    assertThat(both.code()).isEqualTo(2);
    Cli.Result noCa = cli.run("--ca", "/nonexistent/ca.pem", "stats");
    assertThat(noCa.code()).isEqualTo(2);
    assertThat(noCa.err()).contains("cannot read the CA file /nonexistent/ca.pem");
    Cli.Result noFile = cli.run("--hub-config", "/nonexistent-herd-dir", "stats");
    assertThat(noFile.code()).isEqualTo(2);
    assertThat(noFile.err()).contains("cannot read");
  }

  @Test
  void anUnreachableHubExitsOne() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Cli.Result r = new Cli(Map.of("HERD_CONNECTION_STRING", String.format(CS, port))).run("stats");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("error: cannot reach the hub at https://127.0.0.1:" + port);
  }

  /** {@code commandLine} split at spaces exits 2 with {@code message} on stderr. */
  private void assertUsage(String message, String commandLine) {
    Cli.Result r = cli.run(commandLine.split(" "));
    assertThat(r.code()).as(commandLine).isEqualTo(2);
    assertThat(r.err()).as(commandLine).contains(message);
  }
}
