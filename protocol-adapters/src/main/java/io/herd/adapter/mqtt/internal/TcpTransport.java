package io.herd.adapter.mqtt.internal;

import io.herd.adapter.common.PeerCertificates;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.vertx.core.internal.net.NetSocketInternal;
import java.security.cert.X509Certificate;
import java.util.List;

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
    return PeerCertificates.of(socket.isSsl(), socket::peerCertificates);
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
