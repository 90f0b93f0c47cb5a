package io.herd.adapter.amqp.internal;

import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Delivery;

/** What one open link does with the engine's events; runs on the connection's context. */
interface LinkHandler {
  /**
   * A whole message arrived on a link where the hub receives. The handler settles {@code d} (unless
   * the peer sent it settled) and gives credit back.
   */
  default void onMessage(Delivery d, byte[] encoded) {
    d.settle();
  }

  /** The peer updated or settled a delivery the hub sent. */
  default void onUpdate(Delivery d) {}

  /** The peer granted credit on a link where the hub sends. */
  default void onCredit() {}

  /**
   * The link is gone: the peer detached it ({@code remoteError} is its reason, if any), the hub
   * detached it, or the connection ended. Called once.
   */
  void onClosed(ErrorCondition remoteError);
}
