package io.herd.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;

@Command(
    name = "stats",
    description =
        "Registry and service statistics: total, enabled, disabled and connected devices"
            + " (/statistics/devices and /statistics/service).")
final class StatsCommand extends HubCommand {
  @Override
  public Integer call() {
    JsonObject stats = hub().get("/statistics/devices").copy();
    stats.mergeIn(hub().get("/statistics/service"));
    output().object(stats);
    return HerdCli.OK;
  }
}
