package io.herd.adapter.common;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The built-in events endpoint for now: an in-memory stream that keeps the last {@code retained}
 * messages and hands each new one to the live readers. Memory is bounded twice: the ring overwrites
 * its oldest entry, and each reader has a bounded buffer; a reader that falls further behind is
 * told so and dropped (it may reconnect from its last sequence number while that is still
 * retained). Durable routing replaces this sink behind {@link EventSink}.
 */
public final class LiveEventStream implements EventSink {
  /** One message with its position in the stream. */
  public record Event(long sequence, DeviceMessage message) {}

  private final int retained;
  private final AtomicReferenceArray<Event> ring;
  private final AtomicLong next = new AtomicLong(1);
  private final CopyOnWriteArrayList<Reader> readers = new CopyOnWriteArrayList<>();

  public LiveEventStream(int retained) {
    if (retained < 1) {
      throw new IllegalArgumentException("retained must be positive: " + retained);
    }
    this.retained = retained;
    this.ring = new AtomicReferenceArray<>(retained);
  }

  @Override
  public Future<Long> accept(DeviceMessage message) {
    long seq = next.getAndIncrement();
    Event e = new Event(seq, message);
    ring.set((int) (seq % retained), e);
    for (Reader r : readers) {
      r.offer(e);
    }
    return Future.succeededFuture(seq);
  }

  /** The sequence number the next message gets. */
  public long nextSequence() {
    return next.get();
  }

  /**
   * Opens a reader whose handlers run on {@code context}; call it on that context.
   *
   * @param after replay retained messages with a greater sequence number first; -1 for live only
   * @param bufferLimit messages a reader may lag behind before it is dropped
   * @param onEvent called for each message: replayed ones in order, then live ones as they come
   * @param onOverflow called once when the reader was dropped for lagging
   */
  public Reader open(
      Context context,
      long after,
      int bufferLimit,
      Handler<Event> onEvent,
      Handler<Void> onOverflow) {
    Reader r = new Reader(context, bufferLimit, onEvent, onOverflow);
    readers.add(r);
    if (after >= 0) {
      long upTo = next.get() - 1;
      long from = Math.max(after + 1, upTo - retained + 1);
      for (long s = from; s <= upTo; s++) {
        Event e = ring.get((int) (s % retained));
        if (e != null && e.sequence() == s) {
          r.backlog.add(e);
        }
      }
      // Live events up to here are either in the backlog or older than asked for.
      r.skipLiveUpTo = upTo;
    }
    r.schedule();
    return r;
  }

  /** A live reader; {@link #close()} it when its client goes away. */
  public final class Reader implements AutoCloseable {
    private final Context context;
    private final int limit;
    private final Handler<Event> onEvent;
    private final Handler<Void> onOverflow;
    private final java.util.ArrayDeque<Event> backlog = new java.util.ArrayDeque<>();
    private final ConcurrentLinkedQueue<Event> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final AtomicBoolean overflowed = new AtomicBoolean();
    private long skipLiveUpTo = -1;
    private volatile boolean closed;
    private boolean paused;

    private Reader(Context context, int limit, Handler<Event> onEvent, Handler<Void> onOverflow) {
      this.context = context;
      this.limit = limit;
      this.onEvent = onEvent;
      this.onOverflow = onOverflow;
    }

    private void offer(Event e) {
      if (closed) {
        return;
      }
      if (size.incrementAndGet() > limit) {
        size.decrementAndGet();
        if (overflowed.compareAndSet(false, true)) {
          readers.remove(this);
          context.runOnContext(v -> onOverflow.handle(null));
        }
        return;
      }
      queue.add(e);
      schedule();
    }

    private void schedule() {
      if (scheduled.compareAndSet(false, true)) {
        context.runOnContext(v -> drain());
      }
    }

    private void drain() {
      scheduled.set(false);
      while (!paused && !closed && !overflowed.get()) {
        Event e = backlog.poll();
        if (e == null) {
          e = queue.poll();
          if (e == null) {
            return;
          }
          size.decrementAndGet();
          if (e.sequence() <= skipLiveUpTo) {
            continue;
          }
        }
        onEvent.handle(e);
      }
    }

    /** Stops delivery, e.g. while the client's connection is full; buffered events stay. */
    public void pause() {
      paused = true;
    }

    public void resume() {
      paused = false;
      schedule();
    }

    @Override
    public void close() {
      closed = true;
      readers.remove(this);
      queue.clear();
      backlog.clear();
    }
  }
}
