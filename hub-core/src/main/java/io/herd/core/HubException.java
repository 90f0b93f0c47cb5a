package io.herd.core;

import java.util.Objects;

/**
 * The one exception type for errors a client should see. Async paths fail their Future with it;
 * each protocol boundary maps the {@link ErrorCode} to its wire form.
 */
public final class HubException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorCode errorCode;

  public HubException(ErrorCode errorCode, String message) {
    super(message, null, false, false);
    this.errorCode = Objects.requireNonNull(errorCode);
  }

  public HubException(ErrorCode errorCode, String message, Throwable cause) {
    super(message, cause, false, false);
    this.errorCode = Objects.requireNonNull(errorCode);
  }

  public ErrorCode errorCode() {
    return errorCode;
  }

  public static HubException badRequest(String message) {
    return new HubException(ErrorCode.ARGUMENT_INVALID, message);
  }

  public static HubException deviceNotFound(String deviceId) {
    return new HubException(ErrorCode.DEVICE_NOT_FOUND, "Device " + deviceId + " not found");
  }

  public static HubException moduleNotFound(String deviceId, String moduleId) {
    return new HubException(
        ErrorCode.MODULE_NOT_FOUND, "Module " + moduleId + " on device " + deviceId + " not found");
  }

  public static HubException preconditionFailed(String message) {
    return new HubException(ErrorCode.PRECONDITION_FAILED, message);
  }

  /** Wraps anything that is not already a HubException as a server error. */
  public static HubException from(Throwable t) {
    if (t instanceof HubException he) {
      return he;
    }
    return new HubException(ErrorCode.SERVER_ERROR, "Internal server error", t);
  }
}
