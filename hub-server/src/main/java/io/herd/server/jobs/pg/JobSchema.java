package io.herd.server.jobs.pg;

import io.herd.core.pg.Migration;
import java.util.List;

/** The jobs' tables, as versioned migrations of the component {@code jobs}. */
public final class JobSchema {
  private JobSchema() {}

  public static List<Migration> migrations() {
    return List.of(Migration.load(JobSchema.class, "jobs", 1, "jobs v2", "/db/jobs/V1__jobs.sql"));
  }
}
