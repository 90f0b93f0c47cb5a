package io.herd.adapter.amqp.internal;

import io.herd.adapter.amqp.AmqpConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.qpid.proton.Proton;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.UnsignedLong;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.transport.AmqpError;
import org.apache.qpid.proton.amqp.transport.Close;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.amqp.transport.Open;
import org.apache.qpid.proton.codec.AMQPDefinedTypes;
import org.apache.qpid.proton.codec.DecoderImpl;
import org.apache.qpid.proton.codec.EncoderImpl;
import org.apache.qpid.proton.engine.Connection;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.EndpointState;
import org.apache.qpid.proton.engine.Link;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sasl;
import org.apache.qpid.proton.engine.SaslListener;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.engine.Session;
import org.apache.qpid.proton.engine.Transport;
import org.apache.qpid.proton.engine.TransportException;
import org.apache.qpid.proton.engine.impl.SettlementAccess;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives proton-j's AMQP 1.0 engine over one {@link AmqpTransport}: feeds it the bytes read, acts
 * on what they changed through a {@link Handler} and the {@link LinkHandler}s of links, and writes
 * what the engine produces. Also the SASL server layer for clients that want one (the Node SDK
 * sends the plain AMQP header, wire §3.1), and the idle-timeout heartbeats. Owned by one context:
 * every method runs on it.
 *
 * <p>Reading pauses while the transport's write queue is full, so a client that does not read
 * cannot make the hub buffer without bound; everything the hub sends on its own is bounded by link
 * credit.
 */
final class AmqpEngine implements SaslListener {
  private static final Logger LOG = LoggerFactory.getLogger(AmqpEngine.class);

  /** What the connection's semantics provide. */
  interface Handler {
    /**
     * A SASL init frame: authenticate {@code mechanism} with {@code response}.
     *
     * @param hostname the host the client named in the init frame, may be null
     * @return whether the client is authenticated
     */
    boolean onSaslInit(String mechanism, byte[] response, String hostname);

    /** The peer's Open arrived; the engine has answered it. */
    void onOpen(String hostname);

    /** The peer attached {@code link}; open it with {@link #accept} or refuse it. */
    void onLinkAttach(Link link);

    /** The connection is gone; called once. */
    void onClosed();
  }

  private final Vertx vertx;
  private final Context context;
  private final AmqpTransport transport;
  private final AmqpConfig config;
  private final Transport proton;
  private final Connection connection;

  /** The first bytes, until they tell whether the client starts with a SASL layer. */
  private Buffer header = Buffer.buffer(8);

  private boolean layered;
  private Handler handler;

  private boolean closed;
  private boolean closing;

  /** The engine reported an input error (and the hub answered it). */
  private boolean failed;

  private boolean flushScheduled;

  /** Inside {@link #received}, which writes the output at its end. */
  private boolean receiving;

  /** Accepted deliveries whose dispositions go out with the next write. */
  private final DispositionRanges accepted = new DispositionRanges();

  private boolean pausedForWrite;
  private long tickTimer = -1;
  private long nextTag;
  private int sessions;

  AmqpEngine(Vertx vertx, Context context, AmqpTransport transport, AmqpConfig config) {
    this.vertx = vertx;
    this.context = context;
    this.transport = transport;
    this.config = config;
    this.proton = Proton.transport();
    proton.setMaxFrameSize(config.maxFrameSize());
    proton.setOutboundFrameSizeLimit(config.maxFrameSize());
    proton.setIdleTimeout((int) TimeUnit.SECONDS.toMillis(config.idleTimeoutSeconds()));
    proton.setEmitFlowEventOnSend(false);
    this.connection = Proton.connection();
    connection.setContainer("herd");
    proton.bind(connection);
  }

  void start(Handler handler) {
    this.handler = handler;
  }

  AmqpTransport transport() {
    return transport;
  }

  Context context() {
    return context;
  }

  boolean isClosed() {
    return closed;
  }

  // ---- input

  /** Feeds bytes read from the transport to the engine, handles the events, writes the output. */
  void received(Buffer data) {
    received(((BufferInternal) data).getByteBuf());
  }

  /**
   * As {@link #received(Buffer)}; the caller keeps {@code data}, which is read before returning.
   */
  void received(ByteBuf data) {
    if (closed || closing) {
      return;
    }
    ByteBuf in = data;
    if (!layered) {
      header.appendBytes(ByteBufUtil.getBytes(data));
      if (header.length() < 5) {
        return;
      }
      chooseLayers(header.getByte(4));
      in = ((BufferInternal) header).getByteBuf();
      header = null;
    }
    receiving = true;
    try {
      while (in.isReadable()) {
        int capacity = proton.capacity();
        if (capacity <= 0) {
          // The engine reads no more: it failed, or the peer's close was processed.
          break;
        }
        ByteBuffer tail = proton.tail();
        int n = Math.min(tail.remaining(), in.readableBytes());
        tail.limit(tail.position() + n);
        in.readBytes(tail);
        proton.process();
      }
    } catch (TransportException e) {
      LOG.debug(
          "AMQP input rejected [remote: {}, error: {}]", transport.remoteAddress(), e.toString());
    }
    processWork();
    receiving = false;
    flush();
  }

  /**
   * Adds the SASL server layer when the client's protocol header asks for it ({@code AMQP} with
   * protocol id 3). [wire §3.1] The Node SDK sends the plain AMQP header (protocol id 0), without
   * any SASL layer; the layer costs two frame-sized buffers per connection, so it is only added for
   * clients that use it. Anything else goes to the plain engine, which answers a wrong header with
   * its own and closes.
   */
  private void chooseLayers(byte protocolId) {
    layered = true;
    if (protocolId == 3) {
      Sasl sasl = proton.sasl();
      sasl.server();
      sasl.setMechanisms("EXTERNAL", "PLAIN", "ANONYMOUS");
      sasl.setListener(this);
    }
  }

  private static final EnumSet<EndpointState> UNINITIALIZED =
      EnumSet.of(EndpointState.UNINITIALIZED);
  private static final EnumSet<EndpointState> ACTIVE = EnumSet.of(EndpointState.ACTIVE);
  private static final EnumSet<EndpointState> CLOSED = EnumSet.of(EndpointState.CLOSED);
  private static final EnumSet<EndpointState> OPENED =
      EnumSet.of(EndpointState.ACTIVE, EndpointState.CLOSED);

  /**
   * Acts on what the input changed. The engine's state is polled rather than read from its event
   * collector: per message that saves the event objects and their bookkeeping, a noticeable share
   * of the hub's CPU under telemetry load.
   */
  private void processWork() {
    try {
      if (connection.getLocalState() == EndpointState.UNINITIALIZED
          && connection.getRemoteState() != EndpointState.UNINITIALIZED) {
        connection.open();
        handler.onOpen(connection.getRemoteHostname());
        tick();
      }
      for (Session s : sessions(UNINITIALIZED, OPENED)) {
        onSessionOpen(s);
      }
      for (Link l : links(UNINITIALIZED, OPENED)) {
        handler.onLinkAttach(l);
      }
      for (Delivery d : work()) {
        onDelivery(d);
      }
      for (Link l : links(ACTIVE, CLOSED)) {
        onLinkGone(l, true);
      }
      for (Session s : sessions(ACTIVE, CLOSED)) {
        onSessionClose(s);
      }
      for (Link l : links(ACTIVE, ACTIVE)) {
        // Handlers take credit idempotently: they send only what waits for it.
        if (l instanceof Sender && l.getCredit() > 0 && l.getContext() instanceof LinkHandler h) {
          h.onCredit();
        }
      }
      if (connection.getRemoteState() == EndpointState.CLOSED
          && connection.getLocalState() != EndpointState.CLOSED) {
        connection.close();
        closing = true;
      }
      if (!failed
          && proton.getCondition() != null
          && proton.getCondition().getCondition() != null) {
        failed = true;
        onTransportError();
      }
    } catch (RuntimeException ex) {
      LOG.warn(
          "closing AMQP connection after an internal error [remote: {}]",
          transport.remoteAddress(),
          ex);
      closeWith(AmqpError.INTERNAL_ERROR, "internal error");
    }
  }

  private List<Session> sessions(EnumSet<EndpointState> local, EnumSet<EndpointState> remote) {
    Session s = connection.sessionHead(local, remote);
    if (s == null) {
      return List.of();
    }
    List<Session> out = new ArrayList<>(2);
    for (; s != null; s = s.next(local, remote)) {
      out.add(s);
    }
    return out;
  }

  private List<Link> links(EnumSet<EndpointState> local, EnumSet<EndpointState> remote) {
    Link l = connection.linkHead(local, remote);
    if (l == null) {
      return List.of();
    }
    List<Link> out = new ArrayList<>(4);
    for (; l != null; l = l.next(local, remote)) {
      out.add(l);
    }
    return out;
  }

  /** The deliveries with something to do (readable, or updated by the peer). */
  private List<Delivery> work() {
    Delivery d = connection.getWorkHead();
    if (d == null) {
      return List.of();
    }
    List<Delivery> out = new ArrayList<>();
    for (; d != null; d = d.getWorkNext()) {
      out.add(d);
    }
    return out;
  }

  private void onSessionOpen(Session session) {
    if (session.getLocalState() != EndpointState.UNINITIALIZED) {
      return;
    }
    if (sessions >= config.maxSessions()) {
      session.open();
      session.setCondition(
          new ErrorCondition(
              AmqpError.RESOURCE_LIMIT_EXCEEDED,
              "at most " + config.maxSessions() + " sessions per connection"));
      session.close();
      return;
    }
    sessions++;
    // Bounds what the peer may send on the session before the hub has read it.
    session.setIncomingCapacity(config.sessionWindowBytes());
    session.open();
  }

  private void onSessionClose(Session session) {
    for (Link link : links()) {
      if (link.getSession() == session) {
        onLinkGone(link, false);
      }
    }
    if (session.getLocalState() != EndpointState.CLOSED) {
      session.close();
      sessions--;
    }
  }

  /** The peer detached {@code link} (or its session ended): close our end and tell its handler. */
  private void onLinkGone(Link link, boolean answer) {
    Object context = link.getContext();
    link.setContext(null);
    if (answer && link.getLocalState() != EndpointState.CLOSED) {
      link.close();
    }
    if (context instanceof LinkHandler h) {
      h.onClosed(link.getRemoteCondition());
    }
  }

  private void onDelivery(Delivery d) {
    Link link = d.getLink();
    LinkHandler h = link.getContext() instanceof LinkHandler lh ? lh : null;
    if (!(link instanceof Receiver r)) {
      if (d.isUpdated()) {
        d.clear();
        if (h != null) {
          h.onUpdate(d);
        } else {
          d.settle();
        }
      }
      return;
    }
    if (d.isUpdated()) {
      d.clear();
    }
    // Only the link's current delivery has bytes to read; each one read makes the next current,
    // which the work list taken before did not hold yet.
    Delivery current;
    while ((current = r.current()) != null && !closed) {
      if (!receive(r, current, h)) {
        return;
      }
      h = link.getContext() instanceof LinkHandler lh ? lh : null;
    }
  }

  /** Handles the current delivery of {@code r}; false when it is not complete yet. */
  private boolean receive(Receiver r, Delivery d, LinkHandler h) {
    Link link = r;
    if (d.isAborted()) {
      r.advance();
      d.settle();
      return true;
    }
    if (d.isPartial()) {
      if (h != null && d.pending() > config.maxMessageBytes() + AmqpConfig.PROPERTIES_ALLOWANCE) {
        detach(
            link,
            new ErrorCondition(
                Symbol.valueOf("amqp:link:message-size-exceeded"),
                "a message may have at most "
                    + config.maxMessageBytes()
                    + " bytes of body (link max-message-size "
                    + maxMessageSize()
                    + ")"));
      }
      return false;
    }
    if (h == null) {
      // A refused or closed link: the message is dropped.
      r.advance();
      d.settle();
      return true;
    }
    int size = d.pending();
    byte[] bytes = new byte[size];
    r.recv(bytes, 0, size);
    r.advance();
    h.onMessage(d, bytes);
    return true;
  }

  private void onTransportError() {
    ErrorCondition c = proton.getCondition();
    LOG.info(
        "closing AMQP connection [remote: {}, reason: {}]",
        transport.remoteAddress(),
        c == null ? "transport error" : c.getCondition() + " " + c.getDescription());
    // proton-j stops writing after an input error; the client should still hear why (AMQP 1.0
    // §2.8.15: framing and decode errors close the connection with an error). Once the peer has
    // opened, frames are what it expects: an Open if none went out yet, then the Close.
    flush();
    if (c != null && connection.getRemoteState() == EndpointState.ACTIVE) {
      if (proton.getFramesOutput() == 0) {
        Open open = new Open();
        open.setContainerId("herd");
        transport.write(Buffer.buffer(frame(open)));
      }
      Close close = new Close();
      close.setError(c);
      transport.write(Buffer.buffer(frame(close)));
    }
    closing = true;
  }

  /** An AMQP frame on channel 0 holding {@code performative}. */
  static byte[] frame(Object performative) {
    DecoderImpl decoder = new DecoderImpl();
    EncoderImpl encoder = new EncoderImpl(decoder);
    AMQPDefinedTypes.registerAllTypes(decoder, encoder);
    ByteBuffer buf = ByteBuffer.allocate(512);
    while (true) {
      try {
        buf.position(8);
        encoder.setByteBuffer(buf);
        encoder.writeObject(performative);
        break;
      } catch (java.nio.BufferOverflowException e) {
        buf = ByteBuffer.allocate(buf.capacity() * 4);
      }
    }
    int size = buf.position();
    buf.putInt(0, size);
    buf.put(4, (byte) 2); // data offset in 4-byte words
    buf.put(5, (byte) 0); // AMQP frame
    buf.putShort(6, (short) 0); // channel
    byte[] out = new byte[size];
    buf.get(0, out);
    return out;
  }

  // ---- SASL (SaslListener)

  @Override
  public void onSaslInit(Sasl s, Transport t) {
    String[] mechanisms = s.getRemoteMechanisms();
    String mechanism = mechanisms.length == 0 ? "" : mechanisms[0];
    int pending = Math.max(0, s.pending());
    byte[] response = new byte[pending];
    if (pending > 0) {
      s.recv(response, 0, pending);
    }
    boolean ok;
    try {
      ok = handler.onSaslInit(mechanism, response, s.getHostname());
    } catch (RuntimeException e) {
      LOG.warn("SASL authentication failed [remote: {}]", transport.remoteAddress(), e);
      ok = false;
    }
    s.done(ok ? Sasl.SaslOutcome.PN_SASL_OK : Sasl.SaslOutcome.PN_SASL_AUTH);
    if (!ok) {
      // The outcome goes out with the next flush; the client closes, or the hub does soon after.
      closing = true;
    }
  }

  @Override
  public void onSaslResponse(Sasl s, Transport t) {
    // The hub's mechanisms take a single step; no challenges are sent.
  }

  @Override
  public void onSaslMechanisms(Sasl s, Transport t) {}

  @Override
  public void onSaslChallenge(Sasl s, Transport t) {}

  @Override
  public void onSaslOutcome(Sasl s, Transport t) {}

  // ---- links

  /** Opens a link the peer attached, echoing its terminus and settlement modes (wire §3.7). */
  void accept(Link link, LinkHandler h) {
    link.setSource(link.getRemoteSource());
    link.setTarget(link.getRemoteTarget());
    link.setSenderSettleMode(link.getRemoteSenderSettleMode());
    link.setReceiverSettleMode(link.getRemoteReceiverSettleMode());
    if (link instanceof Receiver) {
      link.setMaxMessageSize(maxMessageSize());
    }
    link.setContext(h);
    link.open();
    scheduleFlush();
  }

  private UnsignedLong maxMessageSize() {
    return UnsignedLong.valueOf(config.maxMessageBytes() + AmqpConfig.PROPERTIES_ALLOWANCE);
  }

  /**
   * Refuses a link the peer attached: the answering attach has no terminus on the hub's side, and
   * the detach that follows says why (AMQP 1.0 §2.6.3).
   */
  void refuse(Link link, ErrorCondition condition) {
    if (link instanceof Sender) {
      link.setSource(null);
      link.setTarget(link.getRemoteTarget());
    } else {
      link.setSource(link.getRemoteSource());
      link.setTarget(null);
    }
    link.open();
    link.setCondition(condition);
    link.close();
    scheduleFlush();
  }

  /** Detaches an open link with an error; its handler hears {@link LinkHandler#onClosed}. */
  void detach(Link link, ErrorCondition condition) {
    if (link.getLocalState() == EndpointState.CLOSED) {
      return;
    }
    Object context = link.getContext();
    link.setContext(null);
    link.setCondition(condition);
    link.close();
    if (context instanceof LinkHandler h) {
      h.onClosed(null);
    }
    scheduleFlush();
  }

  /**
   * Settles a delivery the hub received with the outcome accepted. Its disposition goes out with
   * the next write, in one frame with those of the neighbouring delivery ids ({@link
   * DispositionRanges}); proton-j would write a frame for each.
   */
  void settleAccepted(Delivery d) {
    long where = d.remotelySettled() ? -1 : SettlementAccess.channelAndId(d);
    if (where < 0) {
      if (!d.remotelySettled()) {
        d.disposition(Accepted.getInstance());
      }
      d.settle();
    } else {
      SettlementAccess.settleSilently(d);
      accepted.add((int) (where >>> 32), where & 0xFFFF_FFFFL);
    }
    scheduleFlush();
  }

  /** Sends an encoded message on {@code sender}; the caller checked its credit. */
  Delivery send(Sender sender, byte[] encoded, int length, boolean settled, Object context) {
    long tag = nextTag++;
    byte[] tagBytes = new byte[8];
    for (int i = 7; i >= 0; i--) {
      tagBytes[i] = (byte) tag;
      tag >>>= 8;
    }
    Delivery d = sender.delivery(tagBytes);
    d.setContext(context);
    sender.send(encoded, 0, length);
    sender.advance();
    if (settled) {
      d.settle();
    }
    scheduleFlush();
    return d;
  }

  private List<Link> links() {
    return links(EnumSet.allOf(EndpointState.class), EnumSet.allOf(EndpointState.class));
  }

  // ---- output

  /** Writes what the engine produced before this turn of the event loop ends. */
  void scheduleFlush() {
    if (flushScheduled || closed || receiving) {
      return;
    }
    flushScheduled = true;
    context.runOnContext(
        v -> {
          flushScheduled = false;
          flush();
        });
  }

  void flush() {
    if (closed) {
      return;
    }
    // The dispositions of accepted deliveries go first, before what proton-j wrote since (that may
    // end the session they belong to), in the same buffer.
    int ours = accepted.bytes();
    while (true) {
      int pending = Math.max(0, proton.pending());
      if (pending == 0 && ours == 0) {
        break;
      }
      ByteBuf out = transport.buffer(ours + pending);
      if (ours > 0) {
        accepted.writeTo(out);
        ours = 0;
      }
      if (pending > 0) {
        ByteBuffer head = proton.head().duplicate();
        head.limit(head.position() + pending);
        out.writeBytes(head);
        proton.pop(pending);
      }
      transport.write(out);
    }
    if (closing || proton.isClosed()) {
      closeTransport();
      return;
    }
    if (!pausedForWrite && transport.writeQueueFull()) {
      pausedForWrite = true;
      transport.pause();
      transport.drainHandler(
          v -> {
            pausedForWrite = false;
            if (!closed) {
              transport.resume();
            }
          });
    }
  }

  /** Closes the connection with an error condition, then the transport. */
  void closeWith(Symbol condition, String description) {
    if (closed) {
      return;
    }
    if (connection.getLocalState() == EndpointState.ACTIVE) {
      connection.setCondition(new ErrorCondition(condition, description));
      connection.close();
    }
    closing = true;
    flush();
  }

  /** Drops the transport at once, e.g. when no Open came in time. */
  void abort() {
    closing = true;
    closeTransport();
  }

  private void closeTransport() {
    if (closed) {
      return;
    }
    transport.close();
    onTransportClosed();
  }

  /** The transport closed (by either side): ends the connection once. */
  void onTransportClosed() {
    if (closed) {
      return;
    }
    closed = true;
    if (tickTimer >= 0) {
      vertx.cancelTimer(tickTimer);
      tickTimer = -1;
    }
    for (Link link : links()) {
      Object context = link.getContext();
      link.setContext(null);
      if (context instanceof LinkHandler h) {
        h.onClosed(null);
      }
    }
    if (handler != null) {
      handler.onClosed();
    }
  }

  // ---- idle timeout

  /** Lets the engine send heartbeats and notice a silent peer (AMQP 1.0 §2.4.5). */
  private void tick() {
    tickTimer = -1;
    if (closed) {
      return;
    }
    long now = TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
    long deadline = proton.tick(now);
    flush();
    if (closed) {
      return;
    }
    if (proton.isClosed()) {
      LOG.info(
          "closing AMQP connection [remote: {}, reason: nothing received within the idle timeout]",
          transport.remoteAddress());
      closeTransport();
      return;
    }
    if (deadline != 0) {
      tickTimer = vertx.setTimer(Math.max(1, deadline - now), t -> tick());
    }
  }
}
