package io.herd.registry;

/**
 * A device's or module's credentials. Keys are base64; thumbprints are upper-case hex SHA-1 or
 * SHA-256 digests of the DER certificate. Fields that do not apply to the type are null.
 */
public record Authentication(
    AuthenticationType type,
    String primaryKey,
    String secondaryKey,
    String primaryThumbprint,
    String secondaryThumbprint) {

  public static Authentication sas(String primaryKey, String secondaryKey) {
    return new Authentication(AuthenticationType.SAS, primaryKey, secondaryKey, null, null);
  }
}
