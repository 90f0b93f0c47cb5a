package io.herd.adapter.mqtt.internal;

import io.netty.handler.codec.mqtt.MqttMessage;
import io.vertx.core.internal.net.NetSocketInternal;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLPeerUnverifiedException;

/** MQTT over a TCP connection whose pipeline holds Netty's MQTT codec. */
final class TcpTransport implements MqttTransport {
  private final NetSocketInternal socket;

  TcpTransport(NetSocketInternal socket) {
    this.socket = socket;
  }

  @Override
  public void write(MqttMessage message) {
    socket.writeMessage(message);
  }

  @Override
  public boolean writeQueueFull() {
    return socket.writeQueueFull();
  }

  @Override
  public void pause() {
    socket.pause();
  }

  @Override
  public void resume() {
    socket.resume();
  }

  @Override
  public void close() {
    socket.close();
  }

  @Override
  public List<X509Certificate> peerCertificates() {
    if (!socket.isSsl()) {
      return List.of();
    }
    try {
      List<X509Certificate> out = new ArrayList<>();
      for (Certificate c : socket.peerCertificates()) {
        if (c instanceof X509Certificate x) {
          out.add(x);
        }
      }
      return out;
    } catch (SSLPeerUnverifiedException e) {
      return List.of();
    }
  }

  @Override
  public String remoteAddress() {
    return String.valueOf(socket.remoteAddress());
  }

  @Override
  public String protocol() {
    return "mqtt";
  }
}
