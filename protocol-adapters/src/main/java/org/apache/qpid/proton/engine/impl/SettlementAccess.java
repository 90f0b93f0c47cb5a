package org.apache.qpid.proton.engine.impl;

import org.apache.qpid.proton.engine.Delivery;

/**
 * Herd's access to what proton-j (0.34.1) keeps package-private, so that the hub can settle the
 * deliveries it received in ranges: proton-j writes one disposition frame per delivery ({@code
 * TransportImpl.processTransportWorkReceiver} sets first = last), while AMQP 1.0 §2.7.6 lets one
 * disposition settle first..last. The hub settles such a delivery in proton-j as if the peer had
 * settled it too, so that proton-j writes nothing, and writes the disposition itself.
 */
public final class SettlementAccess {
  private SettlementAccess() {}

  /**
   * Where the disposition of a delivery the hub received goes: its session's channel in bits 32 to
   * 47 and its delivery id in the low 32 bits; -1 when there is none to write (the session has no
   * channel or has ended, or the delivery is not a received one proton-j numbered).
   */
  public static long channelAndId(Delivery d) {
    if (!(d instanceof DeliveryImpl impl) || !(impl.getLink() instanceof ReceiverImpl)) {
      return -1;
    }
    TransportDelivery td = impl.getTransportDelivery();
    TransportSession ts = impl.getLink().getSession().getTransportSession();
    if (td == null || ts == null || !ts.isLocalChannelSet() || ts.endSent()) {
      return -1;
    }
    return ((long) ts.getLocalChannel() << 32) | td.getDeliveryId().longValue();
  }

  /**
   * Settles a delivery the hub received without proton-j writing its disposition: proton-j forgets
   * it as it does a delivery the peer settled. The caller writes the disposition.
   */
  public static void settleSilently(Delivery d) {
    DeliveryImpl impl = (DeliveryImpl) d;
    impl.setRemoteSettled(true);
    impl.settle();
  }
}
