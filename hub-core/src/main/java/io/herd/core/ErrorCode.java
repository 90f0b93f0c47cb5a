package io.herd.core;

/**
 * IoT Hub error codes (azure-iothub-wire.md §5.2). Each code knows its HTTP status, its six-digit
 * number (HTTP status × 1000 + n), the name the SDKs match on, and the AMQP error condition used on
 * rejected dispositions and detaches (§3.6).
 */
public enum ErrorCode {
  GENERIC_BAD_REQUEST(400000, "GenericBadRequest", "com.microsoft:argument-error"),
  INVALID_PROTOCOL_VERSION(400001, "InvalidProtocolVersion", "com.microsoft:argument-error"),
  INVALID_OPERATION(400003, "InvalidOperation", "amqp:not-allowed"),
  ARGUMENT_INVALID(400004, "ArgumentInvalid", "com.microsoft:argument-error"),
  ARGUMENT_NULL(400005, "ArgumentNull", "com.microsoft:argument-error"),
  IOT_HUB_FORMAT_ERROR(400006, "IotHubFormatError", "com.microsoft:argument-error"),
  DEVICE_DEFINED_MULTIPLE_TIMES(
      400011, "DeviceDefinedMultipleTimes", "com.microsoft:argument-error"),
  DESERIALIZATION_ERROR(400012, "DeserializationError", "com.microsoft:argument-error"),
  BULK_REGISTRY_OPERATION_FAILURE(
      400013, "BulkRegistryOperationFailure", "com.microsoft:argument-error"),
  ETAG_DOES_NOT_MATCH(400023, "EtagDoesNotMatch", "com.microsoft:precondition-failed"),
  CONNECTION_FORCEFULLY_CLOSED_ON_NEW_CONNECTION(
      400027, "ConnectionForcefullyClosedOnNewConnection", "amqp:link:detach-forced"),
  GENERIC_UNAUTHORIZED(401000, "GenericUnauthorized", "amqp:unauthorized-access"),
  IOT_HUB_UNAUTHORIZED_ACCESS(401002, "IotHubUnauthorizedAccess", "amqp:unauthorized-access"),
  IOT_HUB_UNAUTHORIZED(401003, "IotHubUnauthorized", "amqp:unauthorized-access"),
  GENERIC_FORBIDDEN(403000, "GenericForbidden", "amqp:unauthorized-access"),
  IOT_HUB_QUOTA_EXCEEDED(403002, "IotHubQuotaExceeded", "com.microsoft:quota-exceeded"),
  JOB_QUOTA_EXCEEDED(403003, "JobQuotaExceeded", "com.microsoft:quota-exceeded"),
  DEVICE_MAXIMUM_QUEUE_DEPTH_EXCEEDED(
      403004, "DeviceMaximumQueueDepthExceeded", "amqp:resource-limit-exceeded"),
  DEVICE_DISABLED(403012, "DeviceDisabled", "amqp:unauthorized-access"),
  GENERIC_NOT_FOUND(404000, "GenericNotFound", "amqp:not-found"),
  DEVICE_NOT_FOUND(404001, "DeviceNotFound", "amqp:not-found"),
  JOB_NOT_FOUND(404002, "JobNotFound", "amqp:not-found"),
  AMQP_ADDRESS_NOT_FOUND(404006, "AmqpAddressNotFound", "amqp:not-found"),
  MODULE_NOT_FOUND(404010, "ModuleNotFound", "amqp:not-found"),
  DEVICE_NOT_ONLINE(404103, "DeviceNotOnline", "amqp:not-found"),
  GENERIC_METHOD_NOT_ALLOWED(405000, "GenericMethodNotAllowed", "amqp:not-allowed"),
  GENERIC_CONFLICT(409000, "GenericConflict", "amqp:not-allowed"),
  DEVICE_ALREADY_EXISTS(409001, "DeviceAlreadyExists", "com.microsoft:device-already-exists"),
  LINK_CREATION_CONFLICT(409002, "LinkCreationConflict", "amqp:link:detach-forced"),
  JOB_ALREADY_EXISTS(409104, "JobAlreadyExists", "amqp:not-allowed"),
  MODULE_ALREADY_EXISTS_ON_DEVICE(409301, "ModuleAlreadyExistsOnDevice", "amqp:not-allowed"),
  GENERIC_PRECONDITION_FAILED(
      412000, "GenericPreconditionFailed", "com.microsoft:precondition-failed"),
  PRECONDITION_FAILED(412001, "PreconditionFailed", "com.microsoft:precondition-failed"),
  DEVICE_MESSAGE_LOCK_LOST(412002, "DeviceMessageLockLost", "com.microsoft:message-lock-lost"),
  MESSAGE_TOO_LARGE(413001, "MessageTooLarge", "amqp:link:message-size-exceeded"),
  TOO_MANY_DEVICES(413002, "TooManyDevices", "com.microsoft:argument-out-of-range"),
  TOO_MANY_MODULES_ON_DEVICE(413003, "TooManyModulesOnDevice", "com.microsoft:quota-exceeded"),
  THROTTLING_EXCEPTION(429001, "ThrottlingException", "com.microsoft:device-container-throttled"),
  THROTTLE_BACKLOG_LIMIT_EXCEEDED(
      429002, "ThrottleBacklogLimitExceeded", "com.microsoft:device-container-throttled"),
  THROTTLING_MAX_ACTIVE_JOB_COUNT_EXCEEDED(
      429004, "ThrottlingMaxActiveJobCountExceeded", "com.microsoft:device-container-throttled"),
  SERVER_ERROR(500001, "ServerError", "amqp:internal-error"),
  GENERIC_TIMEOUT(500008, "GenericTimeout", "com.microsoft:timeout"),
  SERVICE_UNAVAILABLE(503001, "ServiceUnavailable", "com.microsoft:timeout"),
  GATEWAY_TIMEOUT(504101, "GatewayTimeout", "com.microsoft:timeout");

  private final int code;
  private final String wireName;
  private final String amqpCondition;

  ErrorCode(int code, String wireName, String amqpCondition) {
    this.code = code;
    this.wireName = wireName;
    this.amqpCondition = amqpCondition;
  }

  /** The six-digit IoT Hub code, e.g. 404001. */
  public int code() {
    return code;
  }

  /** The HTTP status: the first three digits of the code. */
  public int httpStatus() {
    return code / 1000;
  }

  /** The name the SDKs match on, e.g. {@code DeviceNotFound}. */
  public String wireName() {
    return wireName;
  }

  /** The AMQP error condition for dispositions and detaches. */
  public String amqpCondition() {
    return amqpCondition;
  }
}
