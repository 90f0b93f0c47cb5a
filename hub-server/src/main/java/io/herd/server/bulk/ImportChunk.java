package io.herd.server.bulk;

import java.util.List;

/**
 * A chunk of an import as it was about to be applied: the lines it covers and what each of its
 * devices was just before. Recorded before the chunk is applied, it lets a run resumed after a
 * crash tell the devices the interrupted attempt reached from the others by comparing them with
 * what they are now.
 *
 * @param afterLine the job's {@link BulkJob#linesDone} when the chunk started
 * @param throughLine the chunk's last line
 * @param devices one pre-image per device the chunk applies, in line order
 */
public record ImportChunk(long afterLine, long throughLine, List<PreImage> devices) {
  public ImportChunk {
    devices = List.copyOf(devices);
  }

  /**
   * One device before the chunk.
   *
   * @param etag the identity's etag, null when there was no such device
   * @param twinServiceVersion for a line with a twin part, the twin's {@code serviceVersion} (0
   *     without a twin); null for a line without one
   */
  public record PreImage(String deviceId, String etag, Long twinServiceVersion) {}
}
