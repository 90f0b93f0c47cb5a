package io.herd.cli;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "c2d",
    description = "Cloud-to-device messages: send, read feedback, purge a queue.",
    subcommands = {C2dCommand.Send.class, C2dCommand.Feedback.class, C2dCommand.Purge.class})
final class C2dCommand {
  private C2dCommand() {}

  @Command(
      name = "send",
      description = {
        "Queues a message for a device (POST /devices/{id}/messages/deviceBound).",
        "Example: herd c2d send dev1 reboot --property priority=high --ack full"
      })
  static final class Send extends HubCommand {
    @Parameters(index = "0", paramLabel = "DEVICE")
    String deviceId;

    @Parameters(index = "1", arity = "0..1", paramLabel = "DATA", description = "The body text.")
    String data;

    @Option(
        names = "--file",
        paramLabel = "FILE",
        description = "Send this file's bytes as the body instead.")
    Path file;

    @Option(names = "--property", paramLabel = "KEY=VALUE", description = "Application property.")
    Map<String, String> properties = new LinkedHashMap<>();

    @Option(names = "--message-id", paramLabel = "ID")
    String messageId;

    @Option(names = "--correlation-id", paramLabel = "ID")
    String correlationId;

    @Option(
        names = "--ack",
        paramLabel = "MODE",
        description = "Feedback: none (default), positive, negative or full.")
    String ack;

    @Option(
        names = "--expiry",
        paramLabel = "TIME",
        description = "Expiry, ISO-8601 (e.g. 2026-12-01T12:00:00Z); default one hour.")
    String expiry;

    @Option(names = "--content-type", paramLabel = "TYPE")
    String contentType;

    @Option(names = "--content-encoding", paramLabel = "ENC")
    String contentEncoding;

    @Override
    public Integer call() throws IOException {
      if (data != null && file != null) {
        throw usage("give DATA or --file, not both");
      }
      JsonObject body = new JsonObject();
      if (file != null) {
        if (!Files.isRegularFile(file)) {
          throw usage("no such file: " + file);
        }
        byte[] bytes = Files.readAllBytes(file);
        String text = utf8(bytes);
        if (text != null) {
          body.put("data", text);
        } else {
          body.put("data", Base64.getEncoder().encodeToString(bytes)).put("dataEncoding", "base64");
        }
      } else {
        body.put("data", data == null ? "" : data);
      }
      if (!properties.isEmpty()) {
        JsonObject p = new JsonObject();
        properties.forEach(p::put);
        body.put("properties", p);
      }
      if (ack != null) {
        String a = ack.toLowerCase(Locale.ROOT);
        if (!a.equals("none")
            && !a.equals("positive")
            && !a.equals("negative")
            && !a.equals("full")) {
          throw usage("--ack must be none, positive, negative or full, got '" + ack + "'");
        }
        body.put("ack", a);
      }
      if (expiry != null) {
        try {
          OffsetDateTime.parse(expiry);
        } catch (DateTimeParseException e) {
          throw usage("--expiry must be an ISO-8601 time such as 2026-12-01T12:00:00Z");
        }
        body.put("expiryTimeUtc", expiry);
      }
      putIf(body, "messageId", messageId);
      putIf(body, "correlationId", correlationId);
      putIf(body, "contentType", contentType);
      putIf(body, "contentEncoding", contentEncoding);
      output()
          .object(
              hub()
                  .call("POST", "/devices/" + id(deviceId) + "/messages/deviceBound")
                  .body(body)
                  .send()
                  .object());
      return HerdCli.OK;
    }

    private static void putIf(JsonObject o, String field, String value) {
      if (value != null) {
        o.put(field, value);
      }
    }

    private static String utf8(byte[] bytes) {
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(java.nio.ByteBuffer.wrap(bytes))
            .toString();
      } catch (CharacterCodingException e) {
        return null;
      }
    }
  }

  @Command(
      name = "feedback",
      description = "Takes (and removes) delivery feedback records, oldest first.")
  static final class Feedback extends HubCommand {
    @Option(
        names = "--max",
        paramLabel = "N",
        defaultValue = "64",
        description = "At most N records (1-1000, default 64).")
    int max;

    @Override
    public Integer call() {
      if (max < 1 || max > 1000) {
        throw usage("--max must be 1..1000, got " + max);
      }
      Output.Rows rows = output().rows();
      rows.page(
          hub().call("GET", "/messages/serviceBound/feedback").query("max", max).send().array(),
          null);
      rows.end();
      return HerdCli.OK;
    }
  }

  @Command(name = "purge", description = "Deletes every message queued for a device.")
  static final class Purge extends HubCommand {
    @Parameters(paramLabel = "DEVICE")
    String deviceId;

    @Override
    public Integer call() {
      output()
          .object(hub().call("DELETE", "/devices/" + id(deviceId) + "/commands").send().object());
      return HerdCli.OK;
    }
  }
}
