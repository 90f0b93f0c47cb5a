package io.herd.testkit;

import io.vertx.pgclient.PgConnectOptions;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One embedded PostgreSQL per test JVM, and a fresh database per caller, so test classes never see
 * each other's rows. The server stops with the JVM.
 */
public final class TestPostgres {
  private static final AtomicInteger DATABASES = new AtomicInteger();
  private static EmbeddedPostgres server;

  private TestPostgres() {}

  private static synchronized EmbeddedPostgres server() {
    if (server == null) {
      try {
        server = EmbeddedPostgres.builder().setServerConfig("max_connections", "300").start();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start embedded PostgreSQL", e);
      }
      EmbeddedPostgres started = server;
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      started.close();
                    } catch (IOException ignored) {
                      // the JVM is going away; nothing left to tell
                    }
                  }));
    }
    return server;
  }

  /** Creates an empty database and returns options to connect to it. */
  public static PgConnectOptions freshDatabase() {
    EmbeddedPostgres pg = server();
    String name = "herd_test_" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
    try (Connection c = pg.getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create test database " + name, e);
    }
    return new PgConnectOptions()
        .setHost("localhost")
        .setPort(pg.getPort())
        .setDatabase(name)
        .setUser("postgres")
        .setPassword("postgres");
  }

  /** A JDBC URL for the same kind of fresh database, for tests that start a whole hub. */
  public static String freshDatabaseUrl() {
    PgConnectOptions o = freshDatabase();
    return "postgresql://"
        + o.getUser()
        + ":"
        + o.getPassword()
        + "@"
        + o.getHost()
        + ":"
        + o.getPort()
        + "/"
        + o.getDatabase();
  }
}
