package io.herd.registry;

import static io.herd.core.JsonFields.object;
import static io.herd.core.JsonFields.string;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.Locale;

/**
 * IoT Hub's JSON for certificate resources: {@code {"name", "etag", "properties": {"subject",
 * "thumbprint", "expiry", "created", "updated", "isVerified", "certificate"}}}. Times are RFC 1123
 * as IoT Hub's resource provider writes them ({@code Tue, 05 Mar 2024 10:00:00 GMT}).
 */
public final class CertificateCodec {
  private static final DateTimeFormatter RFC_1123 =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
          .withZone(ZoneOffset.UTC);

  private CertificateCodec() {}

  public static JsonObject toJson(CaCertificate c) {
    return new JsonObject()
        .put("name", c.name())
        .put("etag", c.etag())
        .put(
            "properties",
            new JsonObject()
                .put("subject", c.subject())
                .put("thumbprint", c.thumbprint())
                .put("expiry", format(c.expiry()))
                .put("created", format(c.created()))
                .put("updated", format(c.updated()))
                // Registration is the trust decision; there is no proof-of-possession step.
                .put("isVerified", true)
                .put("certificate", c.pem()));
  }

  public static JsonObject toJson(Collection<CaCertificate> all) {
    JsonArray value = new JsonArray();
    all.forEach(c -> value.add(toJson(c)));
    return new JsonObject().put("value", value);
  }

  /**
   * The certificate text of a PUT body: {@code properties.certificate} as IoT Hub's resource has
   * it, or a top-level {@code certificate}.
   */
  public static String certificateFromJson(JsonObject body) {
    JsonObject properties = object(body, "properties", null);
    String pem = properties == null ? null : string(properties, "certificate", "properties");
    if (pem == null) {
      pem = string(body, "certificate", null);
    }
    if (pem == null) {
      throw new HubException(
          ErrorCode.ARGUMENT_NULL,
          "Field 'properties.certificate' (or 'certificate') with the PEM certificate is required");
    }
    return pem;
  }

  static String format(Instant t) {
    return RFC_1123.format(t);
  }
}
