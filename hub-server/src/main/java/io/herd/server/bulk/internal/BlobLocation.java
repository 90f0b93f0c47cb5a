package io.herd.server.bulk.internal;

import java.nio.file.Path;

/** Where a job reads or writes one blob: a file under the jobs directory, or an HTTP(S) URL. */
public sealed interface BlobLocation {

  /** How messages and logs name the blob: never with a URL's query, which may hold a SAS token. */
  String display();

  /**
   * A file inside the jobs directory.
   *
   * @param file absolute, with every existing directory resolved to its real path
   */
  record LocalFile(Path file) implements BlobLocation {
    @Override
    public String display() {
      return file.toUri().toString();
    }
  }

  /**
   * A blob reached with GET and PUT, such as an Azure blob with a SAS token.
   *
   * @param url absolute, with the container's query string
   */
  record Remote(String url) implements BlobLocation {
    @Override
    public String display() {
      int q = url.indexOf('?');
      return q < 0 ? url : url.substring(0, q);
    }
  }
}
