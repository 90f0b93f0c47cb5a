package io.herd.server.c2d.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.adapter.common.CloudToDeviceMessage;
import io.herd.core.pg.SchemaMigrator;
import io.herd.server.c2d.AckMode;
import io.herd.server.c2d.CloudToDeviceConfig;
import io.herd.server.c2d.CloudToDeviceQueues;
import io.herd.server.c2d.Feedback;
import io.herd.server.c2d.FeedbackStatus;
import io.herd.server.c2d.OutgoingMessage;
import io.herd.server.c2d.QueueChange;
import io.herd.server.c2d.QueuedMessage;
import io.herd.server.c2d.Recipients;
import io.herd.testkit.TestPostgres;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The queues over real PostgreSQL: group-committed enqueues are all there after reopening. */
class PgCloudToDeviceStoreIT {
  private static final Logger LOG = LoggerFactory.getLogger(PgCloudToDeviceStoreIT.class);
  private static final int DEVICES = 2_000;
  private static final int PER_DEVICE = 10;

  private Vertx vertx;
  private Pool pool;

  /** Every device exists; none is connected. */
  private static final class Offline implements Recipients {
    final Map<String, Integer> counts = new ConcurrentHashMap<>();

    @Override
    public String generationId(String deviceId) {
      return "g-" + deviceId;
    }

    @Override
    public void pendingChanged(String deviceId, int count) {
      counts.put(deviceId, count);
    }

    @Override
    public Object connection(String deviceId) {
      return null;
    }

    @Override
    public Future<io.herd.adapter.common.DeliveryOutcome> deliver(
        String deviceId, CloudToDeviceMessage message) {
      throw new AssertionError("nobody is connected");
    }
  }

  @BeforeEach
  void open() {
    vertx = Vertx.vertx();
    pool =
        PgBuilder.pool()
            .with(new PoolOptions().setMaxSize(8))
            .connectingTo(TestPostgres.freshDatabase().setPipeliningLimit(256))
            .using(vertx)
            .build();
    Future.await(SchemaMigrator.migrate(pool, C2dSchema.migrations()));
  }

  @AfterEach
  void close() {
    Future.await(pool.close());
    Future.await(vertx.close());
  }

  private CloudToDeviceQueues queues(Offline devices) {
    return Future.await(
        CloudToDeviceQueues.open(
            vertx,
            new PgCloudToDeviceStore(pool),
            devices,
            CloudToDeviceConfig.defaults(),
            Clock.systemUTC()));
  }

  @Test
  void feedbackIsTakenOldestFirstOnceAndExpiresUnread() {
    PgCloudToDeviceStore store = new PgCloudToDeviceStore(pool);
    Instant t = Instant.parse("2026-01-01T00:00:00.1234567Z");
    List<QueueChange> changes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      changes.add(
          new QueueChange.AddFeedback(
              new Feedback("m" + i, "d1", "g1", t, FeedbackStatus.EXPIRED, "Message expired")));
    }
    Future.await(store.apply(changes));
    List<Feedback> two = Future.await(store.takeFeedback(2));
    assertThat(two).extracting(Feedback::originalMessageId).containsExactly("m0", "m1");
    assertThat(two.get(0).enqueuedTimeUtc()).isEqualTo(t.truncatedTo(ChronoUnit.MICROS));
    Future.await(store.expireFeedback(Instant.now().plusSeconds(1)));
    assertThat(Future.await(store.takeFeedback(10))).isEmpty();
  }

  @Test
  void groupCommittedEnqueuesAreAllLoadedAgainInOrder() throws Exception {
    CloudToDeviceQueues queues = queues(new Offline());
    int total = DEVICES * PER_DEVICE;
    Promise<Void> done = Promise.promise();
    long t0 = System.nanoTime();
    // A few thousand requests in flight at once, as many concurrent senders would have.
    int window = 2_000;
    int[] next = {0};
    int[] finished = {0};
    Runnable[] sendNext = new Runnable[1];
    sendNext[0] =
        () -> {
          int i = next[0]++;
          if (i >= total) {
            return;
          }
          String device = "d" + (i % DEVICES);
          queues
              .enqueue(
                  device,
                  new OutgoingMessage(
                      "m" + i,
                      "c" + i,
                      AckMode.FULL,
                      null,
                      "text/plain",
                      "utf-8",
                      Map.of("n", Integer.toString(i)),
                      ("body " + i).getBytes(StandardCharsets.UTF_8)))
              .onComplete(
                  ar -> {
                    if (ar.failed()) {
                      done.tryFail(ar.cause());
                    } else if (++finished[0] == total) {
                      done.tryComplete();
                    } else {
                      sendNext[0].run();
                    }
                  });
        };
    vertx.runOnContext(
        v -> {
          for (int i = 0; i < window; i++) {
            sendNext[0].run();
          }
        });
    Future.await(done.future());
    double seconds = (System.nanoTime() - t0) / 1e9;
    LOG.info(
        "C2D enqueues committed [messages: {}, seconds: {}, per-second: {}]",
        total,
        String.format("%.2f", seconds),
        Math.round(total / seconds));

    List<QueuedMessage> loaded = new ArrayList<>();
    Future.await(new PgCloudToDeviceStore(pool).loadAll(loaded::add));
    assertThat(loaded).hasSize(total);
    QueuedMessage first = loaded.get(0);
    assertThat(first.messageId()).isEqualTo("m0");
    assertThat(first.properties()).containsEntry("n", "0");
    assertThat(new String(first.body(), StandardCharsets.UTF_8)).isEqualTo("body 0");
    assertThat(first.ack()).isEqualTo(AckMode.FULL);
    assertThat(first.contentType()).isEqualTo("text/plain");
    assertThat(loaded).extracting(QueuedMessage::seq).isSorted();

    Offline again = new Offline();
    CloudToDeviceQueues reopened = queues(again);
    assertThat(reopened.pending("d7")).isEqualTo(PER_DEVICE);
    assertThat(again.counts).hasSize(DEVICES).containsEntry("d7", PER_DEVICE);
    assertThat(Future.await(reopened.purge("d7"))).isEqualTo(PER_DEVICE);
    loaded.clear();
    Future.await(new PgCloudToDeviceStore(pool).loadAll(loaded::add));
    assertThat(loaded).hasSize(total - PER_DEVICE);
  }

  @Test
  void aPurgeBetweenTwoEnqueuesKeepsTheLaterMessage() {
    CloudToDeviceQueues queues = queues(new Offline());
    // Sent without waiting, so that the purge and the later enqueue share a group commit.
    Future<?> first = queues.enqueue("pd", message("first"));
    Future<?> purge = queues.purge("pd");
    Future<?> second = queues.enqueue("pd", message("second"));
    Future.await(Future.all(first, purge, second));
    // Counts are published a moment after the commit.
    org.awaitility.Awaitility.await().until(() -> queues.pending("pd") == 1);
    CloudToDeviceQueues reopened = queues(new Offline());
    org.awaitility.Awaitility.await()
        .during(java.time.Duration.ofMillis(300))
        .until(() -> reopened.pending("pd") == 1);
  }

  private static OutgoingMessage message(String id) {
    return new OutgoingMessage(
        id, null, AckMode.NONE, null, null, null, Map.of(), id.getBytes(StandardCharsets.UTF_8));
  }
}
