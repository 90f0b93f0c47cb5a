package io.herd.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeSdkTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  @TempDir Path temp;

  @BeforeAll
  static void requireNode() {
    NodeSdk.assumeAvailable();
  }

  @Test
  void installsThePinnedServiceSdk() throws IOException {
    // Outside the install directory, so require() has to find the SDK through NODE_PATH.
    Path script =
        Files.writeString(
            temp.resolve("version.js"),
            "console.log(require('azure-iothub/package.json').version);\n");

    NodeSdk.Result result = NodeSdk.installed().run(script, Map.of(), TIMEOUT);

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.stdout().strip()).isEqualTo("1.16.6");
  }

  @Test
  void installIsIdempotentAndMarked() throws IOException {
    NodeSdk sdk = NodeSdk.installed();

    assertThat(NodeSdk.installed()).isSameAs(sdk);
    assertThat(sdk.nodeModules().resolve(NodeSdk.MARKER)).exists();
    assertThat(Files.readString(sdk.nodeModules().resolve(NodeSdk.MARKER)).strip()).hasSize(12);
  }

  @Test
  void passesEnvironmentAndCapturesBothStreamsAndExitCode() throws IOException {
    Path script =
        Files.writeString(
            temp.resolve("env.js"),
            "console.log(process.env.HERD_GREETING);\n"
                + "console.error('to stderr');\n"
                + "console.log(process.env.HERD_REMOVED === undefined);\n"
                + "process.exit(3);\n");
    Map<String, String> env = new HashMap<>();
    env.put("HERD_GREETING", "hello");
    env.put("HERD_REMOVED", null);

    NodeSdk.Result result = NodeSdk.installed().run(script, env, TIMEOUT);

    assertThat(result.exitCode()).isEqualTo(3);
    assertThat(result.stdout()).isEqualTo("hello\ntrue\n");
    assertThat(result.stderr()).isEqualTo("to stderr\n");
  }

  @Test
  void killsTheProcessTreeOnTimeout() throws IOException {
    Path script =
        Files.writeString(
            temp.resolve("hang.js"),
            "const child = require('child_process')"
                + ".spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);\n"
                + "console.log('child ' + child.pid);\n"
                + "setInterval(() => {}, 1000);\n");

    IllegalStateException timeout =
        catchThrowableOfType(
            IllegalStateException.class,
            () -> NodeSdk.installed().run(script, Map.of(), Duration.ofSeconds(3)));

    assertThat(timeout).hasMessageContaining("timed out");
    Matcher child = Pattern.compile("child (\\d+)").matcher(timeout.getMessage());
    assertThat(child.find()).as(timeout.getMessage()).isTrue();
    ProcessHandle.of(Long.parseLong(child.group(1)))
        .ifPresent(grandchild -> assertThat(grandchild.onExit()).succeedsWithin(TIMEOUT));
  }

  @Test
  void registryCompatScriptLoadsAndReportsMissingEnvironment() {
    NodeSdk sdk = NodeSdk.installed();
    Path script = sdk.script("registry-compat.js");

    Map<String, String> env = new HashMap<>();
    env.put("HERD_SERVICE_CS", null);
    NodeSdk.Result result = sdk.run(script, env, TIMEOUT);

    assertThat(script).startsWith(sdk.home()).exists();
    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.failedChecks())
        .containsExactly("not ok environment: HERD_SERVICE_CS is not set");
    assertThat(result.stdout().lines()).last().isEqualTo("0 passed, 1 failed");
  }

  @Test
  void rejectsUnknownScripts() {
    assertThatThrownBy(() -> NodeSdk.installed().script("no-such-script.js"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> NodeSdk.installed().script("../package.json"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
