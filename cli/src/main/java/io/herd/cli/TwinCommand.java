package io.herd.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "twin",
    description = "Device and module twins: show, patch tags and desired properties.",
    subcommands = {TwinCommand.Show.class, TwinCommand.Patch.class})
final class TwinCommand {
  private TwinCommand() {}

  static String path(String deviceId, String moduleId) {
    return "/twins/"
        + HubCommand.id(deviceId)
        + (moduleId == null ? "" : "/modules/" + HubCommand.id(moduleId));
  }

  @Command(name = "show", description = "Shows a twin.")
  static final class Show extends HubCommand {
    @Parameters(paramLabel = "DEVICE")
    String deviceId;

    @Option(names = "--module", paramLabel = "MODULE")
    String moduleId;

    @Override
    public Integer call() {
      output().object(hub().get(path(deviceId, moduleId)));
      return HerdCli.OK;
    }
  }

  @Command(
      name = "patch",
      description = {
        "Merges tags and desired properties into a twin (null removes a key) and shows the result.",
        "Example: herd twin patch dev1 --tags '{\"site\":\"b1\"}' --desired '{\"fw\":\"1.2\"}'"
      })
  static final class Patch extends HubCommand {
    @Parameters(paramLabel = "DEVICE")
    String deviceId;

    @Option(names = "--module", paramLabel = "MODULE")
    String moduleId;

    @Mixin Options.TwinChange change;

    @Option(
        names = "--etag",
        paramLabel = "ETAG",
        description = "Patch only if the twin still has this etag (default: any).")
    String etag;

    @Override
    public Integer call() {
      JsonObject body = change.patch(this);
      output()
          .object(
              hub()
                  .call("PATCH", path(deviceId, moduleId))
                  .ifMatch(etag == null ? "*" : etag)
                  .body(body)
                  .send()
                  .object());
      return HerdCli.OK;
    }
  }
}
