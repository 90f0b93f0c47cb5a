package io.herd.adapter.common;

import java.security.cert.X509Certificate;
import java.util.List;

/** Checks a device's client certificate chain against its registered X.509 credentials. */
@FunctionalInterface
public interface X509Verifier {
  /**
   * @param moduleId null for a device
   * @param chain the chain the client sent in the TLS handshake, leaf first
   * @throws io.herd.core.HubException 401 saying why the chain does not authenticate the identity
   */
  void verify(String deviceId, String moduleId, List<X509Certificate> chain);
}
