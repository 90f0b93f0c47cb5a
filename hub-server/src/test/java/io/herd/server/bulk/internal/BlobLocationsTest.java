package io.herd.server.bulk.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlobLocationsTest {
  private static final String FIELD = "outputBlobContainerUri";

  @TempDir Path tmp;
  private Path jobs;
  private Path outside;

  @BeforeEach
  void dirs() throws Exception {
    jobs = Files.createDirectories(tmp.resolve("jobs")).toRealPath();
    outside = Files.createDirectories(tmp.resolve("outside")).toRealPath();
  }

  private BlobLocation locate(String uri, String blob) {
    return BlobLocations.locate(jobs, FIELD, uri, blob);
  }

  private static String uri(Path p) {
    return p.toUri().toString();
  }

  private void assertOutside(String uri, String blob) {
    assertThatThrownBy(() -> locate(uri, blob))
        .isInstanceOf(HubException.class)
        .hasMessageContaining("is not inside the hub's jobs directory " + jobs)
        .satisfies(
            e -> assertThat(((HubException) e).errorCode()).isEqualTo(ErrorCode.ARGUMENT_INVALID));
  }

  @Test
  void aDirectoryInsideTheJobsDirectoryNamesAFileInIt() throws Exception {
    Path dir = Files.createDirectories(jobs.resolve("exports"));
    assertThat(locate(uri(dir), "devices.txt"))
        .isEqualTo(new BlobLocation.LocalFile(dir.resolve("devices.txt")));
    assertThat(locate("file://localhost" + dir, "a/b.txt"))
        .isEqualTo(new BlobLocation.LocalFile(dir.resolve("a/b.txt")));
    // Directories that do not exist yet are fine, and so is the jobs directory itself.
    assertThat(locate(uri(jobs) + "new/deeper", "devices.txt"))
        .isEqualTo(new BlobLocation.LocalFile(jobs.resolve("new/deeper/devices.txt")));
    assertThat(locate(uri(jobs), "devices.txt"))
        .isEqualTo(new BlobLocation.LocalFile(jobs.resolve("devices.txt")));
  }

  @Test
  void dotDotThatStaysInsideIsResolved() throws Exception {
    Files.createDirectories(jobs.resolve("a/b"));
    assertThat(locate(uri(jobs) + "a/b/../c", "devices.txt"))
        .isEqualTo(new BlobLocation.LocalFile(jobs.resolve("a/c/devices.txt")));
  }

  @Test
  void dotDotOutOfTheJobsDirectoryIsRefused() {
    assertOutside("file://" + jobs + "/../outside", "devices.txt");
    assertOutside("file://" + jobs + "/../../../../etc", "devices.txt");
    assertOutside("file://" + jobs + "/missing/../../outside", "devices.txt");
  }

  @Test
  void absolutePathsOutsideAreRefused() {
    assertOutside(uri(outside), "devices.txt");
    assertOutside("file:///etc", "passwd");
    // A sibling whose name starts with the jobs directory's is still outside.
    assertOutside("file://" + jobs + "-evil", "devices.txt");
  }

  @Test
  void symbolicLinksAreFollowedBeforeTheCheck() throws Exception {
    Files.createSymbolicLink(jobs.resolve("escape"), outside);
    assertOutside(uri(jobs) + "escape", "devices.txt");
    assertOutside(uri(jobs) + "escape/sub", "devices.txt");

    Files.writeString(outside.resolve("secret.txt"), "x");
    Files.createSymbolicLink(jobs.resolve("devices.txt"), outside.resolve("secret.txt"));
    assertOutside(uri(jobs), "devices.txt");

    // A dangling link would send a write outside once its target exists.
    Files.createSymbolicLink(jobs.resolve("later.txt"), outside.resolve("not-yet.txt"));
    assertOutside(uri(jobs), "later.txt");

    // Links that stay inside are fine.
    Path real = Files.createDirectories(jobs.resolve("real"));
    Files.createSymbolicLink(jobs.resolve("alias"), real);
    assertThat(locate(uri(jobs) + "alias", "devices.txt"))
        .isEqualTo(new BlobLocation.LocalFile(real.resolve("devices.txt")));
  }

  @Test
  void blobNamesMayNotClimbOrBeAbsolute() {
    for (String bad : new String[] {"../x", "a/../../x", "/etc/passwd", "", "a//b", "a\\b", "."}) {
      assertThatThrownBy(() -> locate(uri(jobs), bad))
          .as(bad)
          .isInstanceOf(HubException.class)
          .hasMessageContaining("lob name");
    }
  }

  @Test
  void httpContainersKeepTheirQueryAfterTheBlobName() {
    BlobLocation sas =
        locate("https://acct.blob.core.windows.net/herd?sv=2022-11-02&sig=a%2Bb%3D", "devices.txt");
    assertThat(sas)
        .isEqualTo(
            new BlobLocation.Remote(
                "https://acct.blob.core.windows.net/herd/devices.txt?sv=2022-11-02&sig=a%2Bb%3D"));
    assertThat(sas.display()).isEqualTo("https://acct.blob.core.windows.net/herd/devices.txt");
    assertThat(locate("http://127.0.0.1:8080/c/", "sub dir/ä.txt"))
        .isEqualTo(new BlobLocation.Remote("http://127.0.0.1:8080/c/sub%20dir/%C3%A4.txt"));
    assertThat(locate("HTTP://host", "devices.txt"))
        .isEqualTo(new BlobLocation.Remote("http://host/devices.txt"));
  }

  @Test
  void otherSchemesAndMalformedUrisAreRefused() {
    assertThatThrownBy(() -> locate("ftp://host/c", "devices.txt"))
        .hasMessageContaining("scheme 'ftp'");
    assertThatThrownBy(() -> locate("/just/a/path", "devices.txt"))
        .hasMessageContaining("no scheme");
    assertThatThrownBy(() -> locate("file://otherhost/x", "devices.txt"))
        .hasMessageContaining("names host 'otherhost'");
    assertThatThrownBy(() -> locate("http://exa mple/x", "devices.txt"))
        .hasMessageContaining("not a valid URI");
    assertThatThrownBy(() -> locate("https:///nohost", "devices.txt"))
        .hasMessageContaining("must name a host");
    assertThatThrownBy(() -> locate(null, "devices.txt"))
        .satisfies(
            e -> assertThat(((HubException) e).errorCode()).isEqualTo(ErrorCode.ARGUMENT_NULL));
  }
}
