package io.quorumkv.cli;

import io.quorumkv.client.KvClient;
import io.quorumkv.client.NodeAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kv snapshot}: {@code POST /admin/snapshot} on every endpoint. */
@Command(name = "snapshot", mixinStandardHelpOptions = true, versionProvider = ClientVersion.class, sortOptions = false,
    description = {"Takes a snapshot of every endpoint's data directory (a RocksDB checkpoint, on the replica's",
        "own disk, in its storage.snapshot-dir). Exit 0 when every endpoint took one, else 1.",
        "Restoring: docs/operating.md, \"Backup and restore\"."})
final class SnapshotCommand extends ReplicaCommand implements Callable<Integer> {

  @Option(names = "--name", paramLabel = "NAME",
      description = "The snapshot's name on every replica (default: <node id>-<UTC time>).")
  String name;

  @Option(names = "--cluster-secret", paramLabel = "SECRET",
      description = "The replicas' cluster secret, when they have one (environment: QUORUMKV_CLUSTER_SECRET).")
  String clusterSecret;

  @Override
  public Integer call() {
    String secret = clusterSecret != null ? clusterSecret : kv.environment.getOrDefault("QUORUMKV_CLUSTER_SECRET", "");
    List<NodeAddress> nodes = endpoints.resolve(kv.environment);
    String path = "/admin/snapshot" + (name == null ? "" : "?name=" + URLEncoder.encode(name, StandardCharsets.UTF_8));
    List<List<String>> rows = new ArrayList<>(List.of(List.of("ENDPOINT", "SNAPSHOT", "PATH", "SIZE")));
    List<Map<String, Object>> objects = new ArrayList<>();
    boolean allTaken = true;
    io.quorumkv.client.Credentials credentials = endpoints.credentials(kv.environment);
    try (ClientSession session = new ClientSession("quorumkv-client")) {
      List<CompletableFuture<KvClient.JsonAnswer>> answers = nodes.stream()
          .map(node -> new KvClient(session.system, node, endpoints.timeout, credentials).postJson(path, secret)
              .toCompletableFuture())
          .toList();
      for (int i = 0; i < nodes.size(); i++) {
        String endpoint = nodes.get(i).toString();
        try {
          KvClient.JsonAnswer answer = answers.get(i).join();
          if (answer.status() == 200) {
            rows.add(List.of(endpoint, answer.body().path("name").asText(), answer.body().path("path").asText(),
                StatusCommand.bytes(answer.body().path("bytes").asLong())));
            objects.add(Output.object("endpoint", endpoint, "outcome", "ok", "name", answer.body().path("name").asText(),
                "path", answer.body().path("path").asText(), "bytes", answer.body().path("bytes").asLong()));
            continue;
          }
          allTaken = false;
          String error = answer.status() + ": " + answer.body().path("error").asText();
          rows.add(List.of(endpoint, "failed", error, "-"));
          objects.add(Output.object("endpoint", endpoint, "outcome", "error", "error", error));
        } catch (CompletionException e) {
          allTaken = false;
          String error = e.getCause() == null ? e.getMessage() : e.getCause().getMessage();
          rows.add(List.of(endpoint, "unreachable", error, "-"));
          objects.add(Output.object("endpoint", endpoint, "outcome", "error", "error", error));
        }
      }
    }
    kv.out.print(output.json() ? Output.toJson(objects) + "\n" : Survey.table(rows));
    return allTaken ? ExitStatus.OK : ExitStatus.ERROR;
  }
}
