package io.herd.server.bulk;

/**
 * What {@code POST /jobs/create} asks for, with IoT Hub's default blob names filled in: {@code
 * devices.txt} in and out, {@code importErrors.log} for an import's errors.
 *
 * @param inputContainer null for exports
 * @param inputBlob null for exports
 */
public record BulkJobRequest(
    BulkJobType type,
    String inputContainer,
    String inputBlob,
    String outputContainer,
    String outputBlob,
    boolean excludeKeys) {

  public static final String DEVICES_BLOB = "devices.txt";
  public static final String IMPORT_ERRORS_BLOB = "importErrors.log";
}
