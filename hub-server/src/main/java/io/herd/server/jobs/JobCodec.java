package io.herd.server.jobs;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.JsonFields;
import io.herd.core.Timestamps;
import io.herd.server.methods.MethodCall;
import io.herd.twin.TwinUpdate;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Jobs v2 bodies (azure-iothub-wire.md §5.7) with Herd's rollout extensions, read with errors that
 * name the field and what was wrong.
 */
public final class JobCodec {
  private JobCodec() {}

  /** IoT Hub's job id rule. */
  private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9-]{1,64}");

  public static final long DEFAULT_MAX_EXECUTION_SECONDS = 3600;

  public static void checkJobId(String jobId) {
    if (jobId == null || !JOB_ID.matcher(jobId).matches()) {
      throw HubException.badRequest(
          "jobId must be 1 to 64 characters of letters, digits and '-', got '" + jobId + "'");
    }
  }

  /** Reads a {@code PUT /jobs/v2/{jobId}} body. */
  public static JobSpec parse(String pathJobId, JsonObject body) {
    checkJobId(pathJobId);
    String bodyId = JsonFields.string(body, "jobId", null);
    if (bodyId != null && !bodyId.equals(pathJobId)) {
      throw HubException.badRequest(
          "jobId in the body ('" + bodyId + "') differs from the path ('" + pathJobId + "')");
    }
    String typeText = JsonFields.string(body, "type", null);
    if (typeText == null) {
      throw new HubException(
          ErrorCode.ARGUMENT_NULL, "type is required: scheduleUpdateTwin or scheduleDeviceMethod");
    }
    JobType type = JobType.parse(typeText);
    String condition = JsonFields.string(body, "queryCondition", null);
    if (condition == null || condition.isBlank()) {
      throw new HubException(
          ErrorCode.ARGUMENT_NULL,
          "queryCondition is required: a WHERE condition over device twins, or * for all");
    }
    Instant start = null;
    String startText = JsonFields.string(body, "startTime", null);
    if (startText != null) {
      try {
        start = Timestamps.parse(startText);
      } catch (RuntimeException e) {
        throw HubException.badRequest("startTime is not an ISO-8601 time: '" + startText + "'");
      }
    }
    long maxSeconds = wholeNumber(body, "maxExecutionTimeInSeconds", DEFAULT_MAX_EXECUTION_SECONDS);
    if (maxSeconds < 1) {
      throw HubException.badRequest(
          "maxExecutionTimeInSeconds must be at least 1, got " + maxSeconds);
    }
    JsonObject updateTwinJson = null;
    TwinUpdate update = null;
    MethodCall method = null;
    if (type == JobType.SCHEDULE_UPDATE_TWIN) {
      updateTwinJson = JsonFields.object(body, "updateTwin", null);
      if (updateTwinJson == null) {
        throw new HubException(
            ErrorCode.ARGUMENT_NULL, "updateTwin is required for a scheduleUpdateTwin job");
      }
      update = twinUpdate(updateTwinJson);
    } else {
      JsonObject m = JsonFields.object(body, "cloudToDeviceMethod", null);
      if (m == null) {
        throw new HubException(
            ErrorCode.ARGUMENT_NULL,
            "cloudToDeviceMethod is required for a scheduleDeviceMethod job");
      }
      method = MethodCall.parse(m, "cloudToDeviceMethod");
    }
    return new JobSpec(
        pathJobId,
        type,
        condition.strip(),
        start,
        maxSeconds,
        updateTwinJson,
        update,
        method,
        rollout(body, type));
  }

  private static TwinUpdate twinUpdate(JsonObject u) {
    JsonObject tags = JsonFields.object(u, "tags", "updateTwin");
    JsonObject properties = JsonFields.object(u, "properties", "updateTwin");
    JsonObject desired =
        properties == null
            ? null
            : JsonFields.object(properties, "desired", "updateTwin.properties");
    if (properties != null && properties.containsKey("reported")) {
      throw HubException.badRequest(
          "updateTwin.properties.reported: reported properties belong to the device");
    }
    if (tags == null && desired == null) {
      throw HubException.badRequest(
          "updateTwin needs tags or properties.desired to change, found neither");
    }
    String etag = JsonFields.string(u, "etag", "updateTwin");
    if (etag != null && !etag.strip().equals("*")) {
      // One patch for a whole fleet cannot name each twin's etag (IoT Hub requires "*").
      throw HubException.badRequest(
          "updateTwin.etag must be \"*\" (or absent) in a job, got '" + etag + "'");
    }
    return new TwinUpdate(tags, desired, false, null);
  }

  private static Rollout rollout(JsonObject body, JobType type) {
    Long perMinute = optionalWhole(body, "maxDevicesPerMinute", null);
    if (perMinute != null && perMinute < 1) {
      throw HubException.badRequest("maxDevicesPerMinute must be at least 1, got " + perMinute);
    }
    Rollout.Ramp ramp = null;
    JsonObject r = JsonFields.object(body, "exponentialRate", null);
    if (r != null) {
      long base = wholeNumber(r, "baseRatePerMinute", -1, "exponentialRate");
      if (base < 1) {
        throw HubException.badRequest("exponentialRate.baseRatePerMinute must be at least 1");
      }
      Object f = r.getValue("incrementFactor");
      if (!(f instanceof Number factor) || factor.doubleValue() <= 1 || factor.doubleValue() > 5) {
        throw HubException.badRequest(
            "exponentialRate.incrementFactor must be a number above 1 and at most 5, got " + f);
      }
      JsonObject c = JsonFields.object(r, "rateIncreaseCriteria", "exponentialRate");
      if (c == null) {
        throw HubException.badRequest(
            "exponentialRate.rateIncreaseCriteria is required: numberOfNotifiedDevices or"
                + " numberOfSucceededDevices");
      }
      Long notified =
          optionalWhole(c, "numberOfNotifiedDevices", "exponentialRate.rateIncreaseCriteria");
      Long succeeded =
          optionalWhole(c, "numberOfSucceededDevices", "exponentialRate.rateIncreaseCriteria");
      if ((notified == null) == (succeeded == null)
          || (notified != null && notified < 1)
          || (succeeded != null && succeeded < 1)) {
        throw HubException.badRequest(
            "exponentialRate.rateIncreaseCriteria needs exactly one of numberOfNotifiedDevices and"
                + " numberOfSucceededDevices, at least 1");
      }
      ramp =
          new Rollout.Ramp(
              (int) base,
              factor.doubleValue(),
              notified == null ? null : notified.intValue(),
              succeeded == null ? null : succeeded.intValue());
    }
    Rollout.Abort abort = null;
    JsonObject a = JsonFields.object(body, "abortCriteria", null);
    if (a != null) {
      Object pct = a.getValue("failureThresholdPercentage");
      if (!(pct instanceof Number p) || p.doubleValue() < 0 || p.doubleValue() > 100) {
        throw HubException.badRequest(
            "abortCriteria.failureThresholdPercentage must be a number from 0 to 100, got " + pct);
      }
      long min = wholeNumber(a, "minNumberOfDevices", 1, "abortCriteria");
      if (min < 1) {
        throw HubException.badRequest("abortCriteria.minNumberOfDevices must be at least 1");
      }
      abort = new Rollout.Abort(p.doubleValue(), (int) min);
    }
    Long deviceTimeout = optionalWhole(body, "deviceTimeoutInSeconds", null);
    if (deviceTimeout != null) {
      if (type != JobType.SCHEDULE_DEVICE_METHOD) {
        throw HubException.badRequest(
            "deviceTimeoutInSeconds applies to scheduleDeviceMethod jobs");
      }
      if (deviceTimeout < 1 || deviceTimeout > 3600) {
        throw HubException.badRequest(
            "deviceTimeoutInSeconds must be between 1 and 3600, got " + deviceTimeout);
      }
    }
    List<MaintenanceWindow> windows = new ArrayList<>();
    JsonArray w = JsonFields.array(body, "maintenanceWindows", null);
    if (w != null) {
      for (int i = 0; i < w.size(); i++) {
        String at = "maintenanceWindows[" + i + "]";
        if (!(w.getValue(i) instanceof JsonObject o)) {
          throw JsonFields.wrongType(at, "an object", w.getValue(i));
        }
        String startText = JsonFields.string(o, "startTime", at);
        LocalTime start;
        try {
          start = LocalTime.parse(startText == null ? "" : startText);
        } catch (DateTimeParseException e) {
          throw HubException.badRequest(
              at + ".startTime must be a UTC time of day like \"22:00\", got '" + startText + "'");
        }
        long minutes = wholeNumber(o, "durationInMinutes", -1, at);
        if (minutes < 1 || minutes > 1440) {
          throw HubException.badRequest(
              at + ".durationInMinutes must be between 1 and 1440, got " + minutes);
        }
        windows.add(new MaintenanceWindow(start, Duration.ofMinutes(minutes)));
      }
    }
    long concurrency = wholeNumber(body, "maxConcurrency", Rollout.DEFAULT_MAX_CONCURRENCY);
    if (concurrency < 1 || concurrency > Rollout.MAX_CONCURRENCY) {
      throw HubException.badRequest(
          "maxConcurrency must be between 1 and "
              + Rollout.MAX_CONCURRENCY
              + ", got "
              + concurrency);
    }
    return new Rollout(
        perMinute == null ? null : perMinute.intValue(),
        ramp,
        abort,
        deviceTimeout == null ? null : deviceTimeout.intValue(),
        windows,
        (int) concurrency);
  }

  private static long wholeNumber(JsonObject o, String field, long dflt) {
    return wholeNumber(o, field, dflt, null);
  }

  private static long wholeNumber(JsonObject o, String field, long dflt, String parent) {
    Long v = optionalWhole(o, field, parent);
    return v == null ? dflt : v;
  }

  private static Long optionalWhole(JsonObject o, String field, String parent) {
    Object v = o.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
      throw JsonFields.wrongType(JsonFields.path(parent, field), "a whole number", v);
    }
    return n.longValue();
  }

  /** The rollout settings as the job body names them, for responses. */
  static void putRollout(JsonObject o, Rollout r) {
    if (r.maxDevicesPerMinute() != null) {
      o.put("maxDevicesPerMinute", r.maxDevicesPerMinute());
    }
    if (r.ramp() != null) {
      JsonObject c = new JsonObject();
      if (r.ramp().numberOfNotifiedDevices() != null) {
        c.put("numberOfNotifiedDevices", r.ramp().numberOfNotifiedDevices());
      }
      if (r.ramp().numberOfSucceededDevices() != null) {
        c.put("numberOfSucceededDevices", r.ramp().numberOfSucceededDevices());
      }
      o.put(
          "exponentialRate",
          new JsonObject()
              .put("baseRatePerMinute", r.ramp().baseRatePerMinute())
              .put("incrementFactor", r.ramp().incrementFactor())
              .put("rateIncreaseCriteria", c));
    }
    if (r.abort() != null) {
      o.put(
          "abortCriteria",
          new JsonObject()
              .put("failureThresholdPercentage", r.abort().failureThresholdPercentage())
              .put("minNumberOfDevices", r.abort().minNumberOfDevices()));
    }
    if (r.deviceTimeoutSeconds() != null) {
      o.put("deviceTimeoutInSeconds", r.deviceTimeoutSeconds());
    }
    if (!r.windows().isEmpty()) {
      JsonArray w = new JsonArray();
      for (MaintenanceWindow m : r.windows()) {
        w.add(
            new JsonObject()
                .put("startTime", m.start().toString())
                .put("durationInMinutes", m.duration().toMinutes()));
      }
      o.put("maintenanceWindows", w);
    }
    o.put("maxConcurrency", r.maxConcurrency());
  }

  /** The spec as stored: the request body it was made from, normalised. */
  public static JsonObject specJson(JobSpec s) {
    JsonObject o =
        new JsonObject()
            .put("jobId", s.jobId())
            .put("type", s.type().wire)
            .put("queryCondition", s.queryCondition())
            .put("startTime", s.startTime() == null ? null : Timestamps.format(s.startTime()))
            .put("maxExecutionTimeInSeconds", s.maxExecutionTimeInSeconds());
    if (s.updateTwinJson() != null) {
      o.put("updateTwin", s.updateTwinJson());
    }
    if (s.method() != null) {
      o.put("cloudToDeviceMethod", s.method().json());
    }
    putRollout(o, s.rollout());
    return o;
  }
}
