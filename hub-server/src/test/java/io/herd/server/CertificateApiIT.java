package io.herd.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.registry.AuthenticationType;
import io.herd.registry.X509Identity;
import io.herd.testkit.TestPki;
import io.herd.testkit.TestPki.Issued;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The X.509 CA certificate routes of a running hub, over HTTPS. */
class CertificateApiIT {
  private static final String API = "?api-version=2021-04-12";
  private static final DateTimeFormatter RFC_1123 =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
          .withZone(ZoneOffset.UTC);
  private static TestHub hub;

  @BeforeAll
  static void start() throws Exception {
    hub = TestHub.start();
  }

  @AfterAll
  static void stop() {
    hub.close();
  }

  private static HttpRequest<Buffer> request(HttpMethod method, String path) {
    return hub.client.request(method, path + API).putHeader("Authorization", hub.owner());
  }

  private static HttpResponse<Buffer> send(HttpRequest<Buffer> r, String contentType, String body) {
    if (body == null) {
      return Future.await(r.send());
    }
    if (contentType != null) {
      r.putHeader("Content-Type", contentType);
    }
    return Future.await(r.sendBuffer(Buffer.buffer(body)));
  }

  private static HttpResponse<Buffer> putPem(String name, String pem) {
    return send(request(HttpMethod.PUT, "/certificates/" + name), "application/x-pem-file", pem);
  }

  private static void assertError(HttpResponse<Buffer> resp, int status, String name) {
    assertThat(resp.statusCode()).as(resp.bodyAsString()).isEqualTo(status);
    assertThat(resp.getHeader("iothub-errorcode")).isEqualTo(name);
    assertThat(resp.bodyAsJsonObject().getString("Message")).startsWith("ErrorCode:" + name + ";");
  }

  private static String sha1(Issued c) throws Exception {
    return HexFormat.of()
        .withUpperCase()
        .formatHex(MessageDigest.getInstance("SHA-1").digest(c.certificate().getEncoded()));
  }

  @Test
  void rawPemPutThenGetListAndDelete() throws Exception {
    Issued ca = TestPki.certificate("Raw Root").ca().build();
    HttpResponse<Buffer> put = putPem("raw-root", ca.pem());
    assertThat(put.statusCode()).as(put.bodyAsString()).isEqualTo(200);
    assertThat(put.getHeader("Content-Type")).isEqualTo("application/json; charset=utf-8");
    JsonObject c = put.bodyAsJsonObject();
    assertThat(c.getString("name")).isEqualTo("raw-root");
    assertThat(c.getString("etag")).isNotBlank();
    JsonObject p = c.getJsonObject("properties");
    assertThat(p.getString("subject")).isEqualTo("CN=Raw Root,O=Herd test");
    assertThat(p.getString("thumbprint")).isEqualTo(sha1(ca));
    assertThat(p.getString("expiry"))
        .isEqualTo(RFC_1123.format(ca.certificate().getNotAfter().toInstant()));
    assertThat(p.getString("created")).endsWith(" GMT").isEqualTo(p.getString("updated"));
    assertThat(p.getBoolean("isVerified")).isTrue();
    assertThat(p.getString("certificate")).isEqualTo(ca.pem());

    HttpResponse<Buffer> got = send(request(HttpMethod.GET, "/certificates/raw-root"), null, null);
    assertThat(got.statusCode()).isEqualTo(200);
    assertThat(got.bodyAsJsonObject()).isEqualTo(c);

    JsonArray value =
        send(request(HttpMethod.GET, "/certificates"), null, null)
            .bodyAsJsonObject()
            .getJsonArray("value");
    assertThat(value.stream().map(o -> ((JsonObject) o).getString("name"))).contains("raw-root");

    HttpResponse<Buffer> deleted =
        send(
            request(HttpMethod.DELETE, "/certificates/raw-root")
                .putHeader("If-Match", "\"" + c.getString("etag") + "\""),
            null,
            null);
    assertThat(deleted.statusCode()).isEqualTo(204);
    assertError(
        send(request(HttpMethod.GET, "/certificates/raw-root"), null, null),
        404,
        "GenericNotFound");
    assertError(
        send(request(HttpMethod.DELETE, "/certificates/raw-root"), null, null),
        404,
        "GenericNotFound");
  }

  @Test
  void jsonBodiesAndPlainTextAreAcceptedToo() {
    Issued a = TestPki.certificate("Json Root A").ca().build();
    Issued b = TestPki.certificate("Json Root B").ca().build();
    Issued c = TestPki.certificate("Text Root").ca().build();
    Issued d = TestPki.certificate("Untyped Root").ca().build();
    HttpResponse<Buffer> azureShape =
        send(
            request(HttpMethod.PUT, "/certificates/json-a"),
            "application/json; charset=utf-8",
            new JsonObject()
                .put("properties", new JsonObject().put("certificate", a.pem()))
                .encode());
    assertThat(azureShape.statusCode()).as(azureShape.bodyAsString()).isEqualTo(200);
    HttpResponse<Buffer> flat =
        send(
            request(HttpMethod.PUT, "/certificates/json-b"),
            "application/json",
            new JsonObject().put("certificate", b.pem()).encode());
    assertThat(flat.statusCode()).as(flat.bodyAsString()).isEqualTo(200);
    HttpResponse<Buffer> text =
        send(request(HttpMethod.PUT, "/certificates/text"), "text/plain", c.pem());
    assertThat(text.statusCode()).as(text.bodyAsString()).isEqualTo(200);
    HttpResponse<Buffer> untyped =
        send(request(HttpMethod.PUT, "/certificates/untyped"), null, d.pem());
    assertThat(untyped.statusCode()).as(untyped.bodyAsString()).isEqualTo(200);
    for (var entry :
        List.of(new Object[] {"json-a", a}, new Object[] {"json-b", b}, new Object[] {"text", c})) {
      JsonObject got =
          send(request(HttpMethod.GET, "/certificates/" + entry[0]), null, null).bodyAsJsonObject();
      assertThat(got.getJsonObject("properties").getString("certificate"))
          .isEqualTo(((Issued) entry[1]).pem());
    }
  }

  @Test
  void badCertificatesGetA400SayingWhatIsWrong() {
    HttpResponse<Buffer> garbage =
        putPem("bad", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    assertError(garbage, 400, "ArgumentInvalid");
    assertThat(garbage.bodyAsJsonObject().getString("Message")).contains("cannot be parsed");

    Issued root = TestPki.certificate("Some Root").ca().build();
    Issued device = TestPki.certificate("dev-1").issuedBy(root).clientAuth().build();
    HttpResponse<Buffer> notCa = putPem("device-cert", device.pem());
    assertError(notCa, 400, "ArgumentInvalid");
    assertThat(notCa.bodyAsJsonObject().getString("Message")).contains("is not a CA certificate");

    Issued expired =
        TestPki.certificate("Expired Root")
            .ca()
            .validity(
                Instant.now().minus(Duration.ofDays(5)), Instant.now().minus(Duration.ofDays(1)))
            .build();
    HttpResponse<Buffer> old = putPem("expired", expired.pem());
    assertError(old, 400, "ArgumentInvalid");
    assertThat(old.bodyAsJsonObject().getString("Message")).contains("expired at");

    assertError(
        send(request(HttpMethod.PUT, "/certificates/no-cert"), "application/json", "{}"),
        400,
        "ArgumentNull");
    assertError(
        send(request(HttpMethod.PUT, "/certificates/no-json"), "application/json", "{nope"),
        400,
        "DeserializationError");
    HttpResponse<Buffer> badName = putPem("bad%20name", root.pem());
    assertError(badName, 400, "ArgumentInvalid");
    assertThat(badName.bodyAsJsonObject().getString("Message")).contains("Certificate name");
    assertError(
        send(request(HttpMethod.GET, "/certificates/bad"), null, null), 404, "GenericNotFound");
  }

  @Test
  void ifMatchMustMatchTheCurrentEtag() {
    Issued first = TestPki.certificate("Etag Root 1").ca().build();
    Issued second = TestPki.certificate("Etag Root 2").ca().build();
    String etag = putPem("etag-root", first.pem()).bodyAsJsonObject().getString("etag");

    assertError(
        send(
            request(HttpMethod.PUT, "/certificates/etag-root").putHeader("If-Match", "\"stale\""),
            "application/x-pem-file",
            second.pem()),
        412,
        "PreconditionFailed");
    assertError(
        send(
            request(HttpMethod.DELETE, "/certificates/etag-root")
                .putHeader("If-Match", "\"stale\""),
            null,
            null),
        412,
        "PreconditionFailed");

    HttpResponse<Buffer> replaced =
        send(
            request(HttpMethod.PUT, "/certificates/etag-root")
                .putHeader("If-Match", "\"" + etag + "\""),
            "application/x-pem-file",
            second.pem());
    assertThat(replaced.statusCode()).as(replaced.bodyAsString()).isEqualTo(200);
    assertThat(replaced.bodyAsJsonObject().getString("etag")).isNotEqualTo(etag);
    assertThat(replaced.bodyAsJsonObject().getJsonObject("properties").getString("subject"))
        .contains("Etag Root 2");
  }

  @Test
  void readersMayListButNotRegister() {
    String reader = hub.token("registryRead");
    HttpResponse<Buffer> list =
        Future.await(
            hub.client
                .request(HttpMethod.GET, "/certificates" + API)
                .putHeader("Authorization", reader)
                .send());
    assertThat(list.statusCode()).isEqualTo(200);
    HttpResponse<Buffer> denied =
        send(
            hub.client
                .request(HttpMethod.PUT, "/certificates/nope" + API)
                .putHeader("Authorization", reader),
            "application/x-pem-file",
            TestPki.certificate("Nope Root").ca().build().pem());
    assertError(denied, 401, "IotHubUnauthorizedAccess");
    assertThat(denied.bodyAsJsonObject().getString("Message")).contains("RegistryWrite");
    assertError(
        send(
            hub.client
                .request(HttpMethod.GET, "/certificates" + API)
                .putHeader("Authorization", hub.token("service")),
            null,
            null),
        401,
        "IotHubUnauthorizedAccess");
  }

  @Test
  void aCaRegisteredOverRestAuthenticatesItsDevices() {
    Issued ca = TestPki.certificate("Fleet Root").ca().build();
    assertThat(putPem("fleet-root", ca.pem()).statusCode()).isEqualTo(200);
    HttpResponse<Buffer> device =
        send(
            request(HttpMethod.PUT, "/devices/fleet-1"),
            "application/json",
            new JsonObject()
                .put("authentication", new JsonObject().put("type", "certificateAuthority"))
                .encode());
    assertThat(device.statusCode()).as(device.bodyAsString()).isEqualTo(200);

    Issued leaf = TestPki.certificate("fleet-1").issuedBy(ca).clientAuth().build();
    X509Identity id =
        hub.hub.x509Authenticator().authenticate("fleet-1", null, List.of(leaf.certificate()));
    assertThat(id.type()).isEqualTo(AuthenticationType.CERTIFICATE_AUTHORITY);
    assertThat(id.caName()).isEqualTo("fleet-root");
  }
}
