package io.herd.adapter.common;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import javax.net.ssl.SSLPeerUnverifiedException;

/** The client's X.509 chain of a TLS connection, leaf first; empty without TLS or certificate. */
public final class PeerCertificates {
  private PeerCertificates() {}

  public static List<X509Certificate> of(
      boolean ssl, Callable<List<Certificate>> peerCertificates) {
    if (!ssl) {
      return List.of();
    }
    try {
      List<X509Certificate> out = new ArrayList<>();
      for (Certificate c : peerCertificates.call()) {
        if (c instanceof X509Certificate x) {
          out.add(x);
        }
      }
      return out;
    } catch (SSLPeerUnverifiedException e) {
      return List.of();
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the peer certificates", e);
    }
  }
}
