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
 * store sees the changes in the order they were made. A change still waiting for its batch can be
 * rewritten or withdrawn: a message delivered and acknowledged before its insert was written never
 * needs to reach the store at all. Used on one owner context only.
 */
public final class GroupCommit {
  private static final Logger LOG = LoggerFactory.getLogger(GroupCommit.class);

  /** A change on its way to the store. */
  public static final class Pending {
    private QueueChange change;
    private final Promise<Void> promise = Promise.promise();
    private boolean waiting = true;
    private boolean withdrawn;

    private Pending(QueueChange change) {
      this.change = change;
    }

    /** Completes on the owner context once committed, or at once when withdrawn. */
    public Future<Void> future() {
      return promise.future();
    }
  }

  private final Context owner;
  private final CloudToDeviceStore store;
  private List<Pending> changes = new ArrayList<>();
  private int withdrawn;
  private int writing;
  private boolean busy;
  private List<Promise<Void>> idle = new ArrayList<>();

  public GroupCommit(Context owner, CloudToDeviceStore store) {
    this.owner = owner;
    this.store = store;
  }

  /** Changes not yet committed. */
  public int backlog() {
    return changes.size() - withdrawn + writing;
  }

  /** Queues a change; the future completes on the owner context once it is committed. */
  public Future<Void> add(QueueChange change) {
    return submit(change).future();
  }

  /** Queues a change and returns it, so that it can be rewritten or withdrawn until written. */
  public Pending submit(QueueChange change) {
    Pending p = new Pending(change);
    changes.add(p);
    if (!busy) {
      busy = true;
      // Later in this tick more changes may come; they join the same batch.
      owner.runOnContext(v -> write());
    }
    return p;
  }

  /**
   * Replaces a change that has not gone to the store yet; false when it has (the caller then adds a
   * change of its own after it).
   */
  public boolean rewrite(Pending p, QueueChange change) {
    if (!p.waiting || p.withdrawn) {
      return false;
    }
    p.change = change;
    return true;
  }

  /**
   * Takes back a change that has not gone to the store yet and completes its future as if it had
   * been committed; false when it is already written or being written.
   */
  public boolean withdraw(Pending p) {
    if (!p.waiting || p.withdrawn) {
      return false;
    }
    p.withdrawn = true;
    withdrawn++;
    p.promise.complete();
    return true;
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
    List<Pending> taken = changes;
    changes = new ArrayList<>();
    withdrawn = 0;
    List<Pending> done = new ArrayList<>(taken.size());
    List<QueueChange> batch = new ArrayList<>(taken.size());
    for (Pending p : taken) {
      p.waiting = false;
      if (!p.withdrawn) {
        done.add(p);
        batch.add(p.change);
      }
    }
    if (batch.isEmpty()) {
      busy = false;
      List<Promise<Void>> waiting = idle;
      idle = new ArrayList<>();
      waiting.forEach(Promise::complete);
      return;
    }
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

  private void committed(List<Pending> done, Throwable failure) {
    writing = 0;
    if (failure != null) {
      // Logged once here; enqueues fail, and a lost removal means a redelivery after a restart.
      LOG.warn("C2D changes not stored [changes: {}]", done.size(), failure);
    }
    for (Pending p : done) {
      if (failure == null) {
        p.promise.complete();
      } else {
        p.promise.fail(failure);
      }
    }
    write();
  }
}
