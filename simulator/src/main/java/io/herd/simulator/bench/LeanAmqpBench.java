package io.herd.simulator.bench;

import static io.herd.simulator.bench.BenchSupport.describe;

import io.herd.core.SasSigner;
import io.herd.simulator.bench.AmqpBench.Figures;
import io.herd.simulator.bench.AmqpBench.Options;
import io.herd.simulator.bench.AmqpFrames.DecodeException;
import io.herd.simulator.bench.AmqpFrames.Described;
import io.herd.simulator.bench.AmqpFrames.Reader;
import io.herd.simulator.bench.AmqpFrames.TransferTemplate;
import io.herd.simulator.bench.BenchSupport.HubInfo;
import io.herd.simulator.internal.AmqpDeviceMessages;
import io.herd.simulator.internal.ClientTls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.OpenSSLEngineOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The AMQP telemetry load of {@link AmqpBench} from a lean client: the frames are encoded by hand
 * ({@link AmqpFrames}) on Vert.x sockets, so that the generator takes less of the CPU it shares
 * with the hub. Each device opens its own TLS connection, SASL ANONYMOUS (or none, as the Node SDK,
 * with {@code --sasl none}), Open, Begin, a sender and a receiver link on {@code $cbs}, puts its
 * SAS token as the Azure SDKs do (wire §3.2), then attaches a sender to {@code
 * /devices/{id}/messages/events}. Each message is a copy of the device's pre-encoded transfer frame
 * with its delivery id, tag and message id patched in: a properties section with the message id (an
 * AMQP uuid) and the body as a data section, as the SDKs send telemetry (wire §3.4).
 *
 * <p>It behaves as an AMQP 1.0 client must: it sends only within the link credit and the session's
 * incoming window the hub grants in its flow frames, keeps {@code --window} messages unsettled per
 * device, and counts a message only when the hub settles it {@code accepted}, also when one
 * disposition settles a range of deliveries; any other outcome, a disposition for a delivery not in
 * flight, a detach or a close is an error counted by kind. Messages must fit one frame of the hub's
 * maximum frame size (8 KB by default); {@link AmqpBench} sends larger ones.
 */
public final class LeanAmqpBench {
  private static final String NAME = "lean-amqp-bench";
  private static final String CLIENT_VERSION = "herd-lean-amqp-bench";

  /** Our link handles on the one session (channel 0). */
  private static final int CBS_SENDER = 0;

  private static final int CBS_RECEIVER = 1;
  private static final int EVENTS = 2;

  /** Our session's windows: large, the hub sends us next to nothing. */
  private static final long OUR_WINDOW = Integer.MAX_VALUE;

  /** How long in-flight messages may stay unsettled after the window before they count as lost. */
  private static final long DRAIN_NANOS = TimeUnit.SECONDS.toNanos(10);

  static final String USAGE =
      AmqpBench.USAGE.replace("usage: AmqpBench", "usage: LeanAmqpBench")
          + "\n  --sasl anonymous|none     SASL ANONYMOUS before the AMQP header, or the plain"
          + " header as the\n                            Node SDK sends (default anonymous)";

  private LeanAmqpBench() {}

  public static void main(String[] args) {
    BenchSupport.useJulLogging();
    System.exit(run(args, System.out));
  }

  static int run(String[] args, PrintStream out) {
    Options o;
    HubInfo hub;
    boolean sasl;
    try {
      Map<String, String> v = BenchSupport.parseArgs(args, Set.of());
      if (v == null) {
        out.println(USAGE);
        return 0;
      }
      String mode = BenchSupport.stringArg(v, "sasl", "anonymous");
      if (!mode.equals("anonymous") && !mode.equals("none")) {
        throw new IllegalArgumentException("--sasl must be anonymous or none: " + mode);
      }
      sasl = mode.equals("anonymous");
      o = AmqpBench.options(v);
      hub = HubInfo.read(o.hubJson());
    } catch (IllegalArgumentException e) {
      System.err.println(NAME + ": " + e.getMessage());
      return 1;
    } catch (IOException e) {
      System.err.println(NAME + ": cannot read --hub-json: " + describe(e));
      return 1;
    }
    BenchSupport.offerTlsGroups(o.tlsGroups());
    return new Run(o, hub, sasl, out).run();
  }

  private static final class Run {
    private final Options o;
    private final HubInfo hub;
    private final boolean sasl;
    private final PrintStream out;
    private final long deadline;
    private final byte[] body;
    private Vertx vertx;
    private NetClient net;

    Run(Options o, HubInfo hub, boolean sasl, PrintStream out) {
      this.o = o;
      this.hub = hub;
      this.sasl = sasl;
      this.out = out;
      this.deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.timeoutSeconds());
      this.body = AmqpBench.body(o.bodyBytes());
    }

    int run() {
      vertx = BenchSupport.socketClientVertx(o.eventLoops());
      try {
        net =
            vertx.createNetClient(
                ClientTls.netClientOptions(vertx, hub.caFile(), true, 30_000)
                    .setHostnameVerificationAlgorithm(""));
        List<Loop> loops = AmqpBench.shares(o).stream().map(Loop::new).toList();
        for (Loop l : loops) {
          AmqpBench.await(vertx.deployVerticle(l), deadline, o.timeoutSeconds());
        }
        out.println("== Herd AMQP benchmark (telemetry, settled on accept; lean client) ==");
        out.println("machine   : " + BenchSupport.machine());
        out.printf(
            Locale.ROOT,
            "hub       : amqps://%s:%d (hostName %s), TLS %s (groups %s), %s + put-token on"
                + " $cbs, client event loops %d (%s), frames encoded by hand%n",
            o.host(),
            o.port(),
            hub.hostName(),
            OpenSSLEngineOptions.isAvailable() ? "OpenSSL" : "JDK",
            o.tlsGroups(),
            sasl ? "SASL ANONYMOUS" : "no SASL",
            o.eventLoops(),
            vertx.isNativeTransportEnabled() ? "epoll" : "NIO");
        return AmqpBench.phases(o, loops, deadline, out);
      } catch (RuntimeException | IOException e) {
        System.err.println(NAME + ": FAILED, " + describe(e));
        return 1;
      } finally {
        vertx.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS);
      }
    }

    /** One event loop's devices; every method runs on its context. */
    private final class Loop extends VerticleBase implements AmqpBench.DeviceLoop {
      private final List<Integer> numbers;
      private final List<Conn> conns = new ArrayList<>();
      private final Reader reader = new Reader();
      private Figures figures = new Figures();
      private long heartbeatTimer = -1;

      // load
      private boolean loading;
      private boolean stopped;
      private long windowStart;
      private long end;
      private Promise<Figures> loaded;
      private int unfinished;

      Loop(List<Integer> numbers) {
        this.numbers = numbers;
      }

      @Override
      public Future<Figures> connectAll(int inFlight) {
        figures = new Figures();
        return AmqpBench.connectEach(
                context,
                numbers,
                inFlight,
                n -> {
                  Conn c = new Conn(n);
                  return c.connect().map(v -> c);
                },
                conns::add,
                figures)
            .onSuccess(f -> startHeartbeats());
      }

      /** Empty frames at half the shortest idle timeout the hub announced (AMQP 1.0 §2.4.5). */
      private void startHeartbeats() {
        long idle = Long.MAX_VALUE;
        for (Conn c : conns) {
          if (c.hubIdleMillis > 0) {
            idle = Math.min(idle, c.hubIdleMillis);
          }
        }
        if (idle == Long.MAX_VALUE) {
          return;
        }
        heartbeatTimer =
            vertx.setPeriodic(
                Math.max(1, idle / 2),
                t -> {
                  for (Conn c : conns) {
                    if (c.phase == Conn.READY) {
                      c.write(AmqpFrames.EMPTY_FRAME);
                    }
                  }
                });
      }

      /** Keeps {@code --window} messages unsettled on every device until {@code end}. */
      @Override
      public Future<Figures> load(long windowStart, long end) {
        Promise<Figures> done = Promise.promise();
        context.runOnContext(
            v -> {
              figures = new Figures();
              this.windowStart = windowStart;
              this.end = end;
              this.loaded = done;
              loading = true;
              unfinished = conns.size();
              vertx.setTimer(
                  Math.max(1, (end - System.nanoTime() + 999_999) / 1_000_000), t -> stopSending());
              if (unfinished == 0) {
                done.complete(figures);
                return;
              }
              for (Conn c : conns) {
                c.pump();
              }
            });
        return done.future();
      }

      /** The window is over: each device finishes when its last message is settled. */
      private void stopSending() {
        stopped = true;
        for (Conn c : conns) {
          c.checkFinished();
        }
        vertx.setTimer(
            TimeUnit.NANOSECONDS.toMillis(DRAIN_NANOS),
            t -> {
              for (Conn c : conns) {
                if (!c.finished) {
                  for (int i = 0; i < c.inFlight; i++) {
                    figures.fail("not settled within 10 s after the window");
                  }
                  c.finish();
                }
              }
            });
      }

      @Override
      public Future<Figures> closeAll() {
        Promise<Figures> done = Promise.promise();
        context.runOnContext(
            v -> {
              if (heartbeatTimer >= 0) {
                vertx.cancelTimer(heartbeatTimer);
              }
              List<Future<Void>> closing = new ArrayList<>();
              for (Conn c : conns) {
                if (c.phase != Conn.CLOSED) {
                  c.phase = Conn.CLOSED;
                  c.write(AmqpFrames.close());
                  closing.add(c.socket.close());
                }
              }
              conns.clear();
              Future.join(closing).onComplete(ar -> done.complete(new Figures()));
            });
        return done.future();
      }

      /** One device's connection, session and links. */
      private final class Conn {
        static final int CONNECTING = 0;
        static final int SASL = 1;
        static final int OPENING = 2;
        static final int AUTHENTICATING = 3;
        static final int ATTACHING = 4;
        static final int READY = 5;
        static final int CLOSED = 6;

        final String id;
        NetSocketInternal socket;
        int phase = CONNECTING;
        Promise<Void> ready = Promise.promise();
        long connectTimer = -1;

        /** Input: a protocol header is due next; a partial frame kept from the last read. */
        boolean headerDue = true;

        ByteBuf partial;
        long hubMaxFrame = AmqpFrames.UINT_MAX;
        long hubIdleMillis;

        // The session: transfer ids and the hub's incoming window as we know it.
        long nextOutgoingId;
        long nextIncomingId;
        long remoteIncomingWindow;

        // The links: the hub's handles, and the attach answers still due.
        long cbsRepliesHandle = -1;
        long eventsHandle = -1;
        int attachesDue;
        String refused;
        String cbsMessageId;
        int cbsDeliveryId = -1;

        // Telemetry: credit, and the send times of unsettled deliveries by delivery id.
        TransferTemplate template;
        long deliveryCount;
        long credit;
        int nextDeliveryId;
        int oldest;
        int inFlight;
        long[] sentAt;
        int mask;
        long number;
        boolean finished;

        Conn(int device) {
          this.id = BenchSupport.deviceId(o.prefix(), device);
        }

        Future<Void> connect() {
          connectTimer =
              vertx.setTimer(
                  30_000,
                  t -> {
                    connectTimer = -1;
                    failConnect("not ready within 30 s (phase " + phase + ")");
                  });
          net.connect(o.port(), o.host())
              .onComplete(
                  ar -> {
                    if (ar.failed()) {
                      failConnect("TCP/TLS: " + describe(ar.cause()));
                      return;
                    }
                    onSocket((NetSocketInternal) ar.result());
                  });
          return ready.future();
        }

        private void onSocket(NetSocketInternal s) {
          socket = s;
          if (phase == CLOSED) {
            s.close();
            return;
          }
          s.messageHandler(
              msg -> {
                if (msg instanceof ByteBuf b) {
                  onData(b);
                }
              });
          s.closeHandler(v -> onClosed("connection closed by the hub"));
          s.exceptionHandler(t -> {});
          if (sasl) {
            phase = SASL;
            write(AmqpFrames.SASL_HEADER);
            write(AmqpFrames.saslInit("ANONYMOUS", hub.hostName()));
          } else {
            open();
          }
        }

        /** The AMQP header, Open, Begin, and both links of {@code $cbs}. */
        private void open() {
          phase = OPENING;
          headerDue = true;
          write(AmqpFrames.AMQP_HEADER);
          write(AmqpFrames.open("lean-" + id, hub.hostName(), 64 * 1024));
          write(AmqpFrames.begin(0, 0, OUR_WINDOW, OUR_WINDOW));
          write(
              AmqpFrames.attach(
                  0, "cbs-sender", CBS_SENDER, false, "cbs-sender", "$cbs", CLIENT_VERSION));
          write(
              AmqpFrames.attach(
                  0, "cbs-receiver", CBS_RECEIVER, true, "$cbs", "cbs", CLIENT_VERSION));
          attachesDue = 2;
        }

        void write(byte[] frame) {
          socket.writeMessage(Unpooled.wrappedBuffer(frame));
        }

        // ---- input

        private void onData(ByteBuf in) {
          ByteBuf buf = in;
          if (partial != null) {
            partial.writeBytes(in);
            in.release();
            buf = partial;
          }
          try {
            while (phase != CLOSED) {
              int readable = buf.readableBytes();
              if (readable < 8) {
                break;
              }
              int start = buf.readerIndex();
              if (headerDue) {
                onHeader(buf, start);
                buf.skipBytes(8);
                continue;
              }
              long size = buf.getUnsignedInt(start);
              if (size < 8 || size > 1024 * 1024) {
                throw new DecodeException("frame size " + size);
              }
              if (readable < size) {
                break;
              }
              int doff = buf.getUnsignedByte(start + 4) * 4;
              if (doff < 8 || doff > size) {
                throw new DecodeException("data offset " + doff);
              }
              if (doff < size) {
                onFrame(buf, start + doff, start + (int) size);
              }
              buf.readerIndex(start + (int) size);
            }
          } catch (DecodeException | ClassCastException e) {
            protocolError("undecodable input from the hub: " + e.getMessage());
          }
          if (buf == partial) {
            if (buf.isReadable() && phase != CLOSED) {
              partial.discardReadBytes();
            } else {
              partial.release();
              partial = null;
            }
          } else {
            if (buf.isReadable() && phase != CLOSED) {
              partial = Unpooled.buffer(Math.max(256, buf.readableBytes() * 2));
              partial.writeBytes(buf);
            }
            in.release();
          }
        }

        private void onHeader(ByteBuf buf, int at) {
          byte[] expected = phase == SASL ? AmqpFrames.SASL_HEADER : AmqpFrames.AMQP_HEADER;
          for (int i = 0; i < 8; i++) {
            if (buf.getByte(at + i) != expected[i]) {
              byte[] got = new byte[8];
              buf.getBytes(at, got);
              throw new DecodeException(
                  "unexpected protocol header " + java.util.Arrays.toString(got));
            }
          }
          headerDue = false;
        }

        private void onFrame(ByteBuf buf, int from, int to) {
          Reader r = reader.reset(buf, from, to);
          int performative = r.descriptor();
          int n = r.list();
          switch (performative) {
            case AmqpFrames.DISPOSITION:
              onDisposition(r, n);
              break;
            case AmqpFrames.FLOW:
              onFlow(r, n);
              break;
            case AmqpFrames.TRANSFER:
              onTransfer(r, n);
              break;
            case AmqpFrames.SASL_MECHANISMS:
              break;
            case AmqpFrames.SASL_OUTCOME:
              long code = n > 0 ? r.uint(-1) : -1;
              if (code != 0) {
                failConnect("SASL outcome " + code);
              } else {
                open();
              }
              break;
            case AmqpFrames.OPEN:
              r.skip(Math.min(n, 2));
              hubMaxFrame = n > 2 ? r.uint(AmqpFrames.UINT_MAX) : AmqpFrames.UINT_MAX;
              r.skip(n > 3 ? 1 : 0);
              hubIdleMillis = n > 4 ? r.uint(0) : 0;
              break;
            case AmqpFrames.BEGIN:
              r.skip(Math.min(n, 1));
              nextIncomingId = n > 1 ? r.uint(0) : 0;
              remoteIncomingWindow = (n > 2 ? r.uint(0) : 0) - nextOutgoingId;
              break;
            case AmqpFrames.ATTACH:
              onAttach(r, n);
              break;
            case AmqpFrames.DETACH:
              {
                long handle = n > 0 ? r.uint(-1) : -1;
                r.skip(n > 1 ? 1 : 0);
                String error = n > 2 ? r.error() : "no error";
                if (refused != null) {
                  failConnect(refused + ": " + error);
                } else {
                  onClosed(
                      (handle == eventsHandle ? "events link" : "link " + handle)
                          + " detached by the hub: "
                          + error);
                }
                break;
              }
            case AmqpFrames.END:
              onClosed("session ended by the hub: " + (n > 0 ? r.error() : "no error"));
              break;
            case AmqpFrames.CLOSE:
              onClosed("connection closed by the hub: " + (n > 0 ? r.error() : "no error"));
              break;
            default:
              throw new DecodeException("unexpected frame 0x" + Integer.toHexString(performative));
          }
        }

        private void onAttach(Reader r, int n) {
          if (n < 7) {
            throw new DecodeException("attach with " + n + " fields");
          }
          String name = (String) r.value();
          long handle = (Long) r.value();
          r.skip(3); // role, settlement modes
          Object source = r.value();
          Object target = r.value();
          switch (name) {
            case "cbs-sender":
              attached(name, target);
              break;
            case "cbs-receiver":
              cbsRepliesHandle = handle;
              attached(name, source);
              break;
            case "events":
              eventsHandle = handle;
              if (attached(name, target)) {
                phase = READY;
                if (connectTimer >= 0) {
                  vertx.cancelTimer(connectTimer);
                  connectTimer = -1;
                }
                ready.tryComplete();
              }
              break;
            default:
              throw new DecodeException("attach of a link never asked for: " + name);
          }
          if (attachesDue == 0 && phase == OPENING && refused == null) {
            putToken();
          }
        }

        /** Whether the hub opened the link: it refuses with a null terminus, then detaches. */
        private boolean attached(String name, Object terminus) {
          attachesDue--;
          if (!(terminus instanceof Described)) {
            refused = "link " + name + " refused";
            return false;
          }
          return true;
        }

        /** Credit for the answer, then the put-token request on the {@code $cbs} sender. */
        private void putToken() {
          phase = AUTHENTICATING;
          write(
              AmqpFrames.flow(
                  0,
                  nextIncomingId,
                  OUR_WINDOW,
                  nextOutgoingId,
                  OUR_WINDOW,
                  CBS_RECEIVER,
                  0,
                  1,
                  false));
          long expiry = System.currentTimeMillis() / 1000 + o.timeoutSeconds() + 3600;
          String token =
              SasSigner.deviceToken(
                  hub.hostName(), id, MqttBench.deviceKey(o.keySeed(), id), expiry);
          cbsMessageId = UUID.randomUUID().toString();
          byte[] request =
              AmqpFrames.putToken(
                  cbsMessageId, SasSigner.deviceResource(hub.hostName(), id), token);
          cbsDeliveryId = nextDeliveryId++;
          AmqpFrames.EncodedMessage m = new AmqpFrames.EncodedMessage(request, -1);
          ByteBuf frame = Unpooled.buffer();
          AmqpFrames.transfer(0, CBS_SENDER, m).write(frame, cbsDeliveryId, 0);
          if (frame.readableBytes() > hubMaxFrame) {
            failConnect("the put-token does not fit the hub's frames of " + hubMaxFrame + " bytes");
            return;
          }
          nextOutgoingId++;
          remoteIncomingWindow--;
          socket.writeMessage(frame);
        }

        /** The answer to the put-token on the {@code $cbs} receiver: status 200, or a failure. */
        private void onTransfer(Reader r, int n) {
          long handle = n > 0 ? r.uint(-1) : -1;
          long deliveryId = n > 1 ? r.uint(-1) : -1;
          r.skip(Math.min(2, Math.max(0, n - 2)));
          boolean settled = n > 4 && r.bool(false);
          boolean more = n > 5 && r.bool(false);
          nextIncomingId++;
          if (handle != cbsRepliesHandle || phase != AUTHENTICATING || more) {
            throw new DecodeException("unexpected transfer on link " + handle);
          }
          r.reset(r.buffer(), r.listEnd(), r.end());
          Object status = null;
          Object correlation = null;
          Object description = null;
          while (r.position() < r.end()) {
            int section = r.descriptor();
            if (section == AmqpFrames.PROPERTIES) {
              int fields = r.list();
              r.skip(Math.min(fields, 5));
              correlation = fields > 5 ? r.value() : null;
              r.reset(r.buffer(), r.listEnd(), r.end());
            } else if (section == AmqpFrames.APPLICATION_PROPERTIES) {
              Map<?, ?> app = (Map<?, ?>) r.value();
              status = app.get("status-code");
              description = app.get("status-description");
            } else {
              r.skip();
            }
          }
          if (!settled) {
            write(AmqpFrames.disposition(0, true, deliveryId, deliveryId, AmqpFrames.ACCEPTED));
          }
          if (!cbsMessageId.equals(correlation)) {
            failConnect("put-token answer correlated to " + correlation);
          } else if (!Integer.valueOf(200).equals(status)) {
            failConnect("put-token answered " + status + " " + description);
          } else {
            attachEvents();
          }
        }

        private void attachEvents() {
          phase = ATTACHING;
          template =
              AmqpFrames.transfer(
                  0,
                  EVENTS,
                  AmqpFrames.telemetry(
                      new UUID(ThreadLocalRandom.current().nextLong(), 0), Map.of(), body));
          if (template.bytes().length > hubMaxFrame) {
            failConnect(
                "a message of "
                    + template.bytes().length
                    + " bytes does not fit the hub's frames of "
                    + hubMaxFrame
                    + " bytes (use AmqpBench for larger bodies)");
            return;
          }
          int ring = Integer.highestOneBit(Math.max(4, o.window() * 4) - 1) << 1;
          sentAt = new long[ring];
          mask = ring - 1;
          oldest = nextDeliveryId;
          write(
              AmqpFrames.attach(
                  0,
                  "events",
                  EVENTS,
                  false,
                  "events-" + id,
                  AmqpDeviceMessages.eventsAddress(id),
                  CLIENT_VERSION));
          attachesDue++;
        }

        /** Flow (§2.7.4): the hub's incoming window and, for the events link, its credit. */
        private void onFlow(Reader r, int n) {
          long theirNextIncoming = n > 0 ? r.uint(-1) : -1;
          long incomingWindow = n > 1 ? r.uint(0) : 0;
          r.skip(Math.min(2, Math.max(0, n - 2)));
          long handle = n > 4 ? r.uint(-1) : -1;
          long theirDeliveryCount = n > 5 ? r.uint(-1) : -1;
          long linkCredit = n > 6 ? r.uint(-1) : -1;
          r.skip(n > 7 ? 1 : 0);
          boolean drain = n > 8 && r.bool(false);
          boolean echo = n > 9 && r.bool(false);
          // §2.5.6: remote-incoming-window = next-incoming-id(flow) + incoming-window(flow)
          // - next-outgoing-id(ours); next-incoming-id is the initial transfer id (0) when null.
          remoteIncomingWindow = Math.max(0, theirNextIncoming) + incomingWindow - nextOutgoingId;
          if (handle >= 0 && handle == eventsHandle && linkCredit >= 0) {
            // §2.6.7: link-credit(snd) = delivery-count(rcv) + link-credit(rcv) -
            // delivery-count(snd).
            long base = theirDeliveryCount < 0 ? 0 : theirDeliveryCount;
            credit = base + linkCredit - deliveryCount;
            pump();
            if (drain && credit > 0) {
              // Nothing more to send now: the credit is used up by advancing the delivery count.
              deliveryCount += credit;
              credit = 0;
              sendFlow(true);
            }
          }
          if (echo) {
            sendFlow(false);
          }
        }

        private void sendFlow(boolean drained) {
          write(
              AmqpFrames.flow(
                  0,
                  nextIncomingId,
                  OUR_WINDOW,
                  nextOutgoingId,
                  OUR_WINDOW,
                  phase == READY ? EVENTS : -1,
                  deliveryCount,
                  credit,
                  drained));
        }

        /**
         * Disposition (§2.7.6) of our deliveries {@code first..last}: counted once settled with
         * accepted, every other outcome an error by kind.
         */
        private void onDisposition(Reader r, int n) {
          boolean receiver = n > 0 && r.bool(false);
          long first = n > 1 ? r.uint(-1) : -1;
          long last = n > 2 ? r.uint(-1) : -1;
          boolean settled = n > 3 && r.bool(false);
          int state = n > 4 ? r.state(true) : AmqpFrames.NONE;
          String rejection = null;
          if (state == AmqpFrames.REJECTED) {
            rejection = r.rejection();
          } else if (state != AmqpFrames.NONE) {
            r.skip();
          }
          if (!receiver || first < 0) {
            throw new DecodeException("disposition without the receiver's role or a first id");
          }
          if (last < 0) {
            last = first;
          }
          long now = System.nanoTime();
          for (long id = first; id <= last; id++) {
            settle((int) id, settled, state, rejection, now);
          }
          pump();
          checkFinished();
        }

        private void settle(int id, boolean settled, int state, String rejection, long now) {
          if (id == cbsDeliveryId) {
            return;
          }
          int age = id - oldest;
          if (sentAt == null
              || age < 0
              || age >= nextDeliveryId - oldest
              || sentAt[id & mask] == 0) {
            figures.fail("disposition for a delivery not in flight");
            return;
          }
          if (!settled) {
            // The hub settles first (rcv-settle-mode first); an unsettled answer is not a result.
            figures.fail("unsettled disposition " + stateName(state));
            return;
          }
          long sent = sentAt[id & mask];
          sentAt[id & mask] = 0;
          inFlight--;
          while (oldest != nextDeliveryId && sentAt[oldest & mask] == 0) {
            oldest++;
          }
          if (state == AmqpFrames.ACCEPTED) {
            if (loading && now >= windowStart && now < end) {
              figures.ok++;
              if (sent >= windowStart) {
                figures.latencyMicros.recordValue((now - sent) / 1_000);
              }
            }
          } else if (state == AmqpFrames.REJECTED) {
            figures.fail("rejected: " + rejection);
          } else {
            figures.fail("not accepted: " + stateName(state));
          }
        }

        private String stateName(int state) {
          switch (state) {
            case AmqpFrames.ACCEPTED:
              return "accepted";
            case AmqpFrames.REJECTED:
              return "rejected";
            case AmqpFrames.RELEASED:
              return "released";
            case AmqpFrames.MODIFIED:
              return "modified";
            case AmqpFrames.RECEIVED:
              return "received";
            case AmqpFrames.NONE:
              return "no state";
            default:
              return "state 0x" + Integer.toHexString(state);
          }
        }

        /**
         * Sends what the window, the link credit, the hub's incoming window and the delivery ids
         * still free allow: all of it in one buffer, one write.
         */
        void pump() {
          if (phase != READY || !loading || stopped || finished) {
            return;
          }
          long now = System.nanoTime();
          long room =
              Math.min(
                  Math.min(o.window() - inFlight, credit),
                  Math.min(remoteIncomingWindow, sentAt.length - (nextDeliveryId - oldest)));
          if (room <= 0) {
            return;
          }
          int k = (int) room;
          byte[] bytes = template.bytes();
          ByteBuf frames = socket.channelHandlerContext().alloc().buffer(k * bytes.length);
          for (int i = 0; i < k; i++) {
            int id = nextDeliveryId++;
            template.write(frames, id, ++number);
            sentAt[id & mask] = now;
          }
          inFlight += k;
          credit -= k;
          deliveryCount += k;
          nextOutgoingId += k;
          remoteIncomingWindow -= k;
          socket.writeMessage(frames);
        }

        void checkFinished() {
          if (stopped && !finished && inFlight == 0) {
            finish();
          }
        }

        void finish() {
          if (finished) {
            return;
          }
          finished = true;
          if (--unfinished == 0) {
            loaded.tryComplete(figures);
          }
        }

        // ---- failures

        private void failConnect(String reason) {
          if (phase == CLOSED) {
            return;
          }
          phase = CLOSED;
          if (connectTimer >= 0) {
            vertx.cancelTimer(connectTimer);
            connectTimer = -1;
          }
          if (socket != null) {
            socket.close();
          }
          ready.tryFail(reason);
        }

        private void protocolError(String reason) {
          if (phase < READY) {
            failConnect(reason);
          } else {
            onClosed(reason);
            socket.close();
          }
        }

        /** The hub ended the link, session or connection: what is in flight is lost. */
        private void onClosed(String reason) {
          if (phase < READY) {
            failConnect(reason);
            return;
          }
          if (phase == CLOSED) {
            return;
          }
          phase = CLOSED;
          figures.fail(reason);
          if (loading) {
            for (int i = 0; i < inFlight; i++) {
              figures.fail("in flight when the connection ended");
            }
            inFlight = 0;
            finish();
          }
        }
      }
    }
  }
}
