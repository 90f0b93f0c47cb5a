package io.herd.server.internal;

import io.herd.registry.AccessPolicies;
import io.herd.registry.AccessPolicy;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * {@code DIR/hub.json}: how to reach this hub and a service connection string per policy. It holds
 * keys, so it is written mode 0600, atomically.
 */
public final class HubInfoFile {
  private HubInfoFile() {}

  public static JsonObject content(
      String hostName, int https, int mqtt, int amqp, Path caFile, AccessPolicies policies) {
    JsonObject strings = new JsonObject();
    for (AccessPolicy p : policies.all()) {
      strings.put(p.name(), p.connectionString(hostName));
    }
    return new JsonObject()
        .put("hostName", hostName)
        .put("ports", new JsonObject().put("https", https).put("mqtt", mqtt).put("amqp", amqp))
        .put("caFile", caFile == null ? null : caFile.toAbsolutePath().toString())
        .put("connectionStrings", strings);
  }

  public static void write(Path file, JsonObject content) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(
        tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, content.encodePrettily() + "\n", StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
