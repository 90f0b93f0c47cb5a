package io.herd.server.bulk;

import static io.herd.core.JsonFields.bool;
import static io.herd.core.JsonFields.string;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.Timestamps;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/** IoT Hub's JobProperties (azure-iothub-wire.md §5.7), the body and answer of the jobs API. */
public final class BulkJobCodec {
  private BulkJobCodec() {}

  /** Reads a {@code POST /jobs/create} body, applying IoT Hub's default blob names. */
  public static BulkJobRequest requestFromJson(JsonObject body) {
    BulkJobType type = BulkJobType.parse("type", string(body, "type", null));
    String auth = string(body, "storageAuthenticationType", null);
    if (auth != null && !auth.equalsIgnoreCase("keyBased")) {
      throw HubException.badRequest(
          "Field 'storageAuthenticationType' '"
              + auth
              + "' is not supported: Herd reaches containers by URI (with a SAS token for Azure)");
    }
    if (bool(body, "includeConfigurations", null, false)) {
      throw HubException.badRequest("Field 'includeConfigurations' is not supported");
    }
    String output = required(body, "outputBlobContainerUri");
    if (type == BulkJobType.EXPORT) {
      return new BulkJobRequest(
          type,
          null,
          null,
          output,
          blobName(body, "outputBlobName", BulkJobRequest.DEVICES_BLOB),
          bool(body, "excludeKeysInExport", null, false));
    }
    return new BulkJobRequest(
        type,
        required(body, "inputBlobContainerUri"),
        blobName(body, "inputBlobName", BulkJobRequest.DEVICES_BLOB),
        output,
        blobName(body, "outputBlobName", BulkJobRequest.IMPORT_ERRORS_BLOB),
        false);
  }

  private static String required(JsonObject body, String field) {
    String v = string(body, field, null);
    if (v == null || v.isBlank()) {
      throw new HubException(ErrorCode.ARGUMENT_NULL, "Field '" + field + "' is required");
    }
    return v;
  }

  private static String blobName(JsonObject body, String field, String dflt) {
    String v = string(body, field, null);
    return v == null || v.isEmpty() ? dflt : v;
  }

  /** A job as IoT Hub's JobProperties; times not reached yet are null. */
  public static JsonObject toJson(BulkJob j) {
    return new JsonObject()
        .put("jobId", j.jobId())
        .put("startTimeUtc", time(j.startTime()))
        .put("endTimeUtc", time(j.endTime()))
        .put("type", j.type().wire())
        .put("status", j.status().wire())
        .put("progress", j.progress())
        .put("inputBlobContainerUri", j.inputContainer())
        .put("inputBlobName", j.inputBlob())
        .put("outputBlobContainerUri", j.outputContainer())
        .put("outputBlobName", j.outputBlob())
        .put("excludeKeysInExport", j.excludeKeys())
        .put("storageAuthenticationType", "keyBased")
        .put("failureReason", j.failureReason())
        .put("includeConfigurations", false)
        .put("configurationsBlobName", null);
  }

  private static String time(Instant t) {
    return t == null ? null : Timestamps.format(t);
  }
}
