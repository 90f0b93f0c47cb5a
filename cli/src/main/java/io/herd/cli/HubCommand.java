package io.herd.cli;

import io.herd.core.PercentEncoding;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** A leaf command: reaches the hub, the output and the usage-error helpers of this run. */
abstract class HubCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  final HerdCli cli() {
    return (HerdCli) spec.root().userObject();
  }

  final HubClient hub() {
    return cli().client();
  }

  final Output output() {
    return cli().output();
  }

  /** A usage error (exit 2) of this command. */
  final ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  /** The JSON text of an option, which must be an object. */
  final JsonObject jsonObject(String option, String text) {
    if (text == null) {
      return null;
    }
    if (jsonValue(option, text) instanceof JsonObject o) {
      return o;
    }
    throw usage(option + " must be a JSON object, e.g. '{\"a\":1}', got: " + text);
  }

  /** The JSON text of an option: any JSON value. */
  final Object jsonValue(String option, String text) {
    try {
      return Json.decodeValue(text);
    } catch (DecodeException e) {
      throw usage(option + " is not valid JSON (" + e.getMessage() + "): " + text);
    }
  }

  /** Percent-encodes an id for a path. */
  static String id(String id) {
    return PercentEncoding.unreserved(id);
  }
}
