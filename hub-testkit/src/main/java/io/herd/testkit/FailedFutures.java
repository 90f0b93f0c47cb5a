package io.herd.testkit;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.vertx.core.Future;

/** Test helpers for Futures that are expected to fail. */
public final class FailedFutures {
  private FailedFutures() {}

  /** Waits for {@code f} and returns the IoT Hub error code it failed with. */
  public static ErrorCode codeOf(Future<?> f) {
    try {
      Future.await(f);
    } catch (RuntimeException e) {
      return HubException.from(e).errorCode();
    }
    throw new AssertionError("expected a failure, got success");
  }
}
