package io.herd.simulator.internal;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Locale;

/**
 * The firmware-update pattern's steps and reports. A device answers the {@code firmwareUpdate}
 * method at once, then reports {@code firmware} = {@code {status, progress, currentVersion,
 * pendingVersion, error}} as it goes, each step taking {@code stepMs} with a progress update half
 * way:
 *
 * <pre>
 * after      status       progress
 * 0          downloading  0
 * step/2     downloading  25
 * step/2     verifying    50
 * step       applying     70     (a failing device: failed, 50, with an error, old version kept)
 * step/2     applying     80
 * step/2     rebooting    90     then the device reconnects
 * reconnect  current      100    currentVersion = the new version, pendingVersion = null
 * </pre>
 */
public final class FirmwareUpdate {

  /** The error a failing device reports: the image does not pass verification. */
  public static final String VERIFY_ERROR =
      "image verification failed: the package signature does not match";

  /** The {@code firmware.status} values. */
  public enum Status {
    DOWNLOADING,
    VERIFYING,
    APPLYING,
    REBOOTING,
    CURRENT,
    FAILED;

    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** One report: {@code delayMs} after the previous one (or after the method's answer). */
  public record Step(long delayMs, Status status, int progress) {}

  /** The method's payload: {@code {"fwPackageUri": "...", "version": "..."}}. */
  public record Request(String packageUri, String version) {

    /** The request in {@code payload}; throws IllegalArgumentException saying what is wrong. */
    public static Request parse(Object payload) {
      if (!(payload instanceof JsonObject p)) {
        throw new IllegalArgumentException(
            "the payload must be {\"fwPackageUri\": \"...\", \"version\": \"...\"}");
      }
      Object uri = p.getValue("fwPackageUri");
      Object version = p.getValue("version");
      if (!(uri instanceof String u) || u.isBlank()) {
        throw new IllegalArgumentException("fwPackageUri must be a non-empty string");
      }
      if (!(version instanceof String v) || v.isBlank()) {
        throw new IllegalArgumentException("version must be a non-empty string");
      }
      return new Request(u, v);
    }
  }

  private FirmwareUpdate() {}

  /**
   * The reports of an update up to the reboot, or up to the failure of a failing device; the {@code
   * current} report follows the reconnect and is not among them.
   */
  public static List<Step> steps(boolean fails, long stepMs) {
    long half = stepMs / 2;
    Step downloading = new Step(0, Status.DOWNLOADING, 0);
    Step downloaded = new Step(half, Status.DOWNLOADING, 25);
    Step verifying = new Step(stepMs - half, Status.VERIFYING, 50);
    if (fails) {
      return List.of(downloading, downloaded, verifying, new Step(stepMs, Status.FAILED, 50));
    }
    return List.of(
        downloading,
        downloaded,
        verifying,
        new Step(stepMs, Status.APPLYING, 70),
        new Step(half, Status.APPLYING, 80),
        new Step(stepMs - half, Status.REBOOTING, 90));
  }

  /** The reported patch {@code {"firmware": {...}}} of a step; {@code error} may be null. */
  public static JsonObject report(
      Status status, int progress, String currentVersion, String pendingVersion, String error) {
    return new JsonObject()
        .put(
            "firmware",
            new JsonObject()
                .put("status", status.wireName())
                .put("progress", progress)
                .put("currentVersion", currentVersion)
                .put("pendingVersion", pendingVersion)
                .put("error", error));
  }
}
