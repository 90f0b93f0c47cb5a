package io.herd.adapter.mqtt.internal;

import io.herd.adapter.common.PeerCertificates;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * MQTT over a WebSocket of the HTTPS listener (azure-iothub-wire.md §2.8): binary frames carry the
 * MQTT byte stream, which may split packets anywhere, so Netty's codec runs in a channel of its own
 * that only decodes and encodes.
 */
final class WebSocketTransport implements MqttTransport {
  private final ServerWebSocket ws;
  private final EmbeddedChannel codec;

  WebSocketTransport(ServerWebSocket ws, int maxBytesInMessage) {
    this.ws = ws;
    this.codec = new EmbeddedChannel(new MqttDecoder(maxBytesInMessage), MqttEncoder.INSTANCE);
  }

  /** Feeds received bytes to the decoder and hands every whole packet to {@code sink}. */
  void received(Buffer data, Handler<Object> sink) {
    codec.writeInbound(Unpooled.wrappedBuffer(data.getBytes()));
    Object msg;
    while ((msg = codec.readInbound()) != null) {
      sink.handle(msg);
    }
  }

  @Override
  public void write(MqttMessage message) {
    codec.writeOutbound(message);
    ByteBuf out;
    while ((out = codec.readOutbound()) != null) {
      try {
        ws.writeBinaryMessage(Buffer.buffer(ByteBufUtil.getBytes(out)));
      } finally {
        out.release();
      }
    }
  }

  @Override
  public boolean writeQueueFull() {
    return ws.writeQueueFull();
  }

  @Override
  public void pause() {
    ws.pause();
  }

  @Override
  public void resume() {
    ws.resume();
  }

  @Override
  public void close() {
    ws.close();
    codec.finishAndReleaseAll();
  }

  @Override
  public List<X509Certificate> peerCertificates() {
    return PeerCertificates.of(ws.isSsl(), ws::peerCertificates);
  }

  @Override
  public String remoteAddress() {
    return String.valueOf(ws.remoteAddress());
  }

  @Override
  public String protocol() {
    return "mqtt-ws";
  }
}
