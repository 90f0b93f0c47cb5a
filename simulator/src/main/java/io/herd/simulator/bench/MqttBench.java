package io.herd.simulator.bench;

import static io.herd.simulator.bench.BenchSupport.describe;
import static io.herd.simulator.bench.BenchSupport.fmt;
import static io.herd.simulator.internal.DeviceTopics.METHOD_REQUEST_FILTER;
import static io.herd.simulator.internal.DeviceTopics.REPORTED_PATCH_TOPIC;
import static io.herd.simulator.internal.DeviceTopics.TWIN_GET_TOPIC;
import static io.herd.simulator.internal.DeviceTopics.TWIN_RESPONSE_FILTER;
import static io.herd.simulator.internal.DeviceTopics.cloudToDeviceFilter;
import static io.herd.simulator.internal.DeviceTopics.telemetryTopic;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import io.herd.core.SasSigner;
import io.herd.simulator.bench.BenchSupport.BenchOptions;
import io.herd.simulator.bench.BenchSupport.ClientCpu;
import io.herd.simulator.bench.BenchSupport.CpuSample;
import io.herd.simulator.bench.BenchSupport.HubInfo;
import io.herd.simulator.internal.ClientTls;
import io.herd.simulator.internal.ConnectionStrings;
import io.herd.simulator.internal.DeviceTopics.MethodRequest;
import io.herd.simulator.internal.DeviceTopics.TwinResponse;
import io.herd.simulator.internal.MqttWire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttSubAckMessage;
import io.netty.handler.codec.mqtt.MqttTopicSubscription;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SocketAddress;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.HdrHistogram.Histogram;

/**
 * MQTT load generator for the IoT Hub device protocol (azure-iothub-wire.md §2): MQTT 3.1.1 over
 * TLS, CONNECT as the Azure SDKs send it (client id = device id, user name {@code
 * {hostName}/{deviceId}/?api-version=2021-04-12}, a SAS token as password, clean session off,
 * keep-alive 180 s). Modes:
 *
 * <ul>
 *   <li>{@code create}: bulk-creates the devices over the service REST API with primary keys
 *       derived from {@code --key-seed}, so that every generator process can sign their tokens;
 *   <li>{@code connect}: connects the devices with bounded concurrency, reports the connect rate
 *       and the latency of TCP + TLS + CONNECT/CONNACK, then holds the connections until {@code
 *       --stop-file} appears or {@code --hold-seconds} pass, having written {@code --ready-file};
 *   <li>{@code telemetry}: each device keeps {@code --window} QoS 1 PUBLISHes to {@code
 *       devices/{id}/messages/events/} un-PUBACKed; reports PUBACKs per second and latencies;
 *   <li>{@code reported}: each device subscribes to {@code $iothub/twin/res/#} and keeps {@code
 *       --window} reported-property PATCHes outstanding, counting a {@code 204} response as
 *       acknowledged; with a window of 1 a sample of twins is read back over MQTT afterwards;
 *   <li>{@code methods}: the device side of direct methods (wire §2.6): each device subscribes to
 *       {@code $iothub/methods/POST/#} and answers every method request at once on {@code
 *       $iothub/methods/res/200/?$rid={rid}} with the request's payload as its own, so that the
 *       caller can tell the answer belongs to its call; writes {@code --ready-file} once all are
 *       subscribed, answers until {@code --stop-file} appears or {@code --hold-seconds} pass, and
 *       reports how many requests it answered;
 *   <li>{@code c2d}: the device side of cloud-to-device messages (wire §2.3): each device
 *       subscribes to {@code devices/{id}/messages/devicebound/#} with QoS 1, PUBACKs every message
 *       at once and checks that it is its own and in order ({@link C2dDelivery}); holds like {@code
 *       methods}, counts the messages received inside the sender's window ({@code --window-file})
 *       with their latency from the sender's {@code t}, and on the stop file waits for the {@code
 *       expected=} count it names.
 * </ul>
 *
 * <p>With {@code --broker mosquitto} the same load goes to a plain MQTT broker: no hub.json, the
 * port and CA come from the options, and the password is a token signed with a throwaway key (the
 * broker ignores it, but the CONNECT has the same size and the client does the same work).
 *
 * <p>One Vert.x instance with one event loop per core (by default); each event loop owns its share
 * of the connections, which are Vert.x {@code NetSocket}s with Netty's MQTT codec in the pipeline,
 * so a connection costs little more than its TCP and TLS state. TLS session resumption is off (each
 * device makes a full handshake), unless {@code --tls-resumption} is given.
 *
 * <p>Exit status: 0 when every device connected and every message was acknowledged (204 for
 * patches), 1 otherwise, on a missed deadline or on bad arguments. Only loopback hosts are used.
 */
public final class MqttBench {

  private static final String NAME = "mqtt-bench";
  private static final String DEVICE_POLICY = "device";

  // Connecting stops after this many failures, rather than wait out the timeouts of a dead hub.
  private static final int MAX_CONNECT_FAILURES = 100;
  // Load stops on an event loop after this many errors, rather than hammer a broken hub.
  private static final int MAX_LOAD_ERRORS = 1_000;
  private static final int MAX_REASONS = 20;
  private static final long DRAIN_NANOS = TimeUnit.SECONDS.toNanos(10);

  private MqttBench() {}

  public static void main(String[] args) {
    BenchSupport.useJulLogging();
    System.exit(run(args, System.out));
  }

  enum Mode {
    CREATE,
    CONNECT,
    TELEMETRY,
    REPORTED,
    METHODS,
    C2D
  }

  enum Broker {
    HERD,
    MOSQUITTO
  }

  /** How the devices' SAS tokens are signed. */
  enum Auth {
    /** With each device's own primary key ({@link #deviceKey}), no {@code skn}. */
    DEVICE_KEY,
    /** With the hub's built-in {@code device} policy, {@code skn=device}. */
    POLICY
  }

  /** Command-line options, validated. */
  record Options(
      Mode mode,
      Broker broker,
      Path hubJson,
      String host,
      int port,
      Path caFile,
      String hostName,
      String prefix,
      int first,
      int devices,
      Auth auth,
      String keySeed,
      int batch,
      int createClients,
      List<String> sourceAddresses,
      List<String> connectAddresses,
      int connectConcurrency,
      int connectTimeoutSeconds,
      int keepAliveSeconds,
      int holdSeconds,
      Path readyFile,
      Path stopFile,
      Path armedFile,
      Path startFile,
      Path windowFile,
      int drainSeconds,
      int window,
      int seconds,
      int warmupSeconds,
      int bodyBytes,
      int responseTimeoutSeconds,
      int verify,
      int eventLoops,
      boolean openSsl,
      boolean tlsResumption,
      String tlsGroups,
      int timeoutSeconds,
      Path resultFile)
      implements BenchOptions {

    static final String USAGE =
        """
        usage: MqttBench --mode create|connect|telemetry|reported|methods|c2d --prefix P [options]
          --mode M                  create: bulk-create the devices with keys from --key-seed;
                                    connect: connect, report, hold the connections;
                                    telemetry: QoS 1 PUBLISHes to devices/{id}/messages/events/;
                                    reported: reported-property PATCHes, 204 = acknowledged;
                                    methods: subscribe to direct methods, answer each with
                                    status 200 echoing its payload, hold like connect;
                                    c2d: subscribe to cloud-to-device messages with QoS 1,
                                    PUBACK each at once, count them and their latency from
                                    the sender's t=<epoch micros> property, hold like connect
          --broker B                herd (default) or mosquitto (a plain MQTT broker over TLS)
          --hub-json PATH           herd: the hub's hub.json (host name, ports, CA, policy keys)
          --port N                  MQTT TLS port (herd: default ports.mqtt of hub.json;
                                    mosquitto: required)
          --ca-file PATH            CA to trust (herd: default caFile of hub.json; mosquitto:
                                    required)
          --host-name H             mosquitto: host name in user names and tokens (default
                                    localhost); herd: taken from hub.json
          --host H                  loopback address to connect to (default 127.0.0.1)
          --prefix P                device id prefix; ids are P-i
          --first N                 first device number (default 0; create: must be 0)
          --devices N               devices P-first .. P-(first+N-1) (default 1000)
          --auth A                  device-key (default: each device's own key, from
                                    --key-seed) or policy (the hub's 'device' policy, skn=device)
          --key-seed S              secret the device keys derive from (create, and herd with
                                    --auth device-key)
          --batch N                 create: devices per POST /devices, 1..100 (default 100)
          --create-clients N        create: concurrent bulk-create requests (default 8)
          --source-addresses A,B    local loopback addresses to connect from, round robin
                                    (28k ephemeral ports each; default: the kernel's choice)
          --connect-addresses A,B   loopback addresses to connect to, round robin, for a hub
                                    that listens on all of them; TLS still verifies the server
                                    as --host (default: --host alone)
          --connect-concurrency N   connects in flight (default 200)
          --connect-timeout-seconds N  limit for TCP + TLS + CONNACK of one device (default 30)
          --keep-alive N            CONNECT keep-alive in seconds (default 180, as the SDKs)
          --hold-seconds N          connect, methods: hold the connections at most this long
                                    (default 60)
          --ready-file PATH         connect, methods: written (key=value) once every device is
                                    connected (methods: and subscribed)
          --stop-file PATH          connect, methods, c2d: stop holding as soon as this file
                                    exists; c2d: a line expected=N in it waits up to
                                    --drain-seconds for N distinct messages first
          --window-file PATH        c2d: the sender's measured window, read once it exists
                                    (windowStartEpochMicros=, windowEndEpochMicros=)
          --drain-seconds N         c2d: see --stop-file (default 15)
          --armed-file PATH         connect: written once the process is ready to connect
          --start-file PATH         connect: wait for this file before the first connect, so
                                    that JVM start-up stays out of a multi-process figure
          --window N                un-acknowledged messages per device (telemetry default 16,
                                    reported default 1)
          --seconds N               telemetry, reported: measured window (default 20)
          --warmup-seconds N        telemetry, reported: warm-up before it (default 5)
          --body-bytes N            telemetry: JSON body size (default 160)
          --response-timeout-seconds N  a PUBACK or twin response later than this is an error
                                    (default 30)
          --verify N                reported with --window 1: twins read back over MQTT
                                    (default 20)
          --event-loops N           client event loops (default: cores)
          --ssl-engine E            openssl (default when available) or jdk
          --tls-resumption          let the client resume TLS sessions (default: full handshakes)
          --tls-groups G,H          key-exchange groups the client offers, in order (default
                                    x25519,secp256r1,secp384r1, as device TLS stacks such as
                                    mbedTLS and OpenSSL 3.0 do; X25519MLKEM768,x25519 offers
                                    the post-quantum hybrid first, as Netty's default does)
          --timeout-seconds N       hard limit for the whole run (default 600)
          --result-file PATH        also write the figures as key=value lines""";

    /** Returns null when help was requested. */
    static Options parse(String[] args) {
      Map<String, String> values = BenchSupport.parseArgs(args, Set.of("tls-resumption"));
      if (values == null) {
        return null;
      }
      Mode mode = enumArg(values, "mode", null, Mode.class);
      if (mode == null) {
        throw new IllegalArgumentException("--mode is required\n" + USAGE);
      }
      Broker broker = enumArg(values, "broker", Broker.HERD, Broker.class);
      Auth auth = enumArg(values, "auth", Auth.DEVICE_KEY, Auth.class);
      String prefix = values.remove("prefix");
      if (prefix == null) {
        throw new IllegalArgumentException("--prefix is required: it names the devices");
      }
      Path hubJson = BenchSupport.pathArg(values, "hub-json");
      if (broker == Broker.HERD && hubJson == null) {
        throw new IllegalArgumentException("--hub-json is required with --broker herd");
      }
      int cores = Runtime.getRuntime().availableProcessors();
      String engine = BenchSupport.stringArg(values, "ssl-engine", "openssl");
      if (!engine.equals("openssl") && !engine.equals("jdk")) {
        throw new IllegalArgumentException("--ssl-engine must be openssl or jdk: " + engine);
      }
      String sources = BenchSupport.stringArg(values, "source-addresses", "");
      String connectTo = BenchSupport.stringArg(values, "connect-addresses", "");
      String host = BenchSupport.stringArg(values, "host", "127.0.0.1");
      Options o =
          new Options(
              mode,
              broker,
              hubJson,
              host,
              BenchSupport.intArg(values, "port", 0, 1, 65_535),
              BenchSupport.pathArg(values, "ca-file"),
              BenchSupport.stringArg(values, "host-name", "localhost"),
              prefix,
              BenchSupport.intArg(values, "first", 0, 0, 100_000_000),
              BenchSupport.intArg(values, "devices", 1_000, 1, 1_000_000),
              auth,
              values.remove("key-seed"),
              BenchSupport.intArg(values, "batch", 100, 1, 100),
              BenchSupport.intArg(values, "create-clients", 8, 1, 1_000),
              sources.isEmpty() ? List.of() : List.of(sources.split(",")),
              connectTo.isEmpty() ? List.of(host) : List.of(connectTo.split(",")),
              BenchSupport.intArg(values, "connect-concurrency", 200, 1, 100_000),
              BenchSupport.intArg(values, "connect-timeout-seconds", 30, 1, 600),
              BenchSupport.intArg(values, "keep-alive", 180, 0, 65_535),
              BenchSupport.intArg(values, "hold-seconds", 60, 0, 86_400),
              BenchSupport.pathArg(values, "ready-file"),
              BenchSupport.pathArg(values, "stop-file"),
              BenchSupport.pathArg(values, "armed-file"),
              BenchSupport.pathArg(values, "start-file"),
              BenchSupport.pathArg(values, "window-file"),
              BenchSupport.intArg(values, "drain-seconds", 15, 0, 600),
              BenchSupport.intArg(values, "window", mode == Mode.TELEMETRY ? 16 : 1, 1, 1_000),
              BenchSupport.intArg(values, "seconds", 20, 1, 3_600),
              BenchSupport.intArg(values, "warmup-seconds", 5, 0, 600),
              BenchSupport.intArg(values, "body-bytes", 160, 16, 256 * 1024),
              BenchSupport.intArg(values, "response-timeout-seconds", 30, 1, 600),
              BenchSupport.intArg(values, "verify", 20, 0, 100_000),
              BenchSupport.intArg(values, "event-loops", cores, 1, 64),
              engine.equals("openssl"),
              values.remove("tls-resumption") != null,
              BenchSupport.tlsGroupsArg(values),
              BenchSupport.intArg(values, "timeout-seconds", 600, 1, 86_400),
              BenchSupport.pathArg(values, "result-file"));
      BenchSupport.requireValid(values, prefix);
      o.check();
      return o;
    }

    private void check() {
      BenchSupport.requireLoopback(host);
      for (String a : sourceAddresses) {
        BenchSupport.requireLoopback(a);
      }
      for (String a : connectAddresses) {
        BenchSupport.requireLoopback(a);
      }
      if (broker == Broker.MOSQUITTO) {
        if (mode == Mode.CREATE
            || mode == Mode.REPORTED
            || mode == Mode.METHODS
            || mode == Mode.C2D) {
          throw new IllegalArgumentException("--broker mosquitto has no device registry or twins");
        }
        if (port == 0 || caFile == null) {
          throw new IllegalArgumentException("--broker mosquitto needs --port and --ca-file");
        }
      }
      boolean signsWithDeviceKeys =
          mode == Mode.CREATE || (broker == Broker.HERD && auth == Auth.DEVICE_KEY);
      if (signsWithDeviceKeys && (keySeed == null || keySeed.isEmpty())) {
        throw new IllegalArgumentException(
            "--key-seed is required: the device keys derive from it, at creation and to sign");
      }
      if (mode == Mode.CREATE && first != 0) {
        throw new IllegalArgumentException("create makes devices P-0 .. P-(N-1): drop --first");
      }
      if ((long) first + devices > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("--first + --devices is too large");
      }
      if ((mode == Mode.TELEMETRY || mode == Mode.REPORTED)
          && warmupSeconds + seconds + 30 >= timeoutSeconds) {
        throw new IllegalArgumentException(
            "--timeout-seconds must exceed warm-up + seconds by more than 30 s");
      }
    }

    private static <E extends Enum<E>> E enumArg(
        Map<String, String> values, String name, E def, Class<E> type) {
      String raw = values.remove(name);
      if (raw == null) {
        return def;
      }
      try {
        return Enum.valueOf(type, raw.toUpperCase(Locale.ROOT).replace('-', '_'));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("unknown --" + name + ": " + raw, e);
      }
    }

    @Override
    public String primaryKey(int n) {
      return Base64.getEncoder().encodeToString(deviceKey(keySeed, deviceId(n)));
    }
  }

  /**
   * The 32-byte primary key of {@code deviceId}: HMAC-SHA256 under the seed, so that the creating
   * process and every generator process derive the same keys without sharing a list.
   */
  static byte[] deviceKey(String keySeed, String deviceId) {
    return SasSigner.hmac(("herd-bench-device-key:" + keySeed).getBytes(UTF_8), deviceId);
  }

  /**
   * What the bench sender put in a cloud-to-device message, read from its delivery topic {@code
   * devices/{id}/messages/devicebound/{bag}} (wire §2.3, §2.4): the message id {@code %24.mid=n}, a
   * number the sender counts up over all devices (device {@code n % devices}, its {@code n /
   * devices}-th message), and the application property {@code t}, the sender's clock in epoch
   * microseconds just before it sent the request.
   */
  record C2dDelivery(long n, long sentMicros) {

    /** Null when the topic carries no numeric message id and {@code t}. */
    static C2dDelivery parse(String topic) {
      int bag = topic.indexOf("/messages/devicebound/");
      if (!topic.startsWith("devices/") || bag < 0) {
        return null;
      }
      long n = -1;
      long t = -1;
      for (String pair : topic.substring(bag + "/messages/devicebound/".length()).split("&")) {
        if (pair.startsWith("%24.mid=")) {
          n = parseLong(pair.substring(8));
        } else if (pair.startsWith("$.mid=")) {
          n = parseLong(pair.substring(6));
        } else if (pair.startsWith("t=")) {
          t = parseLong(pair.substring(2));
        }
      }
      return n < 0 || t < 0 ? null : new C2dDelivery(n, t);
    }

    private static long parseLong(String s) {
      try {
        return Long.parseLong(s);
      } catch (NumberFormatException e) {
        return -1;
      }
    }
  }

  /** The wall clock in microseconds since the epoch, comparable between processes. */
  static long epochMicros() {
    java.time.Instant now = java.time.Instant.now();
    return now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000;
  }

  /** Where to connect and how to sign: from hub.json for Herd, from the options otherwise. */
  record Target(String host, int port, Path caFile, String hostName, Signer signer) {

    static Target of(Options o) throws IOException {
      if (o.broker() == Broker.MOSQUITTO) {
        byte[] throwaway = new byte[32];
        new SecureRandom().nextBytes(throwaway);
        return new Target(
            o.host(),
            o.port(),
            o.caFile(),
            o.hostName(),
            (id, expiry) -> SasSigner.deviceToken(o.hostName(), id, throwaway, expiry));
      }
      JsonObject json;
      try {
        json = new JsonObject(Files.readString(o.hubJson()));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(o.hubJson() + " is not valid JSON: " + e.getMessage());
      }
      String hostName = json.getString("hostName");
      JsonObject ports = json.getJsonObject("ports");
      Integer mqtt = ports == null ? null : ports.getInteger("mqtt");
      String ca = json.getString("caFile");
      if (hostName == null
          || (mqtt == null && o.port() == 0)
          || (ca == null && o.caFile() == null)) {
        throw new IllegalArgumentException(o.hubJson() + " lacks hostName, ports.mqtt or caFile");
      }
      Signer signer;
      if (o.auth() == Auth.POLICY) {
        JsonObject strings = json.getJsonObject("connectionStrings");
        String cs = strings == null ? null : strings.getString(DEVICE_POLICY);
        if (cs == null) {
          throw new IllegalArgumentException(
              o.hubJson() + " has no connection string of the '" + DEVICE_POLICY + "' policy");
        }
        Map<String, String> parts = ConnectionStrings.parse(cs);
        byte[] key = Base64.getDecoder().decode(parts.get("SharedAccessKey"));
        String policy = parts.getOrDefault("SharedAccessKeyName", DEVICE_POLICY);
        signer = (id, expiry) -> SasSigner.deviceToken(hostName, id, policy, key, expiry);
      } else {
        String seed = o.keySeed();
        signer = (id, expiry) -> SasSigner.deviceToken(hostName, id, deviceKey(seed, id), expiry);
      }
      Path caFile = o.caFile() != null ? o.caFile() : Path.of(ca);
      if (!Files.isReadable(caFile)) {
        throw new IllegalArgumentException("cannot read the CA file " + caFile);
      }
      return new Target(o.host(), o.port() != 0 ? o.port() : mqtt, caFile, hostName, signer);
    }
  }

  /** Signs the CONNECT password of a device. */
  @FunctionalInterface
  interface Signer {
    String password(String deviceId, long expiryEpochSeconds);
  }

  /** Parses, runs and returns the process exit status. */
  static int run(String[] args, PrintStream out) {
    Options options;
    try {
      options = Options.parse(args);
      if (options == null) {
        out.println(Options.USAGE);
        return 0;
      }
    } catch (IllegalArgumentException e) {
      System.err.println(NAME + ": " + e.getMessage());
      return 1;
    }
    BenchSupport.offerTlsGroups(options.tlsGroups());
    if (!options.tlsResumption()) {
      // Read by Netty's OpenSSL client context (and the JDK's) when first loaded: no session
      // tickets, no client session cache, so every device makes a full handshake.
      System.setProperty("jdk.tls.client.enableSessionTicketExtension", "false");
      System.setProperty("io.netty.handler.ssl.openssl.sessionCacheClient", "false");
    }
    if (options.mode() == Mode.CREATE) {
      return create(options, out);
    }
    Target target = readHubJson(() -> Target.of(options));
    return target == null ? 1 : new Runner(options, target, out).run();
  }

  /** Reads what {@code --hub-json} (or the options) tell; {@code read} may fail. */
  @FunctionalInterface
  private interface HubJsonReader<T> {
    T read() throws IOException;
  }

  /** The result of {@code reader}, or null after saying on stderr why there is none. */
  private static <T> T readHubJson(HubJsonReader<T> reader) {
    try {
      return reader.read();
    } catch (IllegalArgumentException e) {
      System.err.println(NAME + ": " + e.getMessage());
    } catch (IOException e) {
      System.err.println(NAME + ": cannot read --hub-json: " + describe(e));
    }
    return null;
  }

  private static int create(Options options, PrintStream out) {
    HubInfo hub = readHubJson(() -> HubInfo.read(options.hubJson()));
    if (hub == null) {
      return 1;
    }
    Map<String, String> results = new LinkedHashMap<>();
    results.put("mode", "create");
    return BenchSupport.runPhases(
        NAME,
        "== Herd MQTT benchmark (mode create: devices with keys derived from --key-seed) ==",
        options,
        hub,
        out,
        options.createClients(),
        results,
        "a bulk create failed",
        (clients, token) -> true);
  }

  /** c2d figures of one event loop, or merged; touched on its loop only. */
  static final class C2dFigures {
    final Histogram latencyMicros = new Histogram(3);
    final Figures malformed = new Figures();
    long received;
    long duplicates;
    long outOfOrder;
    long inWindow;

    /** Messages received once each, well-formed. */
    long distinct() {
      return received - duplicates - malformed.failed;
    }

    void add(C2dFigures other) {
      latencyMicros.add(other.latencyMicros);
      malformed.merge(other.malformed);
      received += other.received;
      duplicates += other.duplicates;
      outOfOrder += other.outOfOrder;
      inWindow += other.inWindow;
    }
  }

  /**
   * Figures of one step on one event loop: successes with their latencies in microseconds, failures
   * by reason, and the time span; merged across event loops.
   */
  static final class Figures {
    final Histogram latencyMicros = new Histogram(3);
    long ok;
    long failed;
    long firstStartNanos = Long.MAX_VALUE;
    long lastEndNanos = Long.MIN_VALUE;
    final Map<String, Long> reasons = new TreeMap<>();

    void fail(String reason) {
      fail(reason, 1);
    }

    void fail(String reason, long count) {
      failed += count;
      String key = reasons.containsKey(reason) || reasons.size() < MAX_REASONS ? reason : "other";
      reasons.merge(key, count, Long::sum);
    }

    void span(long start, long end) {
      firstStartNanos = Math.min(firstStartNanos, start);
      lastEndNanos = Math.max(lastEndNanos, end);
    }

    /** One request from {@code start} to {@code end}: a success, or a failure for a reason. */
    void record(long start, long end, String failure) {
      span(start, end);
      if (failure == null) {
        ok++;
        latencyMicros.recordValue((end - start) / 1_000);
      } else {
        fail(failure);
      }
    }

    double seconds() {
      return lastEndNanos < firstStartNanos ? 0 : (lastEndNanos - firstStartNanos) / 1e9;
    }

    void merge(Figures other) {
      latencyMicros.add(other.latencyMicros);
      ok += other.ok;
      failed += other.failed;
      firstStartNanos = Math.min(firstStartNanos, other.firstStartNanos);
      lastEndNanos = Math.max(lastEndNanos, other.lastEndNanos);
      other.reasons.forEach((k, v) -> reasons.merge(k, v, Long::sum));
    }

    String reasonsText() {
      StringBuilder sb = new StringBuilder();
      reasons.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : "; ").append(v + " x " + k));
      return sb.toString();
    }
  }

  /** Sequences the steps on the event loops from the main thread, and reports. */
  private static final class Runner {
    private final Options o;
    private final Target target;
    private final PrintStream out;
    private final long deadlineNanos;
    private final long expiry;
    private final Map<String, String> results = new LinkedHashMap<>();
    // c2d: the sender's measured window in epoch microseconds, once its file was read
    private volatile long windowStartMicros = Long.MAX_VALUE;
    private volatile long windowEndMicros = Long.MAX_VALUE;
    private final AtomicBoolean abort = new AtomicBoolean();
    private final AtomicLong connectFailures = new AtomicLong();
    private final List<Loop> loops = new ArrayList<>();
    private final List<NetClient> netClients = new ArrayList<>();
    private final List<SocketAddress> connectTo = new ArrayList<>();
    private Vertx vertx;

    Runner(Options o, Target target, PrintStream out) {
      this.o = o;
      this.target = target;
      this.out = out;
      this.deadlineNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.timeoutSeconds());
      // Valid for the whole bounded run: a device never needs a new token.
      this.expiry = System.currentTimeMillis() / 1000 + o.timeoutSeconds() + 3600;
      results.put("mode", o.mode().name().toLowerCase(Locale.ROOT));
      results.put("broker", o.broker().name().toLowerCase(Locale.ROOT));
      results.put("devices", Integer.toString(o.devices()));
      results.put("first", Integer.toString(o.first()));
      results.put("tlsGroups", o.tlsGroups());
      for (String a : o.connectAddresses()) {
        connectTo.add(SocketAddress.inetSocketAddress(target.port(), a));
      }
    }

    int run() {
      boolean ok = false;
      printHeader();
      try {
        start();
        ok = steps();
      } catch (TimeoutException e) {
        System.err.println(NAME + ": FAILED, run exceeded --timeout-seconds " + o.timeoutSeconds());
      } catch (RuntimeException e) {
        System.err.println(NAME + ": FAILED, " + describe(e));
      } finally {
        abort.set(true);
        if (vertx != null) {
          try {
            vertx.close().await(10, TimeUnit.SECONDS);
          } catch (TimeoutException e) {
            System.err.println(NAME + ": Vert.x did not close within 10 s");
          }
        }
      }
      results.put("status", ok ? "ok" : "failed");
      out.println(ok ? "result    : OK" : "result    : FAILED (see errors above)");
      try {
        BenchSupport.writeResults(o.resultFile(), results);
      } catch (IOException e) {
        System.err.println(NAME + ": cannot write --result-file: " + describe(e));
        return 1;
      }
      return ok ? 0 : 1;
    }

    private void printHeader() {
      out.println(
          "== Herd MQTT benchmark (mode "
              + o.mode().name().toLowerCase(Locale.ROOT)
              + ", broker "
              + o.broker().name().toLowerCase(Locale.ROOT)
              + ") ==");
      out.println("machine   : " + BenchSupport.machine());
      out.printf(
          Locale.ROOT,
          "target    : mqtts://%s:%d, TLS %s%s, host name %s, %s%n",
          target.host(),
          target.port(),
          o.openSsl() && OpenSSLEngineOptions.isAvailable() ? "OpenSSL" : "JDK",
          o.tlsResumption() ? " (session resumption allowed)" : " (full handshakes)",
          target.hostName(),
          o.broker() == Broker.MOSQUITTO
              ? "any password (broker allows anonymous)"
              : o.auth() == Auth.POLICY
                  ? "SAS signed with the 'device' policy"
                  : "SAS signed with each device's key");
      out.println(
          "ids       : "
              + o.deviceId(o.first())
              + " .. "
              + o.deviceId(o.first() + o.devices() - 1));
      out.printf(
          Locale.ROOT,
          "options   : %d event loops, %d connects in flight, keep-alive %d s, clean session"
              + " off, source addresses %s, to %s, TLS groups %s",
          o.eventLoops(),
          o.connectConcurrency(),
          o.keepAliveSeconds(),
          o.sourceAddresses().isEmpty()
              ? "(kernel's choice)"
              : String.join(",", o.sourceAddresses()),
          String.join(",", o.connectAddresses()),
          o.tlsGroups());
      switch (o.mode()) {
        case CONNECT, METHODS, C2D ->
            out.printf(Locale.ROOT, ", hold at most %d s%n", o.holdSeconds());
        case TELEMETRY ->
            out.printf(
                Locale.ROOT,
                ", window %d, %d-byte bodies, %d s after %d s warm-up%n",
                o.window(),
                o.bodyBytes(),
                o.seconds(),
                o.warmupSeconds());
        default ->
            out.printf(
                Locale.ROOT,
                ", window %d, %d s after %d s warm-up%n",
                o.window(),
                o.seconds(),
                o.warmupSeconds());
      }
    }

    private void start() throws TimeoutException {
      vertx = BenchSupport.socketClientVertx(o.eventLoops());
      int timeoutMs = (int) TimeUnit.SECONDS.toMillis(o.connectTimeoutSeconds());
      NetClientOptions base =
          ClientTls.netClientOptions(vertx, target.caFile(), o.openSsl(), timeoutMs);
      if (o.sourceAddresses().isEmpty()) {
        netClients.add(vertx.createNetClient(base));
      } else {
        for (String a : o.sourceAddresses()) {
          netClients.add(vertx.createNetClient(new NetClientOptions(base).setLocalAddress(a)));
        }
      }
      warmUpTls();
      List<Future<String>> deployed = new ArrayList<>();
      for (int i = 0; i < o.eventLoops(); i++) {
        Loop loop = new Loop(i);
        loops.add(loop);
        deployed.add(vertx.deployVerticle(loop));
      }
      for (int n = 0; n < o.devices(); n++) {
        loops.get(n % loops.size()).add(o.first() + n);
      }
      await(Future.all(deployed));
    }

    /**
     * One TLS connection per source address, closed at once without MQTT: loads the TLS engine and
     * its trust material outside the timed steps, and fails clearly when nothing accepts TLS there.
     */
    private void warmUpTls() throws TimeoutException {
      for (int i = 0; i < netClients.size(); i++) {
        String from = o.sourceAddresses().isEmpty() ? "" : " from " + o.sourceAddresses().get(i);
        Future<Void> closed =
            netClients.get(i).connect(target.port(), target.host()).compose(s -> s.close());
        await(closed.otherwiseEmpty());
        if (closed.failed()) {
          throw new IllegalStateException(
              "no TLS connection to "
                  + target.host()
                  + ":"
                  + target.port()
                  + from
                  + ": "
                  + describe(closed.cause()));
        }
      }
    }

    /** With --start-file: says it is armed, then waits until the file exists. */
    private void awaitStartSignal() throws TimeoutException {
      if (o.startFile() == null) {
        return;
      }
      try {
        if (o.armedFile() != null) {
          Files.writeString(o.armedFile(), "armedEpochMs=" + System.currentTimeMillis() + "\n");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.timeoutSeconds());
        while (!Files.exists(o.startFile())) {
          if (System.nanoTime() > deadline) {
            throw new TimeoutException("no start signal " + o.startFile());
          }
          Thread.sleep(1);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new TimeoutException("interrupted while waiting for the start signal");
      }
    }

    /** The steps of the mode after start; true when all went well. */
    private boolean steps() throws TimeoutException {
      Figures connect = connectStep();
      if (connect.ok < o.devices()) {
        closeStep();
        return false;
      }
      boolean ok =
          switch (o.mode()) {
            case CONNECT -> holdStep(connect);
            case METHODS, C2D -> subscribeStep() && holdStep(connect);
            case TELEMETRY -> loadStep("telemetry", "messages", "PUBACKs");
            case REPORTED ->
                subscribeStep() && loadStep("reported", "patches", "204 responses") && verifyStep();
            case CREATE -> throw new IllegalStateException("create runs without MQTT");
          };
      return closeStep() && ok;
    }

    private Figures connectStep() throws TimeoutException {
      awaitStartSignal();
      long startEpochMs = System.currentTimeMillis();
      long start = System.nanoTime();
      CpuSample cpu = CpuSample.now();
      Figures f =
          merge(each(l -> l.connectAll(Math.max(1, share(o.connectConcurrency(), l.index)))));
      ClientCpu used = cpu.until(CpuSample.now(), o.eventLoops());
      double seconds = f.seconds();
      double perSecond = BenchSupport.perSecond(f.ok, seconds);
      out.printf(
          Locale.ROOT,
          "connect   : %d of %d devices connected (TCP + TLS + CONNECT/CONNACK, %d in flight)"
              + " in %.2f s%n",
          f.ok,
          o.devices(),
          o.connectConcurrency(),
          seconds);
      printLine(f, perSecond, "connects/s", new double[] {50, 99});
      BenchSupport.printClientCpu(out, used);
      printReasons("failure", f);
      if (connectFailures.get() >= MAX_CONNECT_FAILURES) {
        out.println("            stopped connecting after " + MAX_CONNECT_FAILURES + " failures");
      }
      long firstEpochMs = startEpochMs + (f.firstStartNanos - start) / 1_000_000;
      long lastEpochMs = startEpochMs + (f.lastEndNanos - start) / 1_000_000;
      results.put("connect.devices", Long.toString(f.ok));
      results.put("connect.failures", Long.toString(f.failed));
      results.put("connect.failureReasons", f.reasonsText());
      results.put("connect.seconds", fmt(seconds));
      results.put("connect.perSecond", fmt(perSecond));
      BenchSupport.putPercentiles(results, "connect.p", f.latencyMicros, 50, 99);
      results.put("connect.maxMs", fmt(f.latencyMicros.getMaxValue() / 1e3));
      results.put("connect.firstEpochMs", Long.toString(f.ok > 0 ? firstEpochMs : 0));
      results.put("connect.lastEpochMs", Long.toString(f.ok > 0 ? lastEpochMs : 0));
      results.put("connect.clientCores", fmt(used.cores()));
      return f;
    }

    /** Signals "all connected", then holds until the stop file appears or the time is up. */
    private boolean holdStep(Figures connect) throws TimeoutException {
      if (o.readyFile() != null) {
        writeAtomically(
            o.readyFile(),
            "connected="
                + connect.ok
                + "\nfirstEpochMs="
                + results.get("connect.firstEpochMs")
                + "\nlastEpochMs="
                + results.get("connect.lastEpochMs")
                + "\nperSecond="
                + results.get("connect.perSecond")
                + (o.mode() == Mode.METHODS || o.mode() == Mode.C2D
                    ? "\nsubscribed=" + results.get("subscribe.devices")
                    : "")
                + "\n");
      }
      out.println(
          "ready     : all "
              + connect.ok
              + " devices connected"
              + (o.mode() == Mode.METHODS ? " and subscribed to direct methods" : "")
              + (o.mode() == Mode.C2D ? " and subscribed to cloud-to-device messages" : "")
              + "; holding");
      out.flush();
      long start = System.nanoTime();
      long end = start + TimeUnit.SECONDS.toNanos(o.holdSeconds());
      // Leave time to disconnect before the deadline.
      end = Math.min(end, deadlineNanos - TimeUnit.SECONDS.toNanos(15));
      boolean stopped = false;
      while (System.nanoTime() < end) {
        if (o.mode() == Mode.C2D && windowEndMicros == Long.MAX_VALUE) {
          readWindowFile();
        }
        if (o.stopFile() != null && Files.exists(o.stopFile())) {
          stopped = true;
          break;
        }
        BenchSupport.sleepUntil(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100));
      }
      Figures drops = merge(each(Loop::drops));
      double held = (System.nanoTime() - start) / 1e9;
      out.printf(
          Locale.ROOT,
          "hold      : %.1f s (%s); connections lost meanwhile: %d%n",
          held,
          stopped ? "stop file seen" : "time up",
          drops.failed);
      printReasons("lost", drops);
      results.put("hold.seconds", fmt(held));
      results.put("hold.lost", Long.toString(drops.failed));
      if (o.mode() == Mode.C2D) {
        return c2dStep(stopped) && drops.failed == 0;
      }
      if (o.mode() != Mode.METHODS) {
        return drops.failed == 0;
      }
      Figures m = merge(each(Loop::methods));
      out.printf(
          Locale.ROOT,
          "methods   : %d requests answered with status 200; %d malformed%n",
          m.ok,
          m.failed);
      printReasons("error", m);
      results.put("methods.answered", Long.toString(m.ok));
      results.put("methods.malformed", Long.toString(m.failed));
      return drops.failed == 0 && m.failed == 0;
    }

    private String subscriptionFilter() {
      return switch (o.mode()) {
        case METHODS -> METHOD_REQUEST_FILTER;
        case C2D -> cloudToDeviceFilter("{id}");
        default -> TWIN_RESPONSE_FILTER;
      };
    }

    /** c2d: reads the sender's measured window once its file exists. */
    private void readWindowFile() {
      if (o.windowFile() == null || !Files.exists(o.windowFile())) {
        return;
      }
      Map<String, String> kv = readProperties(o.windowFile());
      String start = kv.get("windowStartEpochMicros");
      String end = kv.get("windowEndEpochMicros");
      if (start != null && end != null) {
        windowStartMicros = Long.parseLong(start);
        windowEndMicros = Long.parseLong(end);
      }
    }

    private static Map<String, String> readProperties(Path file) {
      Map<String, String> kv = new LinkedHashMap<>();
      try {
        for (String line : Files.readAllLines(file)) {
          int eq = line.indexOf('=');
          if (eq > 0) {
            kv.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
          }
        }
      } catch (IOException e) {
        // Not written completely yet: read again on the next poll.
      }
      return kv;
    }

    /**
     * c2d: waits up to --drain-seconds for the {@code expected=} count of the stop file, then
     * reports messages received (distinct, duplicates, out of order), those received in the
     * sender's window with their latencies from the sender's {@code t}.
     */
    private boolean c2dStep(boolean stopped) throws TimeoutException {
      long expected = -1;
      if (stopped) {
        String e = readProperties(o.stopFile()).get("expected");
        expected = e == null ? -1 : Long.parseLong(e);
      }
      long drainStart = System.nanoTime();
      long drainEnd =
          Math.min(
              drainStart + TimeUnit.SECONDS.toNanos(o.drainSeconds()),
              deadlineNanos - TimeUnit.SECONDS.toNanos(15));
      C2dFigures f = mergeC2d();
      while (expected >= 0 && f.distinct() < expected && System.nanoTime() < drainEnd) {
        BenchSupport.sleepUntil(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100));
        f = mergeC2d();
      }
      double drained = (System.nanoTime() - drainStart) / 1e9;
      long missing = expected < 0 ? 0 : Math.max(0, expected - f.distinct());
      double windowSeconds =
          windowEndMicros == Long.MAX_VALUE ? 0 : (windowEndMicros - windowStartMicros) / 1e6;
      double perSecond = windowSeconds > 0 ? f.inWindow / windowSeconds : 0;
      out.printf(
          Locale.ROOT,
          "c2d       : %d messages received (%d distinct, %d duplicates, %d out of order,"
              + " %d malformed); expected %s, missing %d after %.1f s of drain%n",
          f.received,
          f.distinct(),
          f.duplicates,
          f.outOfOrder,
          f.malformed.failed,
          expected < 0 ? "(not told)" : Long.toString(expected),
          missing,
          drained);
      out.printf(
          Locale.ROOT,
          "            in the sender's %.1f s window: %d received, %.0f/s; latency from the"
              + " sender's t: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms%n",
          windowSeconds,
          f.inWindow,
          perSecond,
          f.latencyMicros.getValueAtPercentile(50) / 1e3,
          f.latencyMicros.getValueAtPercentile(99) / 1e3,
          f.latencyMicros.getValueAtPercentile(99.9) / 1e3,
          f.latencyMicros.getMaxValue() / 1e3);
      printReasons("error", f.malformed);
      results.put("c2d.received", Long.toString(f.received));
      results.put("c2d.distinct", Long.toString(f.distinct()));
      results.put("c2d.duplicates", Long.toString(f.duplicates));
      results.put("c2d.outOfOrder", Long.toString(f.outOfOrder));
      results.put("c2d.malformed", Long.toString(f.malformed.failed));
      results.put("c2d.expected", Long.toString(expected));
      results.put("c2d.missing", Long.toString(missing));
      results.put("c2d.drainSeconds", fmt(drained));
      results.put("c2d.windowReceived", Long.toString(f.inWindow));
      results.put("c2d.windowSeconds", fmt(windowSeconds));
      results.put("c2d.perSecond", fmt(perSecond));
      BenchSupport.putPercentiles(results, "c2d.p", f.latencyMicros, 50, 90, 99, 99.9);
      results.put("c2d.maxMs", fmt(f.latencyMicros.getMaxValue() / 1e3));
      return missing == 0 && f.outOfOrder == 0 && f.malformed.failed == 0;
    }

    private C2dFigures mergeC2d() throws TimeoutException {
      C2dFigures total = new C2dFigures();
      for (Future<C2dFigures> part : each(Loop::c2d)) {
        total.add(await(part));
      }
      return total;
    }

    private boolean subscribeStep() throws TimeoutException {
      Figures f = mergeBounded(each(Loop::subscribeAll), "SUBACK");
      out.printf(
          Locale.ROOT,
          "subscribe : %d of %d devices subscribed to %s in %.2f s%n",
          f.ok,
          o.devices(),
          subscriptionFilter(),
          f.seconds());
      printReasons("failure", f);
      results.put("subscribe.devices", Long.toString(f.ok));
      return f.ok == o.devices() && f.failed == 0;
    }

    /**
     * Runs the load of the mode on every connection; figures cover the measured window that opens
     * after the warm-up. Rate = acknowledgements received inside the window / its length; latency =
     * of messages sent and acknowledged inside it.
     */
    private boolean loadStep(String phase, String noun, String acks) throws TimeoutException {
      long windowStart = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.warmupSeconds());
      long end = windowStart + TimeUnit.SECONDS.toNanos(o.seconds());
      List<Future<Figures>> parts = each(l -> l.load(windowStart, end));
      BenchSupport.sleepUntil(windowStart);
      CpuSample cpu = CpuSample.now();
      BenchSupport.sleepUntil(end);
      ClientCpu used = cpu.until(CpuSample.now(), o.eventLoops());
      Figures f = merge(parts);
      double perSecond = BenchSupport.perSecond(f.ok, o.seconds());
      out.printf(
          Locale.ROOT,
          "%-10s: %d devices, window %d, %d s measured after %d s warm-up, %d %s%n",
          phase,
          o.devices(),
          o.window(),
          o.seconds(),
          o.warmupSeconds(),
          f.ok,
          acks);
      printLine(f, perSecond, noun + "/s", new double[] {50, 90, 99, 99.9});
      BenchSupport.printClientCpu(out, used);
      printReasons("error", f);
      results.put(phase + "." + noun, Long.toString(f.ok));
      results.put(phase + ".perSecond", fmt(perSecond));
      BenchSupport.putPercentiles(results, phase + ".p", f.latencyMicros, 50, 90, 99, 99.9);
      results.put(phase + ".maxMs", fmt(f.latencyMicros.getMaxValue() / 1e3));
      results.put(phase + ".errors", Long.toString(f.failed));
      results.put(phase + ".errorReasons", f.reasonsText());
      results.put(phase + ".window", Integer.toString(o.window()));
      results.put(phase + ".clientCores", fmt(used.cores()));
      results.put(phase + ".clientLoopBusy", fmt(used.loopBusy()));
      if (o.mode() == Mode.TELEMETRY) {
        results.put(phase + ".bodyBytes", Integer.toString(o.bodyBytes()));
      }
      return f.failed == 0 && f.ok > 0;
    }

    /** Reads twins back over MQTT: reported.bench.seq must be the last acknowledged one. */
    private boolean verifyStep() throws TimeoutException {
      if (o.window() != 1 || o.verify() == 0) {
        return true;
      }
      Figures f =
          mergeBounded(each(l -> l.verify(share(o.verify(), l.index))), "twin GET response");
      out.printf(
          Locale.ROOT,
          "verify    : %d of %d twins read back over MQTT hold the last acknowledged patch%n",
          f.ok,
          f.ok + f.failed);
      printReasons("error", f);
      results.put("reported.verified", Long.toString(f.ok));
      return f.failed == 0;
    }

    private boolean closeStep() throws TimeoutException {
      Figures f = mergeBounded(each(Loop::closeAll), "close");
      return f.failed == 0;
    }

    private void printLine(Figures f, double perSecond, String unit, double[] percentiles) {
      Histogram h = f.latencyMicros;
      StringBuilder line =
          new StringBuilder(String.format(Locale.ROOT, "            %.0f %s; ", perSecond, unit));
      for (double p : percentiles) {
        line.append(
            String.format(
                Locale.ROOT,
                "p%s %.2f ms, ",
                p == Math.rint(p) ? Long.toString((long) p) : Double.toString(p),
                BenchSupport.ms(h, p)));
      }
      line.append(
          String.format(Locale.ROOT, "max %.2f ms; errors %d", h.getMaxValue() / 1e3, f.failed));
      out.println(line);
    }

    private void printReasons(String what, Figures f) {
      f.reasons.forEach((k, v) -> out.printf(Locale.ROOT, "  %-8s: %d x %s%n", what, v, k));
    }

    private int share(int total, int i) {
      return BenchSupport.share(total, loops.size(), i);
    }

    private <T> List<Future<T>> each(Function<Loop, Future<T>> step) {
      List<Future<T>> parts = new ArrayList<>();
      for (Loop l : loops) {
        parts.add(step.apply(l));
      }
      return parts;
    }

    private Figures merge(List<Future<Figures>> parts) throws TimeoutException {
      await(Future.all(parts));
      Figures total = new Figures();
      for (Future<Figures> p : parts) {
        total.merge(p.result());
      }
      return total;
    }

    /** Like {@link #merge} but a step that outlasts the response timeout is a failure. */
    private Figures mergeBounded(List<Future<Figures>> parts, String awaited)
        throws TimeoutException {
      long limit =
          Math.min(
              deadlineNanos - System.nanoTime(),
              TimeUnit.SECONDS.toNanos(o.responseTimeoutSeconds()));
      try {
        Future.all(parts).await(Math.max(limit, 1), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        if (System.nanoTime() >= deadlineNanos) {
          throw e;
        }
        Figures f = new Figures();
        f.fail("no " + awaited + " within " + o.responseTimeoutSeconds() + " s");
        return f;
      }
      return merge(parts);
    }

    private <T> T await(Future<T> future) throws TimeoutException {
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0) {
        throw new TimeoutException();
      }
      return future.await(left, TimeUnit.NANOSECONDS);
    }

    private static void writeAtomically(Path file, String content) {
      try {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, content);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        throw new IllegalStateException("cannot write " + file + ": " + describe(e), e);
      }
    }

    /**
     * One event loop's devices. Every method that the main thread calls hops onto the loop's
     * context; all other state is touched from that event loop only.
     */
    private final class Loop extends VerticleBase {
      private final int index;
      private final List<Conn> conns = new ArrayList<>();
      private final Figures drops = new Figures();
      // methods mode: requests answered (ok) and malformed ones (failed)
      private final Figures methods = new Figures();
      // c2d mode
      private final C2dFigures c2d = new C2dFigures();
      private long ridSeq;
      // connect step
      private Figures connectFigures;
      private Promise<Figures> connectDone;
      private int nextToConnect;
      private int activeConnects;
      // subscribe and verify steps: one outstanding request per connection
      private Figures pendingFigures;
      private Promise<Figures> pendingDone;
      private int pending;
      // load step
      private Figures loadFigures;
      private Promise<Figures> loadDone;
      private boolean loading;
      private long windowStart;
      private long windowEnd;
      private long drainEnd;
      private int inFlight;
      private long checkTimer = -1;

      Loop(int index) {
        this.index = index;
      }

      void add(int device) {
        conns.add(new Conn(device));
      }

      @Override
      public Future<?> start() {
        if (o.keepAliveSeconds() > 0) {
          // [MQTT-3.1.2-23] a client sends at least one packet per keep-alive period.
          vertx.setPeriodic(o.keepAliveSeconds() * 500L, id -> pingAll());
        }
        return Future.succeededFuture();
      }

      private void pingAll() {
        for (Conn c : conns) {
          if (c.state == Conn.CONNECTED) {
            c.socket.writeMessage(MqttMessage.PINGREQ);
          }
        }
      }

      private <T> Future<T> onLoop(Promise<T> promise, Runnable action) {
        context.runOnContext(v -> action.run());
        return promise.future();
      }

      // ---- connect

      Future<Figures> connectAll(int concurrency) {
        Promise<Figures> p = Promise.promise();
        return onLoop(
            p,
            () -> {
              connectFigures = new Figures();
              connectDone = p;
              activeConnects = Math.min(concurrency, conns.size());
              if (activeConnects == 0) {
                p.complete(connectFigures);
              }
              for (int i = 0, n = activeConnects; i < n; i++) {
                connectNext();
              }
            });
      }

      private void connectNext() {
        if (nextToConnect >= conns.size()
            || abort.get()
            || connectFailures.get() >= MAX_CONNECT_FAILURES) {
          if (--activeConnects == 0) {
            connectDone.complete(connectFigures);
          }
          return;
        }
        conns.get(nextToConnect++).connect();
      }

      void connected(Conn c, String failure) {
        connectFigures.record(c.connectStart, System.nanoTime(), failure);
        if (failure != null) {
          connectFailures.incrementAndGet();
        }
        connectNext();
      }

      Future<Figures> drops() {
        Promise<Figures> p = Promise.promise();
        return onLoop(p, () -> p.complete(drops));
      }

      Future<Figures> methods() {
        Promise<Figures> p = Promise.promise();
        return onLoop(p, () -> p.complete(methods));
      }

      /** A copy of this loop's c2d figures, taken on the loop. */
      Future<C2dFigures> c2d() {
        Promise<C2dFigures> p = Promise.promise();
        return onLoop(
            p,
            () -> {
              C2dFigures copy = new C2dFigures();
              copy.add(c2d);
              p.complete(copy);
            });
      }

      // ---- subscribe and verify: one request per connection, answered once

      private void startPending(Promise<Figures> p) {
        pendingFigures = new Figures();
        pendingDone = p;
        pending = 0;
      }

      private void pendingAnswered(Conn c, String failure) {
        pendingFigures.record(c.pendingStart, System.nanoTime(), failure);
        c.pendingRid = null;
        if (--pending == 0) {
          pendingDone.complete(pendingFigures);
        }
      }

      private void finishPendingIfNone() {
        if (pending == 0) {
          pendingDone.complete(pendingFigures);
        }
      }

      Future<Figures> subscribeAll() {
        Promise<Figures> p = Promise.promise();
        return onLoop(
            p,
            () -> {
              startPending(p);
              for (Conn c : conns) {
                if (c.state == Conn.CONNECTED) {
                  pending++;
                  c.subscribe();
                }
              }
              finishPendingIfNone();
            });
      }

      Future<Figures> verify(int count) {
        Promise<Figures> p = Promise.promise();
        return onLoop(
            p,
            () -> {
              startPending(p);
              for (Conn c : conns) {
                if (pending >= count) {
                  break;
                }
                if (c.state == Conn.CONNECTED && c.lastAckedSeq > 0) {
                  pending++;
                  c.getTwin();
                }
              }
              finishPendingIfNone();
            });
      }

      // ---- load

      Future<Figures> load(long windowStart, long windowEnd) {
        Promise<Figures> p = Promise.promise();
        return onLoop(
            p,
            () -> {
              loadFigures = new Figures();
              loadDone = p;
              loading = true;
              this.windowStart = windowStart;
              this.windowEnd = windowEnd;
              this.drainEnd = windowEnd + DRAIN_NANOS;
              for (Conn c : conns) {
                if (c.state == Conn.CONNECTED) {
                  for (int slot = 0; slot < o.window(); slot++) {
                    c.send(slot);
                  }
                }
              }
              checkTimer = vertx.setPeriodic(250, id -> tick());
            });
      }

      /** Ends the window, times out late answers, and ends the step once drained. */
      private void tick() {
        long now = System.nanoTime();
        if (loading && now >= windowEnd) {
          loading = false;
        }
        long limit = now - TimeUnit.SECONDS.toNanos(o.responseTimeoutSeconds());
        for (Conn c : conns) {
          if (c.inFlight > 0) {
            for (int slot = 0; slot < o.window(); slot++) {
              if (c.sentAt[slot] != 0 && c.sentAt[slot] < limit) {
                answered(c, slot, "no answer within " + o.responseTimeoutSeconds() + " s");
              }
            }
          }
        }
        if (!loading && (inFlight == 0 || now >= drainEnd)) {
          vertx.cancelTimer(checkTimer);
          if (inFlight > 0) {
            loadFigures.fail(
                "unanswered " + TimeUnit.NANOSECONDS.toSeconds(DRAIN_NANOS) + " s after the window",
                inFlight);
          }
          loadDone.complete(loadFigures);
        }
      }

      /** Records the answer to the message in {@code slot}, and sends the next one. */
      void answered(Conn c, int slot, String failure) {
        long now = System.nanoTime();
        long sent = c.sentAt[slot];
        c.sentAt[slot] = 0;
        c.inFlight--;
        inFlight--;
        if (failure != null) {
          loadFigures.fail(failure);
          if (loadFigures.failed >= MAX_LOAD_ERRORS) {
            loading = false;
          }
        } else if (now >= windowStart && now <= windowEnd) {
          loadFigures.ok++;
          if (sent >= windowStart) {
            loadFigures.latencyMicros.recordValue((now - sent) / 1_000);
          }
        }
        if (loading && now < windowEnd && !abort.get() && c.state == Conn.CONNECTED) {
          c.send(slot);
        }
      }

      // ---- close

      Future<Figures> closeAll() {
        Promise<Figures> p = Promise.promise();
        return onLoop(
            p,
            () -> {
              List<Future<Void>> closing = new ArrayList<>();
              for (Conn c : conns) {
                if (c.socket != null && c.state != Conn.CLOSED) {
                  c.state = Conn.CLOSED;
                  c.socket.writeMessage(MqttMessage.DISCONNECT);
                  closing.add(c.socket.close());
                }
              }
              Future.join(closing).onComplete(ar -> p.complete(new Figures()));
            });
      }

      /** One device's connection. */
      private final class Conn {
        static final int IDLE = 0;
        static final int CONNECTING = 1;
        static final int CONNECTED = 2;
        static final int CLOSED = 3;

        final int device;
        final String id;
        NetSocketInternal socket;
        int state = IDLE;
        long connectStart;
        long connackTimer = -1;
        Throwable lastError;
        // load: send time per window slot (0 = free), and per slot the $rid and patch number
        long[] sentAt;
        long[] slotRid;
        long[] slotSeq;
        int inFlight;
        long seq;
        long lastAckedSeq;
        long lastC2dSeq = -1;
        // subscribe / verify
        long pendingStart;
        String pendingRid;
        byte[] bodyHead;
        byte[] bodyTail;

        Conn(int device) {
          this.device = device;
          this.id = o.deviceId(device);
        }

        void connect() {
          state = CONNECTING;
          connectStart = System.nanoTime();
          NetClient net = netClients.get(device % netClients.size());
          // The remote address spreads the devices over --connect-addresses (the kernel's search
          // for a free ephemeral port grows with the connections to one destination); the host
          // is the one TLS verifies.
          net.connect(
                  new ConnectOptions()
                      .setRemoteAddress(connectTo.get(device % connectTo.size()))
                      .setHost(target.host())
                      .setPort(target.port())
                      .setSsl(true))
              .onComplete(
                  ar -> {
                    if (ar.failed()) {
                      state = CLOSED;
                      connected(this, "TCP/TLS: " + describe(ar.cause()));
                      return;
                    }
                    onSocket((NetSocketInternal) ar.result());
                  });
        }

        private void onSocket(NetSocketInternal s) {
          socket = s;
          MqttWire.installCodec(s);
          s.messageHandler(this::onMessage);
          s.exceptionHandler(t -> lastError = t);
          s.closeHandler(v -> onClose());
          long left =
              TimeUnit.SECONDS.toNanos(o.connectTimeoutSeconds())
                  - (System.nanoTime() - connectStart);
          connackTimer =
              vertx.setTimer(
                  Math.max(1, left / 1_000_000),
                  t -> {
                    connackTimer = -1;
                    if (state == CONNECTING) {
                      failConnect("no CONNACK within " + o.connectTimeoutSeconds() + " s");
                    }
                  });
          s.writeMessage(
              MqttWire.connect(
                  target.hostName(),
                  id,
                  target.signer().password(id, expiry),
                  o.keepAliveSeconds()));
        }

        private void failConnect(String reason) {
          state = CLOSED;
          cancelConnackTimer();
          socket.close();
          connected(this, reason);
        }

        private void cancelConnackTimer() {
          if (connackTimer >= 0) {
            vertx.cancelTimer(connackTimer);
            connackTimer = -1;
          }
        }

        private void onClose() {
          int was = state;
          state = CLOSED;
          cancelConnackTimer();
          String why = lastError == null ? "" : " (" + describe(lastError) + ")";
          if (was == CONNECTING) {
            connected(this, "closed before CONNACK" + why);
          } else if (was == CONNECTED) {
            drops.fail("closed by the peer" + why);
            if (pendingRid != null) {
              pendingAnswered(this, "closed by the peer" + why);
            }
            if (sentAt != null) {
              for (int slot = 0; slot < sentAt.length; slot++) {
                if (sentAt[slot] != 0) {
                  answered(this, slot, "connection closed by the peer" + why);
                }
              }
            }
          }
        }

        private void onMessage(Object msg) {
          try {
            if (!(msg instanceof MqttMessage m)) {
              return;
            }
            if (m.decoderResult().isFailure()) {
              protocolError("undecodable packet: " + describe(m.decoderResult().cause()));
              return;
            }
            switch (m.fixedHeader().messageType()) {
              case CONNACK -> onConnack((MqttConnAckMessage) m);
              case PUBACK ->
                  onPuback(((MqttMessageIdVariableHeader) m.variableHeader()).messageId());
              case SUBACK -> onSuback((MqttSubAckMessage) m);
              case PUBLISH -> onPublish((MqttPublishMessage) m);
              default -> {
                // PINGRESP, and nothing else is expected.
              }
            }
          } finally {
            ReferenceCountUtil.release(msg);
          }
        }

        private void protocolError(String reason) {
          if (state == CONNECTING) {
            failConnect(reason);
          } else {
            lastError = new IllegalStateException(reason);
            socket.close();
          }
        }

        private void onConnack(MqttConnAckMessage m) {
          if (state != CONNECTING) {
            return;
          }
          MqttConnectReturnCode rc = m.variableHeader().connectReturnCode();
          if (rc != MqttConnectReturnCode.CONNECTION_ACCEPTED) {
            failConnect("CONNACK " + rc);
            return;
          }
          cancelConnackTimer();
          state = CONNECTED;
          connected(this, null);
        }

        // ---- subscribe, twin GET

        void subscribe() {
          pendingStart = System.nanoTime();
          pendingRid = "subscribe";
          socket.writeMessage(
              MqttWire.subscribe(
                  1,
                  List.of(
                      o.mode() == Mode.C2D
                          // QoS 1: the hub completes a message on its PUBACK.
                          ? new MqttTopicSubscription(
                              cloudToDeviceFilter(id), MqttQoS.AT_LEAST_ONCE)
                          : new MqttTopicSubscription(
                              subscriptionFilter(), MqttQoS.AT_MOST_ONCE))));
        }

        private void onSuback(MqttSubAckMessage m) {
          if (!"subscribe".equals(pendingRid)) {
            return;
          }
          List<Integer> granted = m.payload().grantedQoSLevels();
          pendingAnswered(
              this,
              granted.size() == 1 && granted.get(0) < 0x80
                  ? null
                  : "SUBACK refused the subscription: " + granted);
        }

        void getTwin() {
          pendingStart = System.nanoTime();
          pendingRid = "v" + ++ridSeq;
          socket.writeMessage(
              new MqttPublishMessage(
                  MqttWire.PUBLISH_QOS0,
                  new MqttPublishVariableHeader(TWIN_GET_TOPIC + pendingRid, 0),
                  Unpooled.EMPTY_BUFFER));
        }

        private void checkTwin(TwinResponse r, MqttPublishMessage m) {
          if (r.status() != 200) {
            pendingAnswered(this, "twin GET answered status " + r.status());
            return;
          }
          try {
            JsonObject twin = new JsonObject(m.payload().toString(UTF_8));
            JsonObject bench = twin.getJsonObject("reported").getJsonObject("bench");
            long got = bench == null ? -1 : bench.getLong("seq", -1L);
            pendingAnswered(
                this,
                got == lastAckedSeq
                    ? null
                    : id
                        + ": reported.bench is "
                        + bench
                        + ", last acknowledged seq "
                        + lastAckedSeq);
          } catch (RuntimeException e) {
            pendingAnswered(this, id + ": twin GET body unreadable: " + describe(e));
          }
        }

        // ---- load

        void send(int slot) {
          if (sentAt == null) {
            sentAt = new long[o.window()];
            if (o.mode() == Mode.REPORTED) {
              slotRid = new long[o.window()];
              slotSeq = new long[o.window()];
            } else {
              makeBodyTemplate();
            }
          }
          MqttPublishMessage msg =
              o.mode() == Mode.TELEMETRY ? telemetryMessage(slot) : patchMessage(slot);
          sentAt[slot] = System.nanoTime();
          inFlight++;
          Loop.this.inFlight++;
          socket.writeMessage(msg);
        }

        /**
         * A telemetry body of about {@code --body-bytes}: {@code
         * {"deviceId":..,"seq":..,"temperature":..,"humidity":..,"status":"ok","pad":".."}}.
         */
        private void makeBodyTemplate() {
          bodyHead = ("{\"deviceId\":\"" + id + "\",\"seq\":").getBytes(US_ASCII);
          String tail = ",\"temperature\":21.75,\"humidity\":48.25,\"status\":\"ok\",\"pad\":\"";
          int pad = Math.max(0, o.bodyBytes() - bodyHead.length - 7 - tail.length() - 2);
          bodyTail = (tail + "x".repeat(pad) + "\"}").getBytes(US_ASCII);
        }

        private MqttPublishMessage telemetryMessage(int slot) {
          String n = Long.toString(++seq);
          ByteBuf body =
              socket
                  .channelHandlerContext()
                  .alloc()
                  .buffer(bodyHead.length + n.length() + bodyTail.length);
          body.writeBytes(bodyHead);
          ByteBufUtil.writeAscii(body, n);
          body.writeBytes(bodyTail);
          // Packet id = slot + 1: reusable once its PUBACK came back.
          return new MqttPublishMessage(
              MqttWire.PUBLISH_QOS1,
              new MqttPublishVariableHeader(telemetryTopic(id), slot + 1),
              body);
        }

        private MqttPublishMessage patchMessage(int slot) {
          long rid = ++ridSeq;
          slotRid[slot] = rid;
          slotSeq[slot] = ++seq;
          ByteBuf body = socket.channelHandlerContext().alloc().buffer(48);
          ByteBufUtil.writeAscii(
              body, "{\"bench\":{\"seq\":" + seq + ",\"ts\":" + System.currentTimeMillis() + "}}");
          return new MqttPublishMessage(
              MqttWire.PUBLISH_QOS0,
              new MqttPublishVariableHeader(REPORTED_PATCH_TOPIC + rid, 0),
              body);
        }

        private void onPuback(int packetId) {
          int slot = packetId - 1;
          if (o.mode() != Mode.TELEMETRY
              || sentAt == null
              || slot < 0
              || slot >= sentAt.length
              || sentAt[slot] == 0) {
            if (loadFigures != null) {
              loadFigures.fail("PUBACK for packet id " + packetId + " not in flight");
            }
            return;
          }
          answered(this, slot, null);
        }

        private void onPublish(MqttPublishMessage m) {
          String topic = m.variableHeader().topicName();
          if (o.mode() == Mode.METHODS) {
            answerMethod(topic, m);
            return;
          }
          if (o.mode() == Mode.C2D) {
            receiveC2d(topic, m);
            return;
          }
          TwinResponse r = TwinResponse.parse(topic);
          if (r == null) {
            if (loadFigures != null) {
              loadFigures.fail("unexpected PUBLISH topic " + topic);
            }
            return;
          }
          if (r.rid().equals(pendingRid)) {
            checkTwin(r, m);
            return;
          }
          int slot = -1;
          if (slotRid != null) {
            for (int i = 0; i < slotRid.length; i++) {
              if (sentAt[i] != 0 && Long.toString(slotRid[i]).equals(r.rid())) {
                slot = i;
                break;
              }
            }
          }
          if (slot < 0) {
            if (loadFigures != null) {
              loadFigures.fail("twin response for a $rid not in flight");
            }
            return;
          }
          if (r.status() == 204) {
            lastAckedSeq = Math.max(lastAckedSeq, slotSeq[slot]);
            answered(this, slot, null);
          } else {
            answered(this, slot, "status " + r.status());
          }
        }

        /**
         * PUBACKs a cloud-to-device message at once, then counts it: its latency from the sender's
         * {@code t} when it arrived inside the sender's window, and whether it came in order.
         */
        private void receiveC2d(String topic, MqttPublishMessage m) {
          long now = epochMicros();
          int packetId = m.variableHeader().packetId();
          if (packetId > 0) {
            socket.writeMessage(MqttWire.puback(packetId));
          }
          c2d.received++;
          C2dDelivery d = C2dDelivery.parse(topic);
          if (d == null) {
            c2d.malformed.fail("no numeric message id and t: " + topic);
            return;
          }
          if (d.n() % o.devices() != device) {
            c2d.malformed.fail("message for another device: " + topic);
            return;
          }
          long seq = d.n() / o.devices();
          if (seq == lastC2dSeq) {
            c2d.duplicates++;
          } else if (seq < lastC2dSeq) {
            c2d.outOfOrder++;
          }
          lastC2dSeq = Math.max(lastC2dSeq, seq);
          if (now >= windowStartMicros && now <= windowEndMicros) {
            c2d.inWindow++;
            c2d.latencyMicros.recordValue(Math.max(0, now - d.sentMicros()));
          }
        }

        /** Answers a direct method at once: status 200, the request's payload echoed. */
        private void answerMethod(String topic, MqttPublishMessage m) {
          MethodRequest r = MethodRequest.parse(topic);
          if (r == null) {
            methods.fail("not a method request: " + topic);
            return;
          }
          methods.ok++;
          socket.writeMessage(
              new MqttPublishMessage(
                  MqttWire.PUBLISH_QOS0,
                  new MqttPublishVariableHeader(r.responseTopic(200), 0),
                  m.payload().retainedDuplicate()));
        }
      }
    }
  }
}
