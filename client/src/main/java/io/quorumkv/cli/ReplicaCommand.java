package io.quorumkv.cli;

import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

/** What every command that talks to replicas shares: the launcher, the endpoints (and token), the output format. */
abstract class ReplicaCommand {

  @ParentCommand
  Kv kv;

  @Mixin
  Endpoints endpoints;

  @Mixin
  Output output;

  /** Asks every endpoint {@code paths} at once (no failover), on a session of its own. */
  List<Survey.Reply> survey(List<String> paths) {
    try (ClientSession session = new ClientSession("quorumkv-client")) {
      return Survey.ask(session.system, endpoints.resolve(kv.environment), endpoints.timeout,
          endpoints.credentials(kv.environment), paths);
    }
  }
}
