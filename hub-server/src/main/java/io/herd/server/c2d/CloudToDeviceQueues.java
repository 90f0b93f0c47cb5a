package io.herd.server.c2d;

import io.herd.adapter.common.CloudToDeviceMessage;
import io.herd.adapter.common.DeliveryOutcome;
import io.herd.core.Contexts;
import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.Timestamps;
import io.herd.server.c2d.internal.GroupCommit;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Durable per-device cloud-to-device queues and their delivery. Every queue lives in memory on one
 * owner context and is written through to a {@link CloudToDeviceStore} in group commits; an enqueue
 * or purge completes only after its commit.
 *
 * <p>Delivery: once a device has subscribed to its C2D topic ({@link #onReady}), its messages go
 * out in enqueue order, even before their insert is committed (an enqueue completes at its commit
 * or when the device has acknowledged the message, whichever comes first), at most {@link
 * CloudToDeviceConfig#window} awaiting the device's acknowledgement at a time. An acknowledged
 * message is removed; one that was not is sent again on the next connection. Each attempt counts;
 * past {@code maxDeliveryCount} attempts, or past its expiry, a message is dropped with feedback
 * when its {@link AckMode} asks for it.
 */
public final class CloudToDeviceQueues {
  private static final Logger LOG = LoggerFactory.getLogger(CloudToDeviceQueues.class);

  /** How long a message taken over HTTPS stays invisible to other receives (IoT Hub: 1 minute). */
  public static final java.time.Duration LOCK_TIMEOUT = java.time.Duration.ofMinutes(1);

  /** Pause before trying a device again that had too many unacknowledged messages. */
  private static final long THROTTLED_RETRY_MS = 1000;

  private final Vertx vertx;
  private final Context owner;
  private final CloudToDeviceStore store;
  private final Recipients recipients;
  private final CloudToDeviceConfig config;
  private final Clock clock;
  private final GroupCommit commits;

  // Owner context only.
  private final Map<String, DeviceQueue> queues = new HashMap<>();
  private final TreeSet<Entry> byExpiry =
      new TreeSet<>(
          Comparator.comparing((Entry e) -> e.message.expiryTime())
              .thenComparingLong(e -> e.message.seq()));
  private final Map<String, Object> ready = new HashMap<>();
  private final Set<Entry> locked = new LinkedHashSet<>();
  private final Set<String> countsToPublish = new LinkedHashSet<>();
  private long seq;
  private long sweepTimer = -1;
  private boolean feedbackSweep;

  /** Pending messages per device as last published; readable on any thread. */
  private final ConcurrentHashMap<String, Integer> pending = new ConcurrentHashMap<>();

  private static final class DeviceQueue {
    final String deviceId;
    final ArrayDeque<Entry> entries = new ArrayDeque<>();
    int inFlight;
    boolean retryScheduled;

    DeviceQueue(String deviceId) {
      this.deviceId = deviceId;
    }
  }

  /** A message taken by a polling (HTTPS) device: in flight until settled or the lock expires. */
  private static final class Lock {
    final String token = UUID.randomUUID().toString();
    final Instant expires;

    Lock(Instant expires) {
      this.expires = expires;
    }
  }

  /** A message an HTTPS device received, with the token that settles it. */
  public record Locked(String lockToken, QueuedMessage message) {
    /** The message as devices get it (system properties and the application properties). */
    public CloudToDeviceMessage wire() {
      return CloudToDeviceQueues.wire(message);
    }
  }

  private static final class Entry {
    final DeviceQueue queue;
    QueuedMessage message;
    boolean committed;
    boolean removed;

    /** The insert while it waits for its commit; withdrawn if the device has it first. */
    GroupCommit.Pending insert;

    /** The connection the message is awaiting acknowledgement on, null when not in flight. */
    Object sentOn;

    Entry(DeviceQueue queue, QueuedMessage message, boolean committed) {
      this.queue = queue;
      this.message = message;
      this.committed = committed;
    }
  }

  private CloudToDeviceQueues(
      Vertx vertx,
      Context owner,
      CloudToDeviceStore store,
      Recipients recipients,
      CloudToDeviceConfig config,
      Clock clock) {
    this.vertx = vertx;
    this.owner = owner;
    this.store = store;
    this.recipients = recipients;
    this.config = config;
    this.clock = clock;
    this.commits = new GroupCommit(owner, store);
  }

  /** Loads every pending message from {@code store}, then delivers and sweeps. */
  public static Future<CloudToDeviceQueues> open(
      Vertx vertx,
      CloudToDeviceStore store,
      Recipients recipients,
      CloudToDeviceConfig config,
      Clock clock) {
    Context owner = vertx.getOrCreateContext();
    CloudToDeviceQueues q = new CloudToDeviceQueues(vertx, owner, store, recipients, config, clock);
    List<QueuedMessage> stored = new ArrayList<>();
    // The store calls back on its own thread; the owner takes the list over once it is complete.
    return store
        .loadAll(stored::add)
        .compose(
            max ->
                q.onOwner(
                    () -> {
                      stored.forEach(q::loaded);
                      q.seq = max;
                      q.countsToPublish.addAll(q.queues.keySet());
                      q.publishCounts();
                      q.sweepTimer =
                          vertx.setPeriodic(config.sweepInterval().toMillis(), t -> q.sweep());
                      return Future.succeededFuture(q);
                    }));
  }

  private void loaded(QueuedMessage m) {
    DeviceQueue q = queues.computeIfAbsent(m.deviceId(), DeviceQueue::new);
    Entry e = new Entry(q, m, true);
    q.entries.add(e);
    byExpiry.add(e);
  }

  /** Stops the sweep and completes once every change made so far is committed. */
  public Future<Void> close() {
    return onOwner(
        () -> {
          if (sweepTimer >= 0) {
            vertx.cancelTimer(sweepTimer);
            sweepTimer = -1;
          }
          return commits.idle();
        });
  }

  /** Pending messages of a device (cloudToDeviceMessageCount), as last committed. */
  public int pending(String deviceId) {
    return pending.getOrDefault(deviceId, 0);
  }

  /**
   * Queues a message for a device. Fails with DeviceNotFound, 403004 when the queue is full, 413
   * when the body is too large, 400 for an expiry in the past or too far ahead, 429002 when the
   * store falls behind.
   */
  public Future<Enqueued> enqueue(String deviceId, OutgoingMessage message) {
    if (message.body().length > config.maxBodyBytes()) {
      return Future.failedFuture(
          new HubException(
              ErrorCode.MESSAGE_TOO_LARGE,
              "Message body of "
                  + message.body().length
                  + " bytes exceeds the limit of "
                  + config.maxBodyBytes()));
    }
    return onOwner(() -> add(deviceId, message));
  }

  private Future<Enqueued> add(String deviceId, OutgoingMessage message) {
    String generation = recipients.generationId(deviceId);
    if (generation == null) {
      return Future.failedFuture(HubException.deviceNotFound(deviceId));
    }
    Instant now = clock.instant();
    Instant expiry = message.expiryTime();
    if (expiry == null) {
      expiry = now.plus(config.defaultTtl());
    } else if (!expiry.isAfter(now)) {
      return Future.failedFuture(
          HubException.badRequest(
              "expiryTimeUtc " + Timestamps.format(expiry) + " is not in the future"));
    } else if (expiry.isAfter(now.plus(config.maxTtl()))) {
      return Future.failedFuture(
          HubException.badRequest(
              "expiryTimeUtc "
                  + Timestamps.format(expiry)
                  + " is more than "
                  + config.maxTtl().toHours()
                  + " hours ahead"));
    }
    DeviceQueue q = queues.computeIfAbsent(deviceId, DeviceQueue::new);
    if (q.entries.size() >= config.maxQueueDepth()) {
      return Future.failedFuture(
          new HubException(
              ErrorCode.DEVICE_MAXIMUM_QUEUE_DEPTH_EXCEEDED,
              "Device "
                  + deviceId
                  + " has "
                  + q.entries.size()
                  + " cloud-to-device messages pending, the maximum"));
    }
    if (commits.backlog() >= config.maxPendingWrites()) {
      return Future.failedFuture(
          new HubException(
              ErrorCode.THROTTLE_BACKLOG_LIMIT_EXCEEDED,
              "Too many cloud-to-device changes waiting to be stored; retry later"));
    }
    QueuedMessage m =
        new QueuedMessage(
            deviceId,
            ++seq,
            message.messageId() == null ? UUID.randomUUID().toString() : message.messageId(),
            message.correlationId(),
            message.ack(),
            generation,
            now,
            expiry,
            0,
            config.maxDeliveryCount(),
            message.contentType(),
            message.contentEncoding(),
            message.properties(),
            message.body());
    Entry e = new Entry(q, m, false);
    q.entries.add(e);
    byExpiry.add(e);
    e.insert = commits.submit(new QueueChange.Insert(m));
    // A connected device gets the message while its insert waits for the commit; if the device
    // acknowledges it first, the insert is withdrawn and the message never touches the store.
    pump(q);
    return e.insert
        .future()
        .transform(
            ar -> {
              e.insert = null;
              if (ar.failed()) {
                if (!e.removed) {
                  forget(e);
                }
                return Future.failedFuture(
                    new HubException(ErrorCode.SERVER_ERROR, "The message could not be stored"));
              }
              e.committed = true;
              if (!e.removed) {
                countChanged(deviceId);
                pump(q);
              }
              return Future.succeededFuture(
                  new Enqueued(deviceId, m.messageId(), m.enqueuedTime(), m.expiryTime()));
            });
  }

  /**
   * Removes every pending message of a device; returns how many. Fails with DeviceNotFound for an
   * unknown device.
   */
  public Future<Integer> purge(String deviceId) {
    return onOwner(
        () -> {
          if (recipients.generationId(deviceId) == null) {
            return Future.failedFuture(HubException.deviceNotFound(deviceId));
          }
          int n = dropAll(deviceId);
          return commits.add(new QueueChange.Purge(deviceId)).map(n);
        });
  }

  /** Forgets a deleted device's queue (IoT Hub deletes it with the identity). */
  public void deviceDeleted(String deviceId) {
    owner.runOnContext(
        v -> {
          ready.remove(deviceId);
          dropAll(deviceId);
          commits.add(new QueueChange.Purge(deviceId));
        });
  }

  private int dropAll(String deviceId) {
    DeviceQueue q = queues.get(deviceId);
    if (q == null) {
      return 0;
    }
    int n = q.entries.size();
    for (Entry e : new ArrayList<>(q.entries)) {
      forget(e);
      if (e.insert != null) {
        commits.withdraw(e.insert);
      }
    }
    return n;
  }

  /** Removes and returns up to {@code max} feedback records, oldest first. */
  public Future<List<Feedback>> takeFeedback(int max) {
    return store.takeFeedback(max);
  }

  /**
   * Stores feedback records again that were taken but not delivered (e.g. the service's AMQP link
   * went away before it accepted them); completes once they are stored.
   */
  public Future<Void> restoreFeedback(List<Feedback> records) {
    return onOwner(
        () -> {
          List<Future<Void>> stored = new ArrayList<>(records.size());
          for (Feedback f : records) {
            stored.add(commits.add(new QueueChange.AddFeedback(f)));
          }
          return Future.all(stored).mapEmpty();
        });
  }

  /**
   * Takes the next message for a polling device and locks it for {@link #LOCK_TIMEOUT}: it counts
   * as a delivery attempt and is invisible until it is completed, rejected, abandoned or its lock
   * expires. Completes with null when nothing waits; fails with DeviceNotFound.
   */
  public Future<Locked> receive(String deviceId) {
    return onOwner(
        () -> {
          if (recipients.generationId(deviceId) == null) {
            return Future.failedFuture(HubException.deviceNotFound(deviceId));
          }
          DeviceQueue q = queues.get(deviceId);
          if (q == null) {
            return Future.succeededFuture(null);
          }
          Instant now = clock.instant();
          for (Entry e : new ArrayList<>(q.entries)) {
            if (e.sentOn != null) {
              continue;
            }
            if (!e.message.expiryTime().isAfter(now)) {
              drop(e, FeedbackStatus.EXPIRED);
            } else if (e.message.deliveryCount() >= e.message.maxDeliveryCount()) {
              drop(e, FeedbackStatus.DELIVERY_COUNT_EXCEEDED);
            } else {
              Lock lock = new Lock(now.plus(LOCK_TIMEOUT));
              attempt(e, lock);
              locked.add(e);
              return Future.succeededFuture(new Locked(lock.token, e.message));
            }
          }
          return Future.succeededFuture(null);
        });
  }

  /** Completes a received message: removed, with success feedback when its ack asks for it. */
  public Future<Void> complete(String deviceId, String lockToken) {
    return settle(deviceId, lockToken, FeedbackStatus.SUCCESS);
  }

  /** Rejects a received message: removed, with Rejected feedback when its ack asks for it. */
  public Future<Void> reject(String deviceId, String lockToken) {
    return settle(deviceId, lockToken, FeedbackStatus.REJECTED);
  }

  /** Gives a received message back: visible again at once (its attempt still counts). */
  public Future<Void> abandon(String deviceId, String lockToken) {
    return settle(deviceId, lockToken, null);
  }

  private Future<Void> settle(String deviceId, String lockToken, FeedbackStatus outcome) {
    return onOwner(
        () -> {
          if (recipients.generationId(deviceId) == null) {
            return Future.failedFuture(HubException.deviceNotFound(deviceId));
          }
          Entry e = lockedEntry(deviceId, lockToken);
          if (e == null) {
            return Future.failedFuture(
                new HubException(
                    ErrorCode.DEVICE_MESSAGE_LOCK_LOST,
                    "Lock token "
                        + lockToken
                        + " does not hold a message of device "
                        + deviceId
                        + ": it expired, or the message was already settled"));
          }
          locked.remove(e);
          if (outcome == null) {
            e.sentOn = null;
            pump(e.queue);
            return Future.succeededFuture();
          }
          forget(e);
          remove(e);
          boolean wanted =
              outcome == FeedbackStatus.SUCCESS
                  ? e.message.ack().onSuccess()
                  : e.message.ack().onFailure();
          if (wanted) {
            commits.add(new QueueChange.AddFeedback(Feedback.of(e.message, outcome)));
          }
          return Future.succeededFuture();
        });
  }

  private Entry lockedEntry(String deviceId, String lockToken) {
    DeviceQueue q = queues.get(deviceId);
    if (q == null || lockToken == null) {
      return null;
    }
    Instant now = clock.instant();
    for (Entry e : q.entries) {
      if (e.sentOn instanceof Lock l && l.token.equals(lockToken) && l.expires.isAfter(now)) {
        return e;
      }
    }
    return null;
  }

  /** The device subscribed to its C2D topic on its current connection: send what waits. */
  public void onReady(String deviceId) {
    owner.runOnContext(
        v -> {
          Object connection = recipients.connection(deviceId);
          if (connection == null) {
            return;
          }
          ready.put(deviceId, connection);
          DeviceQueue q = queues.get(deviceId);
          if (q != null) {
            pump(q);
          }
        });
  }

  /** Sends the next messages of {@code q} while the window has room. */
  private void pump(DeviceQueue q) {
    Object connection = ready.get(q.deviceId);
    if (connection == null) {
      return;
    }
    if (recipients.connection(q.deviceId) != connection) {
      // Gone, or a new connection that has not subscribed yet.
      ready.remove(q.deviceId);
      return;
    }
    Instant now = clock.instant();
    Iterator<Entry> it = new ArrayList<>(q.entries).iterator();
    while (it.hasNext() && q.inFlight < config.window()) {
      Entry e = it.next();
      if (e.sentOn != null) {
        if (e.sentOn != connection) {
          // Still awaiting its fate on an old connection; later messages must not overtake it.
          break;
        }
        continue;
      }
      if (!e.message.expiryTime().isAfter(now)) {
        drop(e, FeedbackStatus.EXPIRED);
      } else if (e.message.deliveryCount() >= e.message.maxDeliveryCount()) {
        drop(e, FeedbackStatus.DELIVERY_COUNT_EXCEEDED);
      } else {
        send(e, connection);
      }
    }
  }

  /** Counts a delivery attempt, durably, and marks the entry as out with {@code holder}. */
  private void attempt(Entry e, Object holder) {
    QueuedMessage m = e.message.withDeliveryCount(e.message.deliveryCount() + 1);
    e.message = m;
    e.sentOn = holder;
    if (e.insert == null || !commits.rewrite(e.insert, new QueueChange.Insert(m))) {
      commits.add(new QueueChange.Attempt(m.deviceId(), m.seq(), m.deliveryCount()));
    }
  }

  private void send(Entry e, Object connection) {
    attempt(e, connection);
    QueuedMessage m = e.message;
    e.queue.inFlight++;
    recipients
        .deliver(m.deviceId(), wire(m))
        .onComplete(
            ar -> {
              if (Vertx.currentContext() == owner) {
                delivered(e, connection, ar);
              } else {
                owner.runOnContext(v -> delivered(e, connection, ar));
              }
            });
  }

  private void delivered(Entry e, Object connection, AsyncResult<DeliveryOutcome> ar) {
    DeviceQueue q = e.queue;
    q.inFlight--;
    e.sentOn = null;
    if (ar.succeeded()) {
      if (!e.removed) {
        settled(e, ar.result());
      }
      pump(q);
    } else {
      ErrorCode code = HubException.from(ar.cause()).errorCode();
      if (code == ErrorCode.DEVICE_NOT_ONLINE) {
        // Connection closed or unsubscribed: wait for the next ready signal. A newer connection
        // that is already ready may now send what this one left.
        ready.remove(q.deviceId, connection);
        pump(q);
      } else if (code == ErrorCode.THROTTLING_EXCEPTION) {
        retryLater(q);
      } else {
        LOG.warn("C2D delivery failed; the sweep retries [device: {}]", q.deviceId, ar.cause());
      }
    }
    removeIfIdle(q);
  }

  /** The device settled a pushed message: completed or rejected remove it, abandoned keeps it. */
  private void settled(Entry e, DeliveryOutcome outcome) {
    if (outcome == DeliveryOutcome.ABANDONED) {
      // Visible again at once; the attempt counts towards maxDeliveryCount.
      return;
    }
    forget(e);
    remove(e);
    boolean completed = outcome == DeliveryOutcome.COMPLETED;
    if (completed ? e.message.ack().onSuccess() : e.message.ack().onFailure()) {
      commits.add(
          new QueueChange.AddFeedback(
              Feedback.of(
                  e.message, completed ? FeedbackStatus.SUCCESS : FeedbackStatus.REJECTED)));
    }
  }

  private void retryLater(DeviceQueue q) {
    if (q.retryScheduled) {
      return;
    }
    q.retryScheduled = true;
    vertx.setTimer(
        THROTTLED_RETRY_MS,
        t -> {
          q.retryScheduled = false;
          if (queues.get(q.deviceId) == q) {
            pump(q);
          }
        });
  }

  /** Drops expired messages with their feedback, and retries devices whose delivery stalled. */
  public void sweep() {
    if (Vertx.currentContext() != owner) {
      owner.runOnContext(v -> sweep());
      return;
    }
    Instant now = clock.instant();
    for (Entry e : new ArrayList<>(locked)) {
      if (e.sentOn instanceof Lock l && !l.expires.isAfter(now)) {
        // The device never settled it: visible again, for this device or its next connection.
        locked.remove(e);
        e.sentOn = null;
        pump(e.queue);
      }
    }
    List<Entry> expired = new ArrayList<>();
    for (Entry e : byExpiry) {
      if (e.message.expiryTime().isAfter(now)) {
        break;
      }
      // In flight: its outcome decides; pump drops it if the device did not take it.
      if (e.committed && e.sentOn == null) {
        expired.add(e);
      }
    }
    for (Entry e : expired) {
      drop(e, FeedbackStatus.EXPIRED);
    }
    if (!feedbackSweep) {
      feedbackSweep = true;
      store
          .expireFeedback(now.minus(config.feedbackTtl()))
          .onComplete(
              ar -> {
                feedbackSweep = false;
                if (ar.failed()) {
                  LOG.warn("expired C2D feedback not removed", ar.cause());
                }
              });
    }
    for (String id : new ArrayList<>(ready.keySet())) {
      DeviceQueue q = queues.get(id);
      if (q == null) {
        if (recipients.connection(id) != ready.get(id)) {
          ready.remove(id);
        }
      } else if (q.inFlight == 0) {
        pump(q);
      }
    }
  }

  private void drop(Entry e, FeedbackStatus status) {
    forget(e);
    QueuedMessage m = e.message;
    LOG.debug(
        "C2D message dropped [device: {}, message-id: {}, reason: {}]",
        m.deviceId(),
        m.messageId(),
        status.wire());
    remove(e);
    if (m.ack().onFailure()) {
      commits.add(new QueueChange.AddFeedback(Feedback.of(m, status)));
    }
  }

  /** Removes a forgotten entry from the store, or keeps it from ever getting there. */
  private void remove(Entry e) {
    if (e.insert == null || !commits.withdraw(e.insert)) {
      commits.add(new QueueChange.Remove(e.message.deviceId(), e.message.seq()));
    }
  }

  /** Takes an entry out of memory; its store change is the caller's. */
  private void forget(Entry e) {
    e.removed = true;
    locked.remove(e);
    e.queue.entries.remove(e);
    byExpiry.remove(e);
    if (e.committed) {
      countChanged(e.queue.deviceId);
    }
    removeIfIdle(e.queue);
  }

  private void removeIfIdle(DeviceQueue q) {
    if (q.entries.isEmpty() && q.inFlight == 0 && queues.get(q.deviceId) == q) {
      queues.remove(q.deviceId);
    }
  }

  /** Counts go to the registry once per turn of the owner, however many changes it made. */
  private void countChanged(String deviceId) {
    if (countsToPublish.isEmpty()) {
      owner.runOnContext(v -> publishCounts());
    }
    countsToPublish.add(deviceId);
  }

  private void publishCounts() {
    for (String id : countsToPublish) {
      DeviceQueue q = queues.get(id);
      int n = 0;
      if (q != null) {
        for (Entry e : q.entries) {
          if (e.committed) {
            n++;
          }
        }
      }
      if (n == 0) {
        pending.remove(id);
      } else {
        pending.put(id, n);
      }
      recipients.pendingChanged(id, n);
    }
    countsToPublish.clear();
  }

  /** The message as the MQTT adapter sends it (wire §2.4). */
  static CloudToDeviceMessage wire(QueuedMessage m) {
    Map<String, String> system = new LinkedHashMap<>();
    system.put("$.mid", m.messageId());
    system.put("$.to", "/devices/" + m.deviceId() + "/messages/devicebound");
    system.put("$.exp", Timestamps.format(m.expiryTime()));
    if (m.correlationId() != null) {
      system.put("$.cid", m.correlationId());
    }
    if (m.contentType() != null) {
      system.put("$.ct", m.contentType());
    }
    if (m.contentEncoding() != null) {
      system.put("$.ce", m.contentEncoding());
    }
    Map<String, String> properties = new LinkedHashMap<>(m.properties());
    if (m.ack() != AckMode.NONE) {
      properties.put("iothub-ack", m.ack().wire());
    }
    return new CloudToDeviceMessage(system, properties, m.body());
  }

  private <T> Future<T> onOwner(Supplier<Future<T>> op) {
    return Contexts.on(owner, op);
  }
}
