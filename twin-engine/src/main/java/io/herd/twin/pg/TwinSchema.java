package io.herd.twin.pg;

import io.herd.core.pg.Migration;
import java.util.List;

/** The twin engine's tables, as versioned migrations. */
public final class TwinSchema {
  private TwinSchema() {}

  public static List<Migration> migrations() {
    return List.of(Migration.load(TwinSchema.class, "twin", 1, "twins", "/db/twin/V1__twins.sql"));
  }
}
