package io.herd.server.bulk.internal;

import io.herd.core.twin.TwinKey;
import io.herd.registry.Device;
import io.herd.registry.DeviceRegistry;
import io.herd.server.bulk.BulkJob;
import io.herd.server.bulk.BulkJobStore;
import io.herd.twin.TwinStore;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Exports every device identity with its twin's tags and properties, one line each in device-id
 * order, as of a snapshot taken when the run starts. Lines are rendered a page at a time on the
 * jobs' worker pool and appended to a temporary file, which replaces the output blob at the end. A
 * run stopped by a hub restart starts again from the beginning.
 */
public final class ExportRun implements JobRun {
  private static final int PAGE = 1000;

  private final BulkJob job;
  private final JobStorage storage;
  private final DeviceRegistry registry;
  private final TwinStore twins;
  private final BulkJobStore store;
  private boolean stopRequested;
  private boolean cancelRequested;
  private int progress;

  public ExportRun(
      BulkJob job,
      JobStorage storage,
      DeviceRegistry registry,
      TwinStore twins,
      BulkJobStore store) {
    this.job = job;
    this.storage = storage;
    this.registry = registry;
    this.twins = twins;
    this.store = store;
  }

  /** Ends the page loop early; the reason is in the run's flags. */
  private static final class Interrupted extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Interrupted() {
      super("interrupted", null, false, false);
    }
  }

  @Override
  public Future<Outcome> run() {
    return storage
        .locate("outputBlobContainerUri", job.outputContainer(), job.outputBlob())
        .compose(
            blob ->
                storage
                    .create(blob, job.jobId())
                    .compose(
                        output ->
                            storage
                                .onWorker(this::snapshot)
                                .compose(devices -> pages(output, devices, 0))
                                .compose(v -> output.publish())
                                .recover(
                                    e -> output.discard().compose(v -> Future.failedFuture(e))))
                    .recover(
                        e ->
                            e instanceof Interrupted
                                ? Future.failedFuture(e)
                                : Future.failedFuture(
                                    "cannot write " + blob.display() + ": " + JobRun.reason(e))))
        .map(v -> new Outcome(End.COMPLETED, 100, null))
        .recover(
            e -> {
              if (cancelRequested) {
                return Future.succeededFuture(new Outcome(End.CANCELLED, progress, null));
              }
              if (stopRequested) {
                return Future.succeededFuture(new Outcome(End.STOPPED, progress, null));
              }
              return Future.succeededFuture(new Outcome(End.FAILED, progress, JobRun.reason(e)));
            });
  }

  @Override
  public void stop() {
    stopRequested = true;
  }

  @Override
  public void cancel() {
    cancelRequested = true;
  }

  /** Every device, by id; runs on a worker thread. */
  private List<Device> snapshot() {
    List<Device> devices = new ArrayList<>();
    registry.forEachIdentity(devices::add, m -> {});
    devices.sort(Comparator.comparing(Device::deviceId));
    return devices;
  }

  private Future<Void> pages(JobStorage.Output output, List<Device> devices, int from) {
    if (stopRequested || cancelRequested) {
      return Future.failedFuture(new Interrupted());
    }
    if (from >= devices.size()) {
      return Future.succeededFuture();
    }
    int to = Math.min(devices.size(), from + PAGE);
    int percent = (int) Math.min(99, to * 100L / devices.size());
    return storage
        .onWorker(() -> render(devices.subList(from, to)))
        .compose(output::write)
        .compose(v -> store.progress(job.jobId(), 0, percent, to, 0, List.of()))
        .compose(
            running -> {
              if (!running) {
                cancelRequested = true;
              }
              progress = percent;
              return pages(output, devices, to);
            });
  }

  private Buffer render(List<Device> page) {
    Buffer text = Buffer.buffer(page.size() * 512);
    for (Device d : page) {
      var twin = twins.find(TwinKey.device(d.deviceId())).orElse(null);
      text.appendBuffer(DeviceLinesCodec.exportLine(d, twin, job.excludeKeys()).toBuffer())
          .appendByte((byte) '\n');
    }
    return text;
  }
}
