package io.herd.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Option;

/** Option groups that several commands share, as picocli mixins. */
final class Options {
  private Options() {}

  /** {@code --page-size} and {@code --max-items} of a paged listing. */
  static final class Paged {
    @Option(names = "--page-size", paramLabel = "N", description = "Rows per request (1-1000).")
    Integer pageSize;

    @Option(names = "--max-items", paramLabel = "N", description = "Stop after N rows.")
    Long maxItems;

    /** Checks both; usage errors through {@code c}. */
    Paged check(HubCommand c) {
      if (pageSize != null && (pageSize < 1 || pageSize > Paging.MAX_PAGE)) {
        throw c.usage("--page-size must be 1.." + Paging.MAX_PAGE + ", got " + pageSize);
      }
      if (maxItems != null && maxItems < 1) {
        throw c.usage("--max-items must be at least 1, got " + maxItems);
      }
      return this;
    }
  }

  /** {@code --tags} and {@code --desired}: what a twin patch (or twin job) merges. */
  static final class TwinChange {
    @Option(names = "--tags", paramLabel = "JSON", description = "Tags to merge, a JSON object.")
    String tags;

    @Option(
        names = "--desired",
        paramLabel = "JSON",
        description = "Desired properties to merge, a JSON object (null removes a key).")
    String desired;

    /**
     * {@code {"tags": ..., "properties": {"desired": ...}}} with what was given, or a usage error.
     */
    JsonObject patch(HubCommand c) {
      JsonObject t = c.jsonObject("--tags", tags);
      JsonObject d = c.jsonObject("--desired", desired);
      if (t == null && d == null) {
        throw c.usage("give --tags and/or --desired: what to change");
      }
      JsonObject patch = new JsonObject();
      if (t != null) {
        patch.put("tags", t);
      }
      if (d != null) {
        patch.put("properties", new JsonObject().put("desired", d));
      }
      return patch;
    }
  }

  /** A direct method call's payload and timeouts (wire §5.5), for one device or a job. */
  static final class MethodCall {
    @Option(
        names = "--payload",
        paramLabel = "JSON",
        description = "Any JSON value (default null).")
    String payload;

    @Option(
        names = {"--timeout", "--response-timeout"},
        paramLabel = "S",
        defaultValue = "30",
        description = "Seconds a device has to answer (5-300, default 30).")
    int timeout;

    @Option(
        names = "--connect-timeout",
        paramLabel = "S",
        defaultValue = "0",
        description = "Seconds to wait for a device to connect (0-300, default 0).")
    int connectTimeout;

    /** The request body (a job's {@code cloudToDeviceMethod}), or a usage error. */
    JsonObject body(HubCommand c, String methodName) {
      if (timeout < 5 || timeout > 300) {
        throw c.usage("--timeout must be 5..300 seconds, got " + timeout);
      }
      if (connectTimeout < 0 || connectTimeout > 300) {
        throw c.usage("--connect-timeout must be 0..300 seconds, got " + connectTimeout);
      }
      return new JsonObject()
          .put("methodName", methodName)
          .put("payload", payload == null ? null : c.jsonValue("--payload", payload))
          .put("responseTimeoutInSeconds", timeout)
          .put("connectTimeoutInSeconds", connectTimeout);
    }
  }
}
