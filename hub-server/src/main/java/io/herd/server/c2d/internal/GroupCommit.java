package io.herd.server.c2d.internal;

import io.herd.server.c2d.CloudToDeviceStore;
import io.herd.server.c2d.QueueChange;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes queue changes in batches, one transaction at a time: whatever arrives while a batch is
 * being committed goes into the next one, so under load one commit serves many changes, and the
 * store sees the changes in the order they were made. Used on one owner context only.
 */
public final class GroupCommit {
  private static final Logger LOG = LoggerFactory.getLogger(GroupCommit.class);

  private final Context owner;
  private final CloudToDeviceStore store;
  private List<QueueChange> changes = new ArrayList<>();
  private List<Promise<Void>> waiters = new ArrayList<>();
  private int writing;
  private boolean busy;
  private List<Promise<Void>> idle = new ArrayList<>();

  public GroupCommit(Context owner, CloudToDeviceStore store) {
    this.owner = owner;
    this.store = store;
  }

  /** Changes not yet committed. */
  public int backlog() {
    return changes.size() + writing;
  }

  /** Queues a change; the future completes on the owner context once it is committed. */
  public Future<Void> add(QueueChange change) {
    Promise<Void> p = Promise.promise();
    changes.add(change);
    waiters.add(p);
    if (!busy) {
      busy = true;
      // Later in this tick more changes may come; they join the same batch.
      owner.runOnContext(v -> write());
    }
    return p.future();
  }

  /** Completes once everything added so far is committed (or failed). */
  public Future<Void> idle() {
    if (!busy) {
      return Future.succeededFuture();
    }
    Promise<Void> p = Promise.promise();
    idle.add(p);
    return p.future();
  }

  private void write() {
    if (changes.isEmpty()) {
      busy = false;
      List<Promise<Void>> waiting = idle;
      idle = new ArrayList<>();
      waiting.forEach(Promise::complete);
      return;
    }
    List<QueueChange> batch = changes;
    List<Promise<Void>> done = waiters;
    changes = new ArrayList<>();
    waiters = new ArrayList<>();
    writing = batch.size();
    store
        .apply(batch)
        .onComplete(
            ar -> {
              if (Vertx.currentContext() == owner) {
                committed(done, ar.cause());
              } else {
                owner.runOnContext(v -> committed(done, ar.cause()));
              }
            });
  }

  private void committed(List<Promise<Void>> done, Throwable failure) {
    writing = 0;
    if (failure != null) {
      // Logged once here; enqueues fail, and a lost removal means a redelivery after a restart.
      LOG.warn("C2D changes not stored [changes: {}]", done.size(), failure);
    }
    for (Promise<Void> p : done) {
      if (failure == null) {
        p.complete();
      } else {
        p.fail(failure);
      }
    }
    write();
  }
}
