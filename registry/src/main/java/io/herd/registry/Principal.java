package io.herd.registry;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import java.util.Set;

/** Who a request authenticated as: a shared access policy and its rights. */
public record Principal(String name, Set<Permission> permissions) {
  public Principal {
    permissions = Set.copyOf(permissions);
  }

  /** Fails with 401 when this principal lacks {@code p}. */
  public void require(Permission p) {
    if (!permissions.contains(p)) {
      throw new HubException(
          ErrorCode.IOT_HUB_UNAUTHORIZED_ACCESS,
          "Unauthorized: policy '" + name + "' does not grant " + p.wire());
    }
  }
}
