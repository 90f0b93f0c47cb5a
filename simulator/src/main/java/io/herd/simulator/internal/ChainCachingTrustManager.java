package io.herd.simulator.internal;

import java.net.Socket;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Objects;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Verifies server chains with the delegate (PKIX path and host name), then accepts a chain whose
 * certificates are byte for byte those of the last chain the delegate accepted for the same peer
 * host without validating the path again. A load generator opens thousands of connections to one
 * server; repeating the same Java PKIX validation for each would spend the client CPU that the
 * server under test shares on one machine. Every handshake still checks the server's signature over
 * the handshake, so a peer without the certificate's key still fails.
 */
public final class ChainCachingTrustManager extends X509ExtendedTrustManager {

  private record Accepted(String peerHost, byte[][] chain) {}

  private final X509ExtendedTrustManager delegate;
  private volatile Accepted accepted;

  public ChainCachingTrustManager(X509ExtendedTrustManager delegate) {
    this.delegate = delegate;
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    String peerHost = engine == null ? null : engine.getPeerHost();
    byte[][] encoded = encode(chain);
    Accepted a = accepted;
    if (a != null
        && Objects.equals(a.peerHost(), peerHost)
        && Arrays.deepEquals(a.chain(), encoded)) {
      return;
    }
    delegate.checkServerTrusted(chain, authType, engine);
    accepted = new Accepted(peerHost, encoded);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    delegate.checkServerTrusted(chain, authType, socket);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    delegate.checkServerTrusted(chain, authType);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    delegate.checkClientTrusted(chain, authType, engine);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    delegate.checkClientTrusted(chain, authType, socket);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    delegate.checkClientTrusted(chain, authType);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return delegate.getAcceptedIssuers();
  }

  private static byte[][] encode(X509Certificate[] chain) throws CertificateException {
    byte[][] encoded = new byte[chain.length][];
    try {
      for (int i = 0; i < chain.length; i++) {
        encoded[i] = chain[i].getEncoded();
      }
    } catch (CertificateEncodingException e) {
      throw new CertificateException("cannot encode the server's certificate", e);
    }
    return encoded;
  }
}
