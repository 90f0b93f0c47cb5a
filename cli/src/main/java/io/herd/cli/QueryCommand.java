package io.herd.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(
    name = "query",
    description = {
      "Runs an IoT Hub query and prints every page (following x-ms-continuation).",
      "Twins print as deviceId, status, connection, tags and properties; other rows with their"
          + " own fields.",
      "Example: herd query \"SELECT * FROM devices WHERE tags.site = 'b1'\" -o csv"
    })
final class QueryCommand extends HubCommand {
  @Parameters(
      index = "0",
      paramLabel = "QUERY",
      description = "SELECT ... FROM devices | devices.modules | devices.jobs [WHERE ...]")
  String sql;

  @Mixin Options.Paged paged;

  @Override
  public Integer call() {
    paged.check(this);
    if (sql.isBlank()) {
      throw usage("the query is empty");
    }
    HubClient hub = hub();
    Paging.all((size, token) -> hub.query(sql, size, token), paged, output().rows());
    return HerdCli.OK;
  }
}
