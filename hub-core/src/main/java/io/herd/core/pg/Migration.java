package io.herd.core.pg;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * One versioned schema change of one component, read from a classpath resource.
 *
 * @param component the owning module, e.g. {@code registry}; versions count per component
 * @param version 1, 2, 3 ... applied in order, never edited once released
 * @param description what the change does, kept in the history table
 * @param sql the statements to run
 */
public record Migration(String component, int version, String description, String sql) {

  /** Loads {@code resource} relative to {@code owner}'s class loader. */
  public static Migration load(
      Class<?> owner, String component, int version, String description, String resource) {
    try (InputStream in = owner.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("migration resource not found: " + resource);
      }
      return new Migration(
          component, version, description, new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException("cannot read migration " + resource, e);
    }
  }

  /** SHA-256 of the SQL text, to notice a released migration being edited. */
  public String checksum() {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(md.digest(sql.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
