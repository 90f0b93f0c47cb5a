package io.herd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import org.junit.jupiter.api.Test;

class ConnectionStringTest {
  private static final String KEY = "c+Jb8iBdKKSXF+9/cxN+O1cjMlFgvHzyK0V0yWZaUl0=";

  @Test
  void parsesAServiceConnectionStringInAnyOrder() {
    ConnectionString cs =
        ConnectionString.parse(
            "SharedAccessKey=" + KEY + ";HostName=hub.example.com;SharedAccessKeyName=service");
    assertThat(cs.hostName()).isEqualTo("hub.example.com");
    assertThat(cs.keyName()).isEqualTo("service");
    assertThat(cs.key()).isEqualTo(KEY);
    assertThat(cs.port()).isEqualTo(443);
    assertThat(HubTarget.of(cs, null).baseUri())
        .isEqualTo(URI.create("https://hub.example.com:443"));
  }

  @Test
  void keyMayContainEqualsSignsBecauseOnlyTheFirstSplits() {
    ConnectionString cs =
        ConnectionString.parse("HostName=h;SharedAccessKeyName=p;SharedAccessKey=" + KEY + ";");
    assertThat(cs.key()).endsWith("=");
  }

  @Test
  void hostNameMayCarryAPort() {
    ConnectionString cs =
        ConnectionString.parse(
            "HostName=localhost:8443;SharedAccessKeyName=iothubowner;SharedAccessKey=" + KEY);
    assertThat(cs.hostName()).isEqualTo("localhost:8443");
    assertThat(cs.host()).isEqualTo("localhost");
    assertThat(cs.port()).isEqualTo(8443);
    assertThat(HubTarget.of(cs, null).baseUri()).isEqualTo(URI.create("https://localhost:8443"));
  }

  @Test
  void bracketedIpv6HostKeepsItsColons() {
    ConnectionString cs =
        ConnectionString.parse("HostName=[::1]:9443;SharedAccessKeyName=p;SharedAccessKey=" + KEY);
    assertThat(cs.host()).isEqualTo("[::1]");
    assertThat(cs.port()).isEqualTo(9443);
  }

  @Test
  void rejectsMissingFieldsDeviceStringsBadPortsAndKeys() {
    assertThatThrownBy(() -> ConnectionString.parse("HostName=h;SharedAccessKey=" + KEY))
        .hasMessageContaining("SharedAccessKeyName");
    assertThatThrownBy(
            () -> ConnectionString.parse("HostName=h;DeviceId=d1;SharedAccessKey=" + KEY))
        .hasMessageContaining("device");
    assertThatThrownBy(
            () ->
                ConnectionString.parse(
                    "HostName=h:99999;SharedAccessKeyName=p;SharedAccessKey=" + KEY))
        .hasMessageContaining("bad port");
    assertThatThrownBy(
            () ->
                ConnectionString.parse(
                    "HostName=h;SharedAccessKeyName=p;SharedAccessKey=not base64!"))
        .hasMessageContaining("base64");
    assertThatThrownBy(() -> ConnectionString.parse("  ")).hasMessageContaining("empty");
  }
}
