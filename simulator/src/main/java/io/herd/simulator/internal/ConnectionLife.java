package io.herd.simulator.internal;

import io.vertx.core.Vertx;
import java.util.function.Supplier;

/**
 * What every {@link DeviceConnection} does alike from open to close, whatever its protocol: it
 * times the handshake and gives up on it at a deadline, keeps the first reason the connection
 * failed for, knows whether this side closed it, and tells the listener exactly once that it ended
 * (a null reason when this side closed it). The protocol registers how to close its socket once it
 * has one, and reports when the socket closed. Owned by the device's event loop.
 */
final class ConnectionLife {

  private final Vertx vertx;
  private final DeviceConnection.Listener listener;
  private long startNanos;
  private long deadlineTimer = -1;
  private Runnable closeSocket;
  private String reason;
  private boolean closedByUs;
  private boolean online;
  private boolean ended;

  ConnectionLife(Vertx vertx, DeviceConnection.Listener listener) {
    this.vertx = vertx;
    this.listener = listener;
  }

  /**
   * Starts the clock; unless the connection is online within {@code timeoutMs} it fails, saying
   * what it still waited for ({@code awaited}, e.g. "CONNACK").
   */
  void begin(long timeoutMs, Supplier<String> awaited) {
    startNanos = System.nanoTime();
    deadlineTimer =
        vertx.setTimer(
            timeoutMs,
            t -> {
              deadlineTimer = -1;
              if (!online && !ended) {
                fail("no " + awaited.get() + " within " + timeoutMs + " ms");
              }
            });
  }

  long sinceBeginNanos() {
    return System.nanoTime() - startNanos;
  }

  /** The socket is open; {@code close} closes it, after which the protocol calls {@link #ended}. */
  void opened(Runnable close) {
    closeSocket = close;
  }

  /** The handshake is done. */
  void online() {
    online = true;
    cancelDeadline();
  }

  boolean isOnline() {
    return online && !ended;
  }

  boolean hasEnded() {
    return ended;
  }

  /** Keeps {@code why} as the reason the connection ends, unless it has one. */
  void reason(String why) {
    if (reason == null) {
      reason = why;
    }
  }

  /** The connection fails for {@code why} (the first reason counts): its socket closes. */
  void fail(String why) {
    reason(why);
    if (closeSocket == null) {
      ended();
    } else {
      closeSocket.run();
    }
  }

  /**
   * This side closes the connection. Returns true when the caller is to close its socket now (after
   * a goodbye if it likes); false when the connection has ended already or had no socket yet.
   */
  boolean closeByUs() {
    if (ended) {
      return false;
    }
    closedByUs = true;
    if (closeSocket == null) {
      ended();
      return false;
    }
    return true;
  }

  /** The socket closed (or never opened): tells the listener, once. */
  void ended() {
    if (ended) {
      return;
    }
    ended = true;
    cancelDeadline();
    listener.onClosed(closedByUs ? null : reason == null ? "closed by the hub" : reason, !online);
  }

  private void cancelDeadline() {
    if (deadlineTimer >= 0) {
      vertx.cancelTimer(deadlineTimer);
      deadlineTimer = -1;
    }
  }

  static String describe(Throwable t) {
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }
}
