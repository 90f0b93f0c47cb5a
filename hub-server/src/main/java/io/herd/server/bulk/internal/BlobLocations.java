package io.herd.server.bulk.internal;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.herd.core.PercentEncoding;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;

/**
 * Resolves a container URI and a blob name to a {@link BlobLocation}. A {@code file://} container
 * must lie inside the jobs directory once {@code ..} and symbolic links are resolved the way the
 * operating system resolves them; {@code http://} and {@code https://} containers work like Azure's
 * SAS container URLs: the blob name goes into the path, the query stays. Touches the file system,
 * so it runs on a worker thread.
 */
public final class BlobLocations {
  private static final int MAX_BLOB_NAME = 1024;

  private BlobLocations() {}

  /**
   * The blob {@code blobName} in the container {@code containerUri}.
   *
   * @param jobsDir the jobs directory, a real path (no links)
   * @param field the request field holding the container, for messages
   * @throws HubException ArgumentInvalid (or ArgumentNull) saying what is wrong
   */
  public static BlobLocation locate(
      Path jobsDir, String field, String containerUri, String blobName) {
    if (containerUri == null || containerUri.isBlank()) {
      throw new HubException(ErrorCode.ARGUMENT_NULL, "Field '" + field + "' is required");
    }
    URI uri;
    try {
      uri = new URI(containerUri.strip());
    } catch (URISyntaxException e) {
      throw HubException.badRequest("Field '" + field + "' is not a valid URI: " + e.getMessage());
    }
    checkBlobName(blobName);
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    switch (scheme) {
      case "file":
        return new BlobLocation.LocalFile(localFile(jobsDir, field, uri, blobName));
      case "http":
      case "https":
        return new BlobLocation.Remote(remoteUrl(field, uri, scheme, blobName));
      default:
        throw HubException.badRequest(
            "Field '"
                + field
                + "' must be a file:// URI of a directory under the hub's jobs directory or an"
                + " http:// or https:// container URL, got "
                + (scheme.isEmpty() ? "no scheme" : "scheme '" + scheme + "'"));
    }
  }

  /** Blob names are relative paths without empty, {@code .} or {@code ..} segments. */
  static void checkBlobName(String name) {
    if (name == null || name.isEmpty() || name.length() > MAX_BLOB_NAME) {
      throw HubException.badRequest(
          "A blob name must have 1 to " + MAX_BLOB_NAME + " characters, got '" + name + "'");
    }
    for (String segment : name.split("/", -1)) {
      if (segment.isEmpty()
          || segment.equals(".")
          || segment.equals("..")
          || segment.indexOf('\\') >= 0
          || segment.indexOf('\0') >= 0) {
        throw HubException.badRequest(
            "Blob name '"
                + name
                + "' must be a relative path without empty, '.' or '..' segments or backslashes");
      }
    }
  }

  private static Path localFile(Path jobsDir, String field, URI uri, String blobName) {
    String host = uri.getHost() == null ? uri.getRawAuthority() : uri.getHost();
    if (host != null && !host.isEmpty() && !host.equalsIgnoreCase("localhost")) {
      throw HubException.badRequest(
          "Field '" + field + "' names host '" + host + "'; file:// URIs are on the hub itself");
    }
    if (uri.getPath() == null || !uri.getPath().startsWith("/")) {
      throw HubException.badRequest(
          "Field '" + field + "' must be an absolute file URI such as file:///srv/herd/jobs/x");
    }
    Path dir;
    try {
      dir = Path.of(uri.getPath());
    } catch (InvalidPathException e) {
      throw HubException.badRequest("Field '" + field + "' is not a valid path: " + e.getReason());
    }
    Path realDir = confined(jobsDir, field, dir, uri.toString());
    return confined(jobsDir, field, realDir.resolve(blobName), uri + " (blob " + blobName + ")");
  }

  /**
   * {@code p} with its longest existing ancestor resolved to a real path, checked to lie inside
   * {@code jobsDir}. The rest, which does not exist yet, may not climb with {@code ..}; a dangling
   * symbolic link anywhere in the path is refused, as writing through it would leave the directory.
   */
  static Path confined(Path jobsDir, String field, Path p, String shown) {
    Deque<String> missing = new ArrayDeque<>();
    Path existing = p;
    while (existing != null && !Files.exists(existing)) {
      if (Files.isSymbolicLink(existing)) {
        throw outside(jobsDir, field, shown, "a symbolic link in it leads nowhere");
      }
      Path name = existing.getFileName();
      if (name != null) {
        String s = name.toString();
        if (s.equals("..") || s.equals(".")) {
          throw outside(jobsDir, field, shown, "it climbs with '..' through missing directories");
        }
        missing.push(s);
      }
      existing = existing.getParent();
    }
    Path real;
    try {
      real = existing == null ? p.getRoot() : existing.toRealPath();
    } catch (IOException e) {
      throw HubException.badRequest(
          "Field '" + field + "': cannot resolve " + shown + ": " + e.getMessage());
    }
    for (String s : missing) {
      real = real.resolve(s);
    }
    if (!real.startsWith(jobsDir)) {
      throw outside(jobsDir, field, shown, "it resolves to " + real);
    }
    if (Files.exists(real) && !Files.isDirectory(real) && !Files.isRegularFile(real)) {
      throw HubException.badRequest(
          "Field '" + field + "': " + shown + " is neither a directory nor a regular file");
    }
    return real;
  }

  private static HubException outside(Path jobsDir, String field, String shown, String why) {
    return HubException.badRequest(
        "Field '"
            + field
            + "': "
            + shown
            + " is not inside the hub's jobs directory "
            + jobsDir
            + " (--jobs-dir): "
            + why);
  }

  private static String remoteUrl(String field, URI uri, String scheme, String blobName) {
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw HubException.badRequest("Field '" + field + "' must name a host");
    }
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    StringBuilder url =
        new StringBuilder(scheme).append("://").append(uri.getRawAuthority()).append(path);
    url.append('/').append(PercentEncoding.path(blobName));
    if (uri.getRawQuery() != null) {
      url.append('?').append(uri.getRawQuery());
    }
    return url.toString();
  }
}
