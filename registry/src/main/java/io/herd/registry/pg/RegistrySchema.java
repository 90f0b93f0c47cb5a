package io.herd.registry.pg;

import io.herd.core.pg.Migration;
import java.util.List;

/** The registry's tables, as versioned migrations. */
public final class RegistrySchema {
  private RegistrySchema() {}

  public static List<Migration> migrations() {
    return List.of(
        Migration.load(
            RegistrySchema.class,
            "registry",
            1,
            "identities and access policies",
            "/db/registry/V1__identities.sql"),
        Migration.load(
            RegistrySchema.class,
            "registry",
            2,
            "X.509 CA certificates",
            "/db/registry/V2__certificates.sql"));
  }
}
