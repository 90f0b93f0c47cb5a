package io.herd.server.internal;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded PostgreSQL 17 that runs when no external one is configured. Its cluster lives in
 * {@code DIR/pg} and survives restarts; it listens on loopback only, on a free port.
 */
public final class EmbeddedDatabase implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedDatabase.class);

  private final EmbeddedPostgres pg;

  private EmbeddedDatabase(EmbeddedPostgres pg) {
    this.pg = pg;
  }

  /** Starts (initialising the cluster on first use). Blocking: call off the event loop. */
  public static EmbeddedDatabase start(Path pgDir) throws IOException {
    Files.createDirectories(pgDir);
    stopOrphan(pgDir);
    long t0 = System.nanoTime();
    EmbeddedPostgres pg =
        EmbeddedPostgres.builder()
            .setDataDirectory(pgDir)
            .setCleanDataDirectory(false)
            .setPort(freePort())
            .setPGStartupWait(Duration.ofSeconds(60))
            .setServerConfig("listen_addresses", "127.0.0.1")
            // The embedding library runs PostgreSQL with fsync and synchronous_commit off, as a
            // test database. Herd acknowledges only durable writes, so both go back on; group
            // commit keeps the cost of each flush shared by many changes.
            .setServerConfig("fsync", "on")
            .setServerConfig("synchronous_commit", "on")
            .setServerConfig("full_page_writes", "on")
            .setServerConfig("wal_compression", "on")
            .setServerConfig("max_connections", "100")
            .setServerConfig("shared_buffers", "256MB")
            .setServerConfig("max_wal_size", "2GB")
            .setServerConfig("unix_socket_directories", "")
            .start();
    LOG.info(
        "embedded PostgreSQL started [port: {}, data: {}, ms: {}]",
        pg.getPort(),
        pgDir,
        (System.nanoTime() - t0) / 1_000_000);
    return new EmbeddedDatabase(pg);
  }

  public int port() {
    return pg.getPort();
  }

  /** A URL for the hub's pool. */
  public String url() {
    return "postgresql://postgres:postgres@127.0.0.1:" + pg.getPort() + "/postgres";
  }

  /**
   * A hub killed with -9 leaves its PostgreSQL running. We hold the data-directory lock, so a
   * postmaster still on this cluster is our own orphan: ask it to shut down fast and wait.
   */
  private static void stopOrphan(Path pgDir) throws IOException {
    Path pidFile = pgDir.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    List<String> lines = Files.readAllLines(pidFile);
    if (lines.isEmpty()) {
      return;
    }
    long pid;
    try {
      pid = Long.parseLong(lines.get(0).trim());
    } catch (NumberFormatException e) {
      return;
    }
    Optional<ProcessHandle> ph = ProcessHandle.of(pid);
    if (ph.isEmpty() || !ph.get().isAlive()) {
      return;
    }
    LOG.warn("stopping PostgreSQL left running by an earlier hub [pid: {}]", pid);
    try {
      // SIGINT is PostgreSQL's fast shutdown: roll back open transactions, checkpoint, exit.
      new ProcessBuilder("kill", "-INT", Long.toString(pid)).inheritIO().start().waitFor();
      ph.get().onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IOException("cannot stop PostgreSQL pid " + pid + " left on " + pgDir, e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Stops PostgreSQL after a checkpoint. Blocking. */
  @Override
  public void close() throws IOException {
    pg.close();
  }
}
