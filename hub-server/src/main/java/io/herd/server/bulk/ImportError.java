package io.herd.server.bulk;

/**
 * Why one line of an import was not applied; one line of the job's error log.
 *
 * @param line 1-based line number in the input blob
 * @param deviceId the line's device id, null when the line has none readable
 * @param errorCode IoT Hub's error name, e.g. {@code DeviceAlreadyExists}
 */
public record ImportError(long line, String deviceId, String errorCode, String message) {}
