package io.herd.registry;

import io.herd.core.HubException;

/** How a device or module proves its identity. */
public enum AuthenticationType {
  /** Symmetric keys: SAS tokens signed with the primary or secondary key. */
  SAS("sas"),
  /** A client certificate whose thumbprint is registered. */
  SELF_SIGNED("selfSigned"),
  /** A client certificate chaining to a registered CA. */
  CERTIFICATE_AUTHORITY("certificateAuthority"),
  /** No own credential (e.g. modules managed by an edge agent). */
  NONE("none");

  private final String wire;

  AuthenticationType(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  public static AuthenticationType parse(String field, String value) {
    for (AuthenticationType t : values()) {
      if (t.wire.equalsIgnoreCase(value)) {
        return t;
      }
    }
    throw HubException.badRequest(
        "Field '"
            + field
            + "' must be one of 'sas', 'selfSigned', 'certificateAuthority', 'none', but is '"
            + value
            + "'");
  }
}
