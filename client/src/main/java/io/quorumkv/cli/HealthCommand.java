package io.quorumkv.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.quorumkv.client.KvClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code kv health}: each endpoint's {@code /health/ready}; exit 0 only when every one is ready. */
@Command(name = "health", mixinStandardHelpOptions = true, versionProvider = ClientVersion.class, sortOptions = false,
    description = {"Whether each endpoint is ready to serve: its incarnation is ready, its clock not fenced,",
        "and a write quorum reachable. Exit 0 when every endpoint is ready, else 1."})
final class HealthCommand extends ReplicaCommand implements Callable<Integer> {

  private static final String READY = "/health/ready";

  @Override
  public Integer call() {
    List<Survey.Reply> replies = survey(List.of(READY));
    boolean allReady = true;
    List<List<String>> rows = new ArrayList<>(List.of(List.of("ENDPOINT", "HEALTH", "REASONS")));
    List<Map<String, Object>> objects = new ArrayList<>();
    for (Survey.Reply reply : replies) {
      String health;
      List<String> reasons = new ArrayList<>();
      if (!reply.reachable()) {
        health = "unreachable";
        reasons.add(reply.error());
      } else {
        KvClient.JsonAnswer answer = reply.answers().get(READY);
        health = answer.status() == 200 ? "ready" : "not-ready";
        for (JsonNode reason : answer.body().path("reasons")) {
          reasons.add(reason.asText());
        }
        if (answer.status() != 200 && reasons.isEmpty()) {
          reasons.add("answered " + answer.status());
        }
      }
      allReady &= health.equals("ready");
      rows.add(List.of(reply.endpoint().toString(), health, String.join("; ", reasons)));
      objects.add(Output.object("endpoint", reply.endpoint().toString(), "health", health, "reasons", reasons));
    }
    kv.out.print(output.json() ? Output.toJson(objects) + "\n" : Survey.table(rows));
    return allReady ? ExitStatus.OK : ExitStatus.ERROR;
  }
}
