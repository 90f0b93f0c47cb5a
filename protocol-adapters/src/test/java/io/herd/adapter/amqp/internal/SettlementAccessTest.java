package io.herd.adapter.amqp.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.apache.qpid.proton.Proton;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.amqp.transport.Disposition;
import org.apache.qpid.proton.codec.AMQPDefinedTypes;
import org.apache.qpid.proton.codec.DecoderImpl;
import org.apache.qpid.proton.codec.EncoderImpl;
import org.apache.qpid.proton.engine.Connection;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.EndpointState;
import org.apache.qpid.proton.engine.Link;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.engine.Session;
import org.apache.qpid.proton.engine.Transport;
import org.apache.qpid.proton.engine.impl.SettlementAccess;
import org.junit.jupiter.api.Test;

/**
 * What the hub relies on in proton-j's internals to settle in ranges: a silently settled delivery
 * leaves proton-j's bookkeeping as a normal settlement does and makes it write no disposition, and
 * a client engine reads the hub's range frame as the settlement of each delivery.
 */
class SettlementAccessTest {
  private final Connection clientConnection = Proton.connection();
  private final Transport client = Proton.transport();
  private final Connection hubConnection = Proton.connection();
  private final Transport hub = Proton.transport();

  SettlementAccessTest() {
    client.bind(clientConnection);
    hub.bind(hubConnection);
  }

  /** Moves bytes between the engines until neither has more; returns what the hub wrote. */
  private List<byte[]> pump() {
    List<byte[]> fromHub = new ArrayList<>();
    boolean moved = true;
    while (moved) {
      moved = move(client, hub) != null;
      byte[] out = move(hub, client);
      if (out != null) {
        fromHub.add(out);
        moved = true;
      }
    }
    return fromHub;
  }

  private static byte[] move(Transport from, Transport to) {
    int pending = from.pending();
    if (pending <= 0) {
      return null;
    }
    byte[] bytes = new byte[pending];
    from.head().get(bytes);
    from.pop(pending);
    feed(to, bytes);
    return bytes;
  }

  private static void feed(Transport to, byte[] bytes) {
    int at = 0;
    while (at < bytes.length) {
      ByteBuffer tail = to.tail();
      int n = Math.min(tail.remaining(), bytes.length - at);
      tail.put(bytes, at, n);
      to.process();
      at += n;
    }
  }

  /** The dispositions among {@code chunks} of frames after the protocol header. */
  private static List<Disposition> dispositions(List<byte[]> chunks) {
    DecoderImpl decoder = new DecoderImpl();
    AMQPDefinedTypes.registerAllTypes(decoder, new EncoderImpl(decoder));
    List<Disposition> found = new ArrayList<>();
    for (byte[] chunk : chunks) {
      ByteBuffer b = ByteBuffer.wrap(chunk);
      if (chunk.length >= 8 && chunk[0] == 'A') {
        b.position(8);
      }
      while (b.remaining() >= 8) {
        int start = b.position();
        int size = b.getInt(start);
        int doff = (b.get(start + 4) & 0xff) * 4;
        if (size > doff) {
          decoder.setByteBuffer(ByteBuffer.wrap(chunk, start + doff, size - doff));
          if (decoder.readObject() instanceof Disposition d) {
            found.add(d);
          }
        }
        b.position(start + size);
      }
    }
    return found;
  }

  @Test
  void silentlySettledDeliveriesAreSettledByTheHubsRangeFrame() {
    clientConnection.open();
    Session clientSession = clientConnection.session();
    clientSession.open();
    Sender sender = clientSession.sender("events");
    sender.setTarget(new Target());
    sender.setSource(new Source());
    sender.open();
    pump();

    hubConnection.open();
    Session hubSession = hubConnection.sessionHead(EnumSet.allOf(EndpointState.class), null);
    hubSession.open();
    Receiver receiver = (Receiver) hubConnection.linkHead(EnumSet.allOf(EndpointState.class), null);
    receiver.setSource(receiver.getRemoteSource());
    receiver.setTarget(receiver.getRemoteTarget());
    receiver.open();
    receiver.flow(10);
    pump();

    List<Delivery> sent = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Delivery d = sender.delivery(new byte[] {(byte) i});
      sender.send(new byte[] {0x00, 0x53, 0x75, (byte) 0xa0, 1, (byte) i}, 0, 6);
      sender.advance();
      sent.add(d);
    }
    pump();

    DispositionRanges ranges = new DispositionRanges();
    Delivery d;
    while ((d = receiver.current()) != null) {
      byte[] message = new byte[d.pending()];
      receiver.recv(message, 0, message.length);
      receiver.advance();
      long where = SettlementAccess.channelAndId(d);
      assertThat(where).isNotNegative();
      SettlementAccess.settleSilently(d);
      ranges.add((int) (where >>> 32), where & 0xFFFF_FFFFL);
      assertThat(d.isSettled()).isTrue();
    }
    assertThat(receiver.getUnsettled()).isZero();
    assertThat(hubConnection.getWorkHead()).isNull();
    // proton-j writes no disposition of its own for them.
    receiver.flow(3);
    assertThat(dispositions(pump())).isEmpty();

    ByteBuf frames = Unpooled.buffer();
    ranges.writeTo(frames);
    assertThat(frames.readableBytes()).isEqualTo(DispositionRanges.FRAME_BYTES);
    byte[] bytes = new byte[frames.readableBytes()];
    frames.readBytes(bytes);
    feed(client, bytes);
    for (Delivery s : sent) {
      assertThat(s.remotelySettled()).isTrue();
      assertThat(s.getRemoteState()).isInstanceOf(Accepted.class);
    }
    Link link = sender;
    assertThat(link.getCredit()).isEqualTo(10);
  }
}
