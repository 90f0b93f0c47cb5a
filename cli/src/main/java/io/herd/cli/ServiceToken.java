package io.herd.cli;

import io.herd.core.SasSigner;
import java.util.Base64;

/**
 * Service SAS tokens as the Azure service SDK makes them (azure-iothub-wire.md §1.1), from a
 * connection string's policy name and base64 key; the signing is hub-core's {@link SasSigner}.
 */
final class ServiceToken {
  private ServiceToken() {}

  static String create(String hostName, String keyName, String base64Key, long expiry) {
    return SasSigner.serviceToken(hostName, keyName, Base64.getDecoder().decode(base64Key), expiry);
  }
}
