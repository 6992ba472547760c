package io.quorumkv.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code kv version}: this client's build, and each endpoint's when endpoints are known. */
@Command(name = "version", mixinStandardHelpOptions = true, versionProvider = ClientVersion.class, sortOptions = false,
    description = {"This client's version and, when endpoints are given (or found in the environment),",
        "each replica's version, commit and replica protocol. Exit 1 if an endpoint did not answer."})
final class VersionCommand extends ReplicaCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    List<Survey.Reply> replies = List.of();
    boolean anyEndpoints = true;
    try {
      endpoints.resolve(kv.environment);
    } catch (UsageException e) {
      anyEndpoints = false; // the client's own version needs none
    }
    if (anyEndpoints) {
      replies = survey(List.of("/version"));
    }
    List<List<String>> rows = new ArrayList<>(List.of(List.of("WHO", "VERSION"), List.of("client", ClientVersion.describe())));
    List<Map<String, Object>> objects = new ArrayList<>(List.of(Output.object("client", ClientVersion.describe())));
    boolean allAnswered = true;
    for (Survey.Reply reply : replies) {
      if (!reply.reachable()) {
        allAnswered = false;
        rows.add(List.of(reply.endpoint().toString(), "unreachable: " + reply.error()));
        objects.add(Output.object("endpoint", reply.endpoint().toString(), "error", reply.error()));
        continue;
      }
      JsonNode version = reply.answers().get("/version").body();
      rows.add(List.of(reply.endpoint().toString(), "quorumkv " + version.path("version").asText("?") + " (commit "
          + version.path("commit").asText("?") + ", wire " + version.path("wire").asText("?") + ")"));
      objects.add(Output.object("endpoint", reply.endpoint().toString(), "version", version.path("version").asText(),
          "commit", version.path("commit").asText(), "wire", version.path("wire").asText()));
    }
    kv.out.print(output.json() ? Output.toJson(objects) + "\n" : Survey.table(rows));
    return allAnswered ? ExitStatus.OK : ExitStatus.ERROR;
  }
}
