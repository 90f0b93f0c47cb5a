package io.herd.server.bulk.pg;

import io.herd.core.pg.Migration;
import java.util.List;

/** The import and export jobs' tables, as versioned migrations of the component {@code bulk}. */
public final class BulkSchema {
  private BulkSchema() {}

  public static List<Migration> migrations() {
    return List.of(
        Migration.load(
            BulkSchema.class, "bulk", 1, "import and export jobs", "/db/bulk/V1__jobs.sql"),
        Migration.load(
            BulkSchema.class,
            "bulk",
            2,
            "the chunk an import applies, with its devices' pre-images",
            "/db/bulk/V2__import_chunks.sql"));
  }
}
