package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ServeSettingsTest {
  @TempDir Path dir;

  private HubConfig config(Map<String, String> env, String... args) throws Exception {
    Main.Serve serve = new Main.Serve();
    new CommandLine(serve).parseArgs(args);
    return HubConfig.fromJson(serve.settings(env));
  }

  @Test
  void defaultsMatchTheDocumentation() throws Exception {
    Path empty = Files.writeString(dir.resolve("empty.json"), "{}");
    HubConfig c = config(Map.of(), "--config", empty.toString());
    assertThat(c.dataDir()).isEqualTo(Path.of("./data").toAbsolutePath().normalize());
    assertThat(c.hostName()).isEqualTo("localhost");
    assertThat(c.httpsPort()).isEqualTo(443);
    assertThat(c.mqttPort()).isEqualTo(8883);
    assertThat(c.amqpPort()).isEqualTo(5671);
    assertThat(c.pgUrl()).isNull();
    assertThat(c.fallbackHttpsPort()).isEqualTo(8443);
    assertThat(c.jobsDir()).isEqualTo(c.dataDir().resolve("jobs"));
  }

  @Test
  void jobsDirComesFromTheEnvironmentOrTheFlag() throws Exception {
    Path empty = Files.writeString(dir.resolve("empty.json"), "{}");
    assertThat(
            config(Map.of("HERD_JOBS_DIR", "/srv/herd-jobs"), "--config", empty.toString())
                .jobsDir())
        .isEqualTo(Path.of("/srv/herd-jobs"));
    assertThat(
            config(
                    Map.of("HERD_JOBS_DIR", "/srv/herd-jobs"),
                    "--config",
                    empty.toString(),
                    "--jobs-dir",
                    "/srv/other/../exchange")
                .jobsDir())
        .isEqualTo(Path.of("/srv/exchange"));
  }

  @Test
  void flagsWinOverTheEnvironmentWhichWinsOverTheFile() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("herd.json"),
            "{\"hostName\":\"from-file\",\"httpsPort\":1001,\"mqttPort\":1002,\"amqpPort\":1003}");
    Map<String, String> env =
        Map.of(
            "HERD_HTTPS_PORT",
            "2001",
            "HERD_MQTT_PORT",
            "2002",
            "HERD_PG_URL",
            "postgresql://h/db");
    HubConfig c = config(env, "--config", file.toString(), "--https-port", "3001");
    assertThat(c.hostName()).isEqualTo("from-file");
    assertThat(c.httpsPort()).isEqualTo(3001);
    assertThat(c.mqttPort()).isEqualTo(2002);
    assertThat(c.amqpPort()).isEqualTo(1003);
    assertThat(c.pgUrl()).isEqualTo("postgresql://h/db");
  }

  @Test
  void badSettingsSayWhat() {
    assertThatThrownBy(() -> config(Map.of("HERD_MQTT_PORT", "lots")))
        .hasMessageContaining("mqttPort must be a number");
    assertThatThrownBy(() -> config(Map.of(), "--https-port", "70000"))
        .hasMessageContaining("https-port must be 0..65535");
    assertThatThrownBy(() -> config(Map.of(), "--tls-cert", "/x.pem"))
        .hasMessageContaining("--tls-cert and --tls-key go together");
  }

  @Test
  void queryIndexesComeFromTheFileTheEnvironmentOrTheFlag() throws Exception {
    Path file =
        Files.writeString(dir.resolve("idx.json"), "{\"queryIndexes\":[\"tags.site\",\"status\"]}");
    assertThat(config(Map.of(), "--config", file.toString()).queryIndexes())
        .containsExactly("tags.site", "status");
    assertThat(
            config(
                    Map.of("HERD_QUERY_INDEXES", "tags.a, properties.reported.fw"),
                    "--config",
                    file.toString())
                .queryIndexes())
        .containsExactly("tags.a", "properties.reported.fw");
    assertThat(
            config(
                    Map.of("HERD_QUERY_INDEXES", "tags.a"),
                    "--config",
                    file.toString(),
                    "--query-indexes",
                    "connectionState")
                .queryIndexes())
        .containsExactly("connectionState");
    Path empty = Files.writeString(dir.resolve("none.json"), "{}");
    assertThat(config(Map.of(), "--config", empty.toString()).queryIndexes()).isEmpty();
    assertThatThrownBy(
            () -> config(Map.of(), "--config", empty.toString(), "--query-indexes", "nope.x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nope.x");
  }

  @Test
  void querySettingsComeFromTheEnvironmentOrTheFlagsWithDefaults() throws Exception {
    Path empty = Files.writeString(dir.resolve("none2.json"), "{}");
    assertThat(config(Map.of(), "--config", empty.toString()).query())
        .isEqualTo(HubConfig.QueryConfig.defaults());
    assertThat(
            config(
                    Map.of("HERD_QUERY_COLUMNS", "tags.region, tags.floor"),
                    "--config",
                    empty.toString(),
                    "--query-auto-columns",
                    "0",
                    "--query-column-max-values",
                    "100",
                    "--query-render-cache-mb",
                    "0")
                .query())
        .isEqualTo(new HubConfig.QueryConfig(List.of("tags.region", "tags.floor"), 0, 100, 0));
    assertThat(
            config(Map.of("HERD_QUERY_RENDER_CACHE_MB", "8"), "--config", empty.toString())
                .query()
                .renderCacheMb())
        .isEqualTo(8);
    assertThatThrownBy(
            () -> config(Map.of(), "--config", empty.toString(), "--query-columns", "nope.x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nope");
    assertThatThrownBy(
            () -> config(Map.of(), "--config", empty.toString(), "--query-auto-columns", "-1"))
        .hasMessageContaining("query-auto-columns");
  }
}
