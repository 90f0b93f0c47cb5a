package io.herd.simulator.internal;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.proton.ProtonClientOptions;
import io.vertx.proton.ProtonLink;
import io.vertx.proton.ProtonSender;
import java.nio.file.Path;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;

/**
 * The client side of IoT Hub's AMQP endpoint on vertx-proton, as the load generator and the
 * simulator use it: TLS and SASL options, link attaches that fail when the hub refuses them, and
 * the hub's error conditions as text (azure-iothub-wire.md §3.1). Claims-based security is {@link
 * CbsClient}; a put-token's audience is the device's SAS resource, {@link
 * io.herd.core.SasSigner#deviceResource}.
 */
public final class AmqpWire {

  private AmqpWire() {}

  /**
   * TLS client options as {@link ClientTls#apply} makes them, with SASL ANONYMOUS: the device signs
   * in with a put-token on {@code $cbs} afterwards.
   */
  public static ProtonClientOptions clientOptions(
      Vertx vertx, Path caFile, boolean openSsl, int timeoutMs) {
    return ClientTls.apply(new ProtonClientOptions(), vertx, caFile, openSsl, timeoutMs)
        .addEnabledSaslMechanism("ANONYMOUS");
  }

  /**
   * Opens {@code link} and completes once the hub attached it; fails when the hub refuses it (its
   * attach names no terminus, wire §3.7) or detaches it first. Handlers set afterwards replace the
   * ones this sets.
   */
  public static <L extends ProtonLink<L>> Future<L> attach(L link) {
    Promise<L> p = Promise.promise();
    link.openHandler(
        ar -> {
          boolean refused =
              link instanceof ProtonSender
                  ? link.getRemoteTarget() == null
                  : link.getRemoteSource() == null;
          if (ar.failed() || refused) {
            p.tryFail("link " + address(link) + " refused: " + describe(link.getRemoteCondition()));
          } else {
            p.tryComplete(link);
          }
        });
    link.closeHandler(
        ar ->
            p.tryFail(
                "link " + address(link) + " detached: " + describe(link.getRemoteCondition())));
    link.detachHandler(
        ar ->
            p.tryFail(
                "link " + address(link) + " detached: " + describe(link.getRemoteCondition())));
    link.open();
    return p.future();
  }

  /** The address a link attaches to: its target for a sender, its source for a receiver. */
  public static String address(ProtonLink<?> link) {
    if (link instanceof ProtonSender) {
      return link.getTarget() == null ? null : link.getTarget().getAddress();
    }
    return link.getSource() == null ? null : link.getSource().getAddress();
  }

  /** An error condition the hub sent (on a link or the connection), as text. */
  public static String describe(ErrorCondition condition) {
    return condition == null
        ? "no condition"
        : condition.getCondition() + " " + condition.getDescription();
  }
}
