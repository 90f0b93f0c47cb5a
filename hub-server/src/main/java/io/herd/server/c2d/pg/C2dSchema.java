package io.herd.server.c2d.pg;

import io.herd.core.pg.Migration;
import java.util.List;

/** The cloud-to-device queues' tables, as versioned migrations of the component {@code c2d}. */
public final class C2dSchema {
  private C2dSchema() {}

  public static List<Migration> migrations() {
    return List.of(
        Migration.load(C2dSchema.class, "c2d", 1, "queues and feedback", "/db/c2d/V1__queues.sql"));
  }
}
