package io.herd.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "jobs",
    description =
        "Jobs v2: scheduled twin updates and method broadcasts over query-selected devices.",
    subcommands = {
      JobsCommand.ScheduleTwin.class,
      JobsCommand.ScheduleMethod.class,
      JobsCommand.Show.class,
      JobsCommand.ListJobs.class,
      JobsCommand.Cancel.class
    })
final class JobsCommand {
  private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9-]{1,64}");
  private static final Pattern WINDOW = Pattern.compile("(\\d{1,2}):(\\d{2})/(\\d+)");
  private static final DateTimeFormatter ID_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT).withZone(ZoneOffset.UTC);

  /** How often --wait asks for the job: a terminal's bar, and log lines at most this often. */
  static final long POLL_MILLIS = 500;

  static final long PLAIN_EVERY_MILLIS = 5_000;

  private JobsCommand() {}

  /** What both kinds of job take: the device selection, timing, rollout control and --wait. */
  static final class Schedule {
    @Option(
        names = "--job-id",
        paramLabel = "ID",
        description = "1-64 letters, digits and '-' (default: herd-<time>-<random>).")
    String jobId;

    @Option(
        names = "--query",
        paramLabel = "CONDITION",
        required = true,
        description = "The devices: a query condition over twins, or * for all.")
    String query;

    @Option(
        names = "--start",
        paramLabel = "TIME",
        description = "Start time, ISO-8601 (default now).")
    String start;

    @Option(
        names = "--max-time",
        paramLabel = "S",
        description = "maxExecutionTimeInSeconds (default 3600).")
    Long maxTime;

    @Option(
        names = "--max-per-minute",
        paramLabel = "N",
        description = "Devices started per minute at most.")
    Integer maxPerMinute;

    @Option(
        names = "--abort-percent",
        paramLabel = "P",
        description = "Fail the job once more than P%% of the finished devices failed ...")
    Double abortPercent;

    @Option(
        names = "--abort-min",
        paramLabel = "N",
        description = "... counting only from N finished devices on (default 1).")
    Integer abortMin;

    @Option(
        names = "--max-concurrency",
        paramLabel = "N",
        description = "Devices in progress at once (default 10000).")
    Integer maxConcurrency;

    @Option(
        names = "--window",
        paramLabel = "HH:MM/MIN",
        description = "A daily UTC maintenance window, e.g. 22:00/120; repeatable.")
    List<String> windows = new ArrayList<>();

    @Option(
        names = "--wait",
        description =
            "Follow the job until it ends: a progress bar on a terminal's stderr, else a line"
                + " every 5 s; exit 1 unless it completed.")
    boolean waitForEnd;

    /** The body fields these options give, checked; usage errors through {@code c}. */
    JsonObject body(HubCommand c, String type) {
      String id = jobId == null ? newJobId() : jobId;
      if (!JOB_ID.matcher(id).matches()) {
        throw c.usage("--job-id must be 1-64 letters, digits and '-', got '" + id + "'");
      }
      if (query.isBlank()) {
        throw c.usage("--query is empty; give a condition, or * for all devices");
      }
      JsonObject body =
          new JsonObject()
              .put("jobId", id)
              .put("type", type)
              .put("queryCondition", query)
              .put("startTime", start == null ? null : startTime(c, start));
      if (maxTime != null) {
        if (maxTime < 1) {
          throw c.usage("--max-time must be at least 1 second, got " + maxTime);
        }
        body.put("maxExecutionTimeInSeconds", maxTime);
      }
      if (maxPerMinute != null) {
        if (maxPerMinute < 1) {
          throw c.usage("--max-per-minute must be at least 1, got " + maxPerMinute);
        }
        body.put("maxDevicesPerMinute", maxPerMinute);
      }
      if (abortMin != null && abortPercent == null) {
        throw c.usage("--abort-min goes with --abort-percent");
      }
      if (abortPercent != null) {
        if (abortPercent < 0 || abortPercent > 100) {
          throw c.usage("--abort-percent must be 0..100, got " + abortPercent);
        }
        if (abortMin != null && abortMin < 1) {
          throw c.usage("--abort-min must be at least 1, got " + abortMin);
        }
        body.put(
            "abortCriteria",
            new JsonObject()
                .put("failureThresholdPercentage", abortPercent)
                .put("minNumberOfDevices", abortMin == null ? 1 : abortMin));
      }
      if (maxConcurrency != null) {
        if (maxConcurrency < 1) {
          throw c.usage("--max-concurrency must be at least 1, got " + maxConcurrency);
        }
        body.put("maxConcurrency", maxConcurrency);
      }
      if (!windows.isEmpty()) {
        JsonArray w = new JsonArray();
        for (String text : windows) {
          w.add(window(c, text));
        }
        body.put("maintenanceWindows", w);
      }
      return body;
    }
  }

  static String newJobId() {
    return "herd-"
        + ID_TIME.format(Instant.now())
        + "-"
        + String.format(Locale.ROOT, "%04x", ThreadLocalRandom.current().nextInt(0x10000));
  }

  /** {@code HH:MM/minutes} as a maintenance window, or a usage error. */
  static JsonObject window(HubCommand c, String text) {
    Matcher m = WINDOW.matcher(text.strip());
    if (!m.matches()) {
      throw c.usage("--window must look like HH:MM/minutes (e.g. 22:00/120), got '" + text + "'");
    }
    int h = Integer.parseInt(m.group(1));
    int min = Integer.parseInt(m.group(2));
    long minutes = Long.parseLong(m.group(3));
    if (h > 23 || min > 59) {
      throw c.usage("--window start must be a UTC time of day 00:00-23:59, got '" + text + "'");
    }
    if (minutes < 1 || minutes > 1440) {
      throw c.usage("--window minutes must be 1..1440, got " + minutes);
    }
    return new JsonObject()
        .put("startTime", String.format(Locale.ROOT, "%02d:%02d", h, min))
        .put("durationInMinutes", minutes);
  }

  static String startTime(HubCommand c, String text) {
    try {
      return OffsetDateTime.parse(text).toInstant().toString();
    } catch (DateTimeParseException e) {
      throw c.usage(
          "--start must be an ISO-8601 time such as 2026-12-01T22:00:00Z, got '" + text + "'");
    }
  }

  /** Creates the job, then shows it, or follows it with --wait. */
  static int schedule(HubCommand c, Schedule s, JsonObject body) {
    JsonObject job =
        c.hub()
            .call("PUT", "/jobs/v2/" + HubCommand.id(body.getString("jobId")))
            .body(body)
            .send()
            .object();
    return s.waitForEnd ? follow(c, body.getString("jobId")) : show(c, job);
  }

  private static int show(HubCommand c, JsonObject job) {
    c.output().object(job);
    return HerdCli.OK;
  }

  /**
   * Polls the job until it ends, drawing progress on stderr; prints the final job and returns 0
   * when it completed, 1 when it failed or was cancelled.
   */
  static int follow(HubCommand c, String jobId) {
    HerdCli cli = c.cli();
    PrintStream err = cli.err();
    boolean tty = cli.stderrIsTerminal();
    int width = tty ? cli.terminalWidth() - 1 : 0;
    JobProgress progress = new JobProgress();
    long lastPlain = -1;
    String lastLine = null;
    JsonObject job;
    while (true) {
      job = c.hub().get("/jobs/v2/" + HubCommand.id(jobId));
      long now = System.nanoTime();
      progress.record(now, job);
      boolean done = JobProgress.done(job);
      if (tty) {
        err.print("\r" + progress.bar(width) + "\033[K" + (done ? "\n" : ""));
        err.flush();
      } else if (done || lastPlain < 0 || now - lastPlain >= PLAIN_EVERY_MILLIS * 1_000_000) {
        String line = progress.plain();
        if (!line.equals(lastLine)) {
          err.println(line);
          lastLine = line;
        }
        lastPlain = now;
      }
      if (done) {
        break;
      }
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new HubClient.Unreachable("interrupted while waiting for job " + jobId, e);
      }
    }
    c.output().object(job);
    String status = job.getString("status");
    if (status.equals("completed")) {
      return HerdCli.OK;
    }
    String reason = job.getString("failureReason");
    err.println("error: job " + jobId + " " + status + (reason == null ? "" : ": " + reason));
    return HerdCli.HUB_ERROR;
  }

  @Command(
      name = "schedule-twin",
      description = {
        "Schedules a twin update (tags and desired properties) over the devices a query selects.",
        "Example: herd jobs schedule-twin --query \"tags.site = 'b1'\" --desired '{\"fw\":\"1.2\"}'"
            + " --max-per-minute 600 --abort-percent 5 --abort-min 50 --wait"
      })
  static final class ScheduleTwin extends HubCommand {
    @Mixin Schedule schedule;

    @Mixin Options.TwinChange change;

    @Override
    public Integer call() {
      JsonObject update = change.patch(this).put("etag", "*");
      JsonObject body = schedule.body(this, "scheduleUpdateTwin").put("updateTwin", update);
      return schedule(this, schedule, body);
    }
  }

  @Command(
      name = "schedule-method",
      description = {
        "Schedules a direct method call on the devices a query selects.",
        "Example: herd jobs schedule-method --query '*' --method reboot --device-timeout 60 --wait"
      })
  static final class ScheduleMethod extends HubCommand {
    @Mixin Schedule schedule;

    @Option(names = "--method", paramLabel = "NAME", required = true)
    String method;

    @Mixin Options.MethodCall call;

    @Option(
        names = "--device-timeout",
        paramLabel = "S",
        description = "One device's whole operation, connect wait included (1-3600).")
    Integer deviceTimeout;

    @Override
    public Integer call() {
      if (deviceTimeout != null && (deviceTimeout < 1 || deviceTimeout > 3600)) {
        throw usage("--device-timeout must be 1..3600 seconds, got " + deviceTimeout);
      }
      JsonObject body =
          schedule
              .body(this, "scheduleDeviceMethod")
              .put("cloudToDeviceMethod", call.body(this, method));
      if (deviceTimeout != null) {
        body.put("deviceTimeoutInSeconds", deviceTimeout);
      }
      return schedule(this, schedule, body);
    }
  }

  @Command(name = "show", description = "Shows a job.")
  static final class Show extends HubCommand {
    @Parameters(paramLabel = "JOB")
    String jobId;

    @Option(names = "--wait", description = "Follow the job until it ends, as schedule-* --wait.")
    boolean waitForEnd;

    @Override
    public Integer call() {
      if (waitForEnd) {
        return follow(this, jobId);
      }
      return show(this, hub().get("/jobs/v2/" + id(jobId)));
    }
  }

  @Command(name = "list", description = "Lists jobs (oldest first on Herd), every page.")
  static final class ListJobs extends HubCommand {
    @Option(
        names = "--type",
        paramLabel = "TYPE",
        description = "scheduleUpdateTwin or scheduleDeviceMethod.")
    String type;

    @Option(
        names = "--status",
        paramLabel = "STATUS",
        description = "queued, scheduled, running, completed, failed or cancelled.")
    String status;

    @Mixin Options.Paged paged;

    @Override
    public Integer call() {
      paged.check(this);
      HubClient hub = hub();
      Output.Rows rows = output().rows();
      Paging.all(
          (size, token) -> {
            HubClient.Page p = hub.jobs(type, status, size, token);
            // Older hubs may leave the item type out; these rows are jobs all the same.
            return new HubClient.Page(p.rows(), "jobResponse", p.continuation());
          },
          paged,
          rows);
      return HerdCli.OK;
    }
  }

  @Command(name = "cancel", description = "Cancels a job.")
  static final class Cancel extends HubCommand {
    @Parameters(paramLabel = "JOB")
    String jobId;

    @Override
    public Integer call() {
      return show(this, hub().call("POST", "/jobs/v2/" + id(jobId) + "/cancel").send().object());
    }
  }
}
