package io.herd.cli;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "method", description = "Direct methods.", subcommands = MethodCommand.Invoke.class)
final class MethodCommand {
  private MethodCommand() {}

  @Command(
      name = "invoke",
      description = {
        "Calls a direct method on a connected device and prints its answer {status, payload}.",
        "Example: herd method invoke dev1 reboot --payload '{\"delay\":5}' --timeout 30"
      })
  static final class Invoke extends HubCommand {
    @Parameters(index = "0", paramLabel = "DEVICE")
    String deviceId;

    @Parameters(index = "1", paramLabel = "NAME")
    String methodName;

    @Option(names = "--module", paramLabel = "MODULE")
    String moduleId;

    @Mixin Options.MethodCall call;

    @Override
    public Integer call() {
      JsonObject body = call.body(this, methodName);
      output()
          .object(
              hub()
                  .call("POST", TwinCommand.path(deviceId, moduleId) + "/methods")
                  .body(body)
                  .timeout(Duration.ofSeconds(call.timeout + call.connectTimeout + 30L))
                  .send()
                  .object());
      return HerdCli.OK;
    }
  }
}
