package io.herd.registry;

import java.util.EnumSet;
import java.util.Set;

/** A hub-level shared access policy: a name, its rights and two keys. */
public record AccessPolicy(
    String name, Set<Permission> permissions, String primaryKey, String secondaryKey) {
  public AccessPolicy {
    permissions =
        Set.copyOf(permissions.isEmpty() ? EnumSet.noneOf(Permission.class) : permissions);
  }

  /** A service connection string for this policy. */
  public String connectionString(String hostName) {
    return "HostName="
        + hostName
        + ";SharedAccessKeyName="
        + name
        + ";SharedAccessKey="
        + primaryKey;
  }
}
