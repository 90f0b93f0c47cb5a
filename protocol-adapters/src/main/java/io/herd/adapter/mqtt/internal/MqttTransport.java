package io.herd.adapter.mqtt.internal;

import io.netty.handler.codec.mqtt.MqttMessage;
import java.security.cert.X509Certificate;
import java.util.List;

/** The byte stream under one MQTT session: TCP (with or without TLS) or a WebSocket. */
interface MqttTransport {
  void write(MqttMessage message);

  /** Whether written data waits for the peer beyond the transport's buffer. */
  boolean writeQueueFull();

  void pause();

  void resume();

  void close();

  /** The client certificate chain of the TLS handshake, leaf first; empty when none. */
  List<X509Certificate> peerCertificates();

  String remoteAddress();

  /** {@code mqtt} or {@code mqtt-ws}. */
  String protocol();
}
