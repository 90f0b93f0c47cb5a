package io.herd.server.c2d;

import static io.herd.testkit.FailedFutures.codeOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.herd.adapter.common.DeliveryOutcome;
import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CloudToDeviceQueuesTest {
  private Vertx vertx;
  private FakeStore store;
  private FakeRecipients devices;
  private MutableClock clock;
  private CloudToDeviceQueues queues;

  /** A clock the test moves forward. */
  static final class MutableClock extends Clock {
    volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @BeforeEach
  void open() {
    vertx = Vertx.vertx();
    store = new FakeStore();
    devices = new FakeRecipients();
    devices.generations.put("d1", "g1");
    clock = new MutableClock();
    start(2);
  }

  /** Queues of at most 5 messages, swept only when the test says so. */
  private void start(int maxDeliveryCount) {
    CloudToDeviceConfig config =
        new CloudToDeviceConfig(
            5,
            Duration.ofHours(1),
            Duration.ofDays(2),
            maxDeliveryCount,
            64 * 1024,
            4,
            1000,
            Duration.ofHours(1),
            Duration.ofHours(1));
    queues = Future.await(CloudToDeviceQueues.open(vertx, store, devices, config, clock));
  }

  @AfterEach
  void close() {
    Future.await(vertx.close());
  }

  private static OutgoingMessage message(String id, AckMode ack) {
    return new OutgoingMessage(
        id, null, ack, null, null, null, Map.of(), id.getBytes(StandardCharsets.UTF_8));
  }

  private Object connect(String deviceId) {
    Object connection = new Object();
    devices.connections.put(deviceId, connection);
    queues.onReady(deviceId);
    return connection;
  }

  @Test
  void enqueueIsAcknowledgedOnlyAfterTheCommit() {
    store.hold = true;
    Future<Enqueued> f = queues.enqueue("d1", message("m1", AckMode.NONE));
    await().until(() -> store.held.size() == 1);
    assertThat(f.isComplete()).isFalse();
    store.held.get(0).complete();
    assertThat(Future.await(f).messageId()).isEqualTo("m1");
    await().until(() -> devices.counts.getOrDefault("d1", 0) == 1);
    assertThat(queues.pending("d1")).isEqualTo(1);
  }

  @Test
  void enqueuesArrivingDuringACommitShareTheNextOne() {
    store.hold = true;
    List<Future<Enqueued>> sent = new ArrayList<>();
    sent.add(queues.enqueue("d1", message("m0", AckMode.NONE)));
    await().until(() -> store.held.size() == 1);
    for (int i = 1; i <= 4; i++) {
      sent.add(queues.enqueue("d1", message("m" + i, AckMode.NONE)));
    }
    store.held.get(0).complete();
    await().until(() -> store.held.size() == 2);
    store.held.get(1).complete();
    for (Future<Enqueued> f : sent) {
      Future.await(f);
    }
    assertThat(store.batchSizes).containsExactly(1, 4);
  }

  @Test
  void deliversInEnqueueOrderWithABoundedWindow() throws Exception {
    for (int i = 1; i <= 5; i++) {
      Future.await(queues.enqueue("d1", message("m" + i, AckMode.NONE)));
    }
    connect("d1");
    List<FakeRecipients.Delivery> first = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      first.add(devices.next());
    }
    assertThat(first)
        .extracting(FakeRecipients.Delivery::messageId)
        .containsExactly("m1", "m2", "m3", "m4");
    assertThat(devices.deliveries).isEmpty();
    first.get(0).outcome().complete(DeliveryOutcome.COMPLETED);
    assertThat(devices.next().messageId()).isEqualTo("m5");
    for (int i = 1; i < 4; i++) {
      first.get(i).outcome().complete(DeliveryOutcome.COMPLETED);
    }
    await().until(() -> devices.counts.get("d1") == 1);
    assertThat(store.changes(QueueChange.Remove.class)).hasSize(4);
  }

  @Test
  void anUnacknowledgedMessageIsSentAgainOnTheNextConnectionFirst() throws Exception {
    Future.await(queues.enqueue("d1", message("m1", AckMode.NONE)));
    Future.await(queues.enqueue("d1", message("m2", AckMode.NONE)));
    connect("d1");
    FakeRecipients.Delivery a = devices.next();
    FakeRecipients.Delivery b = devices.next();
    // A new connection subscribes before the old one's deliveries have failed.
    connect("d1");
    assertThat(devices.deliveries.poll(200, java.util.concurrent.TimeUnit.MILLISECONDS)).isNull();
    a.outcome().fail(new HubException(ErrorCode.DEVICE_NOT_ONLINE, "closed"));
    b.outcome().fail(new HubException(ErrorCode.DEVICE_NOT_ONLINE, "closed"));
    assertThat(devices.next().messageId()).isEqualTo("m1");
    assertThat(devices.next().messageId()).isEqualTo("m2");
    await()
        .untilAsserted(
            () ->
                assertThat(store.changes(QueueChange.Attempt.class))
                    .extracting(QueueChange.Attempt::deliveryCount)
                    .containsExactly(1, 1, 2, 2));
  }

  @Test
  void aMessageOverItsDeliveryCountIsDroppedWithFeedback() throws Exception {
    Future.await(queues.enqueue("d1", message("m1", AckMode.FULL)));
    for (int attempt = 0; attempt < 2; attempt++) {
      connect("d1");
      devices.next().outcome().fail(new HubException(ErrorCode.DEVICE_NOT_ONLINE, "closed"));
    }
    connect("d1");
    await().until(() -> store.feedback().size() == 1);
    Feedback f = store.feedback().get(0);
    assertThat(f.statusCode()).isEqualTo(FeedbackStatus.DELIVERY_COUNT_EXCEEDED);
    assertThat(f.originalMessageId()).isEqualTo("m1");
    assertThat(f.deviceGenerationId()).isEqualTo("g1");
    assertThat(devices.deliveries).isEmpty();
    await().until(() -> devices.counts.get("d1") == 0);
  }

  @Test
  void aRejectedMessageIsRemovedWithRejectedFeedback() throws Exception {
    Future.await(queues.enqueue("d1", message("rejected", AckMode.NEGATIVE)));
    Future.await(queues.enqueue("d1", message("next", AckMode.NONE)));
    connect("d1");
    FakeRecipients.Delivery first = devices.next();
    assertThat(first.messageId()).isEqualTo("rejected");
    first.outcome().complete(DeliveryOutcome.REJECTED);
    assertThat(devices.next().messageId()).isEqualTo("next");
    await().until(() -> store.feedback().size() == 1);
    assertThat(store.feedback())
        .extracting(Feedback::originalMessageId, Feedback::statusCode)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("rejected", FeedbackStatus.REJECTED));
    await().until(() -> store.changes(QueueChange.Remove.class).size() == 1);
  }

  @Test
  void anAbandonedMessageIsDeliveredAgainUntilItsDeliveryCountRunsOut() throws Exception {
    Future.await(queues.enqueue("d1", message("m1", AckMode.FULL)));
    connect("d1");
    FakeRecipients.Delivery first = devices.next();
    first.outcome().complete(DeliveryOutcome.ABANDONED);
    FakeRecipients.Delivery second = devices.next();
    assertThat(second.messageId()).isEqualTo("m1");
    second.outcome().complete(DeliveryOutcome.ABANDONED);
    // maxDeliveryCount is 2: the third attempt is not made.
    await().until(() -> store.feedback().size() == 1);
    assertThat(store.feedback().get(0).statusCode())
        .isEqualTo(FeedbackStatus.DELIVERY_COUNT_EXCEEDED);
    assertThat(devices.deliveries).isEmpty();
  }

  @Test
  void successFeedbackOnlyWhenAsked() throws Exception {
    Future.await(queues.enqueue("d1", message("positive", AckMode.POSITIVE)));
    Future.await(queues.enqueue("d1", message("negative", AckMode.NEGATIVE)));
    connect("d1");
    devices.next().outcome().complete(DeliveryOutcome.COMPLETED);
    devices.next().outcome().complete(DeliveryOutcome.COMPLETED);
    await().until(() -> store.changes(QueueChange.Remove.class).size() == 2);
    assertThat(store.feedback())
        .extracting(Feedback::originalMessageId, Feedback::statusCode)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("positive", FeedbackStatus.SUCCESS));
  }

  @Test
  void theSweepDropsExpiredMessagesWithFeedbackForNegativeAcks() {
    Future.await(queues.enqueue("d1", message("quiet", AckMode.NONE)));
    Future.await(
        queues.enqueue(
            "d1",
            new OutgoingMessage(
                "soon",
                null,
                AckMode.NEGATIVE,
                clock.now.plusSeconds(10),
                null,
                null,
                Map.of(),
                new byte[0])));
    clock.now = clock.now.plusSeconds(11);
    queues.sweep();
    await().until(() -> store.feedback().size() == 1);
    assertThat(store.feedback().get(0).statusCode()).isEqualTo(FeedbackStatus.EXPIRED);
    await().until(() -> devices.counts.get("d1") == 1);
    clock.now = clock.now.plus(Duration.ofHours(1));
    queues.sweep();
    await().until(() -> devices.counts.get("d1") == 0);
    assertThat(store.feedback()).hasSize(1);
  }

  @Test
  void rejectsAFullQueueAnUnknownDeviceABigBodyAndAPastExpiry() {
    for (int i = 0; i < 5; i++) {
      Future.await(queues.enqueue("d1", message("m" + i, AckMode.NONE)));
    }
    assertThat(codeOf(queues.enqueue("d1", message("m6", AckMode.NONE))))
        .isEqualTo(ErrorCode.DEVICE_MAXIMUM_QUEUE_DEPTH_EXCEEDED);
    assertThat(codeOf(queues.enqueue("nope", message("m", AckMode.NONE))))
        .isEqualTo(ErrorCode.DEVICE_NOT_FOUND);
    OutgoingMessage big =
        new OutgoingMessage(
            null, null, AckMode.NONE, null, null, null, Map.of(), new byte[64 * 1024 + 1]);
    assertThat(codeOf(queues.enqueue("d1", big))).isEqualTo(ErrorCode.MESSAGE_TOO_LARGE);
    OutgoingMessage past =
        new OutgoingMessage(null, null, AckMode.NONE, clock.now, null, null, Map.of(), new byte[0]);
    assertThat(codeOf(queues.enqueue("d1", past))).isEqualTo(ErrorCode.ARGUMENT_INVALID);
  }

  @Test
  void purgeEmptiesTheQueueDurably() {
    Future.await(queues.enqueue("d1", message("m1", AckMode.FULL)));
    Future.await(queues.enqueue("d1", message("m2", AckMode.FULL)));
    assertThat(Future.await(queues.purge("d1"))).isEqualTo(2);
    assertThat(store.changes(QueueChange.Purge.class)).hasSize(1);
    await().until(() -> devices.counts.get("d1") == 0);
    assertThat(codeOf(queues.purge("nope"))).isEqualTo(ErrorCode.DEVICE_NOT_FOUND);
    assertThat(store.feedback()).isEmpty();
  }

  @Test
  void messagesLoadedAtStartAreCountedAndDeliveredInOrder() throws Exception {
    store.initial.add(
        new QueuedMessage(
            "d1",
            7,
            "old",
            null,
            AckMode.NONE,
            "g1",
            clock.now,
            clock.now.plusSeconds(60),
            3,
            10,
            null,
            null,
            Map.of(),
            new byte[0]));
    start(10);
    await().until(() -> devices.counts.getOrDefault("d1", 0) == 1);
    Future.await(queues.enqueue("d1", message("new", AckMode.NONE)));
    connect("d1");
    assertThat(devices.next().messageId()).isEqualTo("old");
    assertThat(devices.next().messageId()).isEqualTo("new");
    assertThat(store.changes(QueueChange.Insert.class).get(0).message().seq()).isEqualTo(8);
  }

  @Test
  void aMessageTheDeviceAcknowledgesBeforeItsCommitNeverReachesTheStore() throws Exception {
    devices.generations.put("d2", "g2");
    connect("d1");
    store.hold = true;
    // d2 is offline: its insert is being written while d1's waits for the next batch.
    Future<Enqueued> offline = queues.enqueue("d2", message("m0", AckMode.NONE));
    await().until(() -> store.held.size() == 1);
    Future<Enqueued> online = queues.enqueue("d1", message("m1", AckMode.POSITIVE));
    FakeRecipients.Delivery d = devices.next();
    assertThat(d.messageId()).isEqualTo("m1");
    d.outcome().complete(DeliveryOutcome.COMPLETED);
    assertThat(Future.await(online).messageId()).isEqualTo("m1");
    assertThat(offline.isComplete()).isFalse();
    store.held.get(0).complete();
    Future.await(offline);
    await().until(() -> store.held.size() == 2);
    store.held.get(1).complete();
    await().until(() -> store.feedback().size() == 1);
    // Only d2's insert and d1's success feedback were written.
    assertThat(store.changes(QueueChange.Insert.class))
        .extracting(c -> c.message().messageId())
        .containsExactly("m0");
    assertThat(store.changes(QueueChange.Remove.class)).isEmpty();
    assertThat(store.changes(QueueChange.Attempt.class)).isEmpty();
    assertThat(store.feedback().get(0).originalMessageId()).isEqualTo("m1");
    assertThat(devices.counts.getOrDefault("d1", 0)).isZero();
  }

  @Test
  void aDeliveryStartedBeforeTheCommitIsCountedInTheInsert() throws Exception {
    devices.generations.put("d2", "g2");
    connect("d1");
    store.hold = true;
    queues.enqueue("d2", message("m0", AckMode.NONE));
    await().until(() -> store.held.size() == 1);
    Future<Enqueued> online = queues.enqueue("d1", message("m1", AckMode.NONE));
    devices.next().outcome().fail(new HubException(ErrorCode.DEVICE_NOT_ONLINE, "closed"));
    store.held.get(0).complete();
    await().until(() -> store.held.size() == 2);
    store.held.get(1).complete();
    assertThat(Future.await(online).messageId()).isEqualTo("m1");
    assertThat(store.changes(QueueChange.Insert.class))
        .extracting(c -> c.message().messageId(), c -> c.message().deliveryCount())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("m0", 0),
            org.assertj.core.groups.Tuple.tuple("m1", 1));
    assertThat(store.changes(QueueChange.Attempt.class)).isEmpty();
    await().until(() -> devices.counts.getOrDefault("d1", 0) == 1);
    // The next connection gets it again, as its second attempt.
    store.hold = false;
    connect("d1");
    assertThat(devices.next().messageId()).isEqualTo("m1");
    await()
        .untilAsserted(
            () ->
                assertThat(store.changes(QueueChange.Attempt.class))
                    .extracting(QueueChange.Attempt::deliveryCount)
                    .containsExactly(2));
  }

  @Test
  void aPollingDeviceTakesMessagesInOrderAndSettlesThemByLockToken() {
    Future.await(queues.enqueue("d1", message("m1", AckMode.FULL)));
    Future.await(queues.enqueue("d1", message("m2", AckMode.FULL)));
    Future.await(queues.enqueue("d1", message("m3", AckMode.NONE)));
    CloudToDeviceQueues.Locked first = Future.await(queues.receive("d1"));
    CloudToDeviceQueues.Locked second = Future.await(queues.receive("d1"));
    assertThat(first.message().messageId()).isEqualTo("m1");
    assertThat(first.message().deliveryCount()).isEqualTo(1);
    assertThat(second.message().messageId()).isEqualTo("m2");
    Future.await(queues.complete("d1", first.lockToken()));
    Future.await(queues.reject("d1", second.lockToken()));
    // Settled once: the token is spent.
    assertThat(codeOf(queues.complete("d1", first.lockToken())))
        .isEqualTo(ErrorCode.DEVICE_MESSAGE_LOCK_LOST);
    CloudToDeviceQueues.Locked third = Future.await(queues.receive("d1"));
    Future.await(queues.abandon("d1", third.lockToken()));
    CloudToDeviceQueues.Locked again = Future.await(queues.receive("d1"));
    assertThat(again.message().messageId()).isEqualTo("m3");
    assertThat(again.message().deliveryCount()).isEqualTo(2);
    Future.await(queues.complete("d1", again.lockToken()));
    assertThat(Future.await(queues.receive("d1"))).isNull();
    await().until(() -> store.feedback().size() == 2);
    assertThat(store.feedback())
        .extracting(Feedback::originalMessageId, Feedback::statusCode)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("m1", FeedbackStatus.SUCCESS),
            org.assertj.core.groups.Tuple.tuple("m2", FeedbackStatus.REJECTED));
    await().until(() -> devices.counts.get("d1") == 0);
    assertThat(codeOf(queues.receive("nope"))).isEqualTo(ErrorCode.DEVICE_NOT_FOUND);
  }

  @Test
  void anExpiredLockMakesTheMessageVisibleAgain() {
    Future.await(queues.enqueue("d1", message("m1", AckMode.NONE)));
    CloudToDeviceQueues.Locked taken = Future.await(queues.receive("d1"));
    assertThat(Future.await(queues.receive("d1"))).isNull();
    clock.now = clock.now.plus(CloudToDeviceQueues.LOCK_TIMEOUT).plusSeconds(1);
    assertThat(codeOf(queues.complete("d1", taken.lockToken())))
        .isEqualTo(ErrorCode.DEVICE_MESSAGE_LOCK_LOST);
    queues.sweep();
    CloudToDeviceQueues.Locked retaken = Future.await(queues.receive("d1"));
    assertThat(retaken.message().messageId()).isEqualTo("m1");
    assertThat(retaken.message().deliveryCount()).isEqualTo(2);
    assertThat(retaken.lockToken()).isNotEqualTo(taken.lockToken());
  }
}
