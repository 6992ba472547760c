package io.quorumkv.cli;

import io.quorumkv.client.Consistency;
import io.quorumkv.client.FailoverClient;
import io.quorumkv.client.KvException;
import io.quorumkv.client.NodeAddress;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import picocli.CommandLine.Option;

/** What {@code put}, {@code get} and {@code delete} share besides {@link ReplicaCommand}: consistency, failover, failure reports. */
abstract class RequestCommand extends ReplicaCommand {

  @Option(names = "--consistency", paramLabel = "LEVEL", defaultValue = "quorum",
      description = "one, quorum or all (default: ${DEFAULT-VALUE}).")
  Consistency consistency;

  /** Runs {@code request} on a session's client for this command's endpoints; the failure, unwrapped, is thrown. */
  <T> T send(java.util.function.Function<FailoverClient, CompletionStage<T>> request) {
    List<NodeAddress> nodes = endpoints.resolve(kv.environment);
    try (ClientSession session = new ClientSession("quorumkv-client")) {
      FailoverClient client = new FailoverClient(session.system, nodes, endpoints.timeout,
          endpoints.credentials(kv.environment));
      return request.apply(client).toCompletableFuture().join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof KvException known ? known : e;
    }
  }

  /** Reports a failed request on stderr (and as JSON on stdout with {@code -w json}); returns the exit status. */
  int failed(String command, String key, KvException failure, int status) {
    String reason = status == ExitStatus.INDETERMINATE
        ? "outcome unknown, the write may or may not have been applied: " + failure.getMessage()
        : failure.getMessage();
    kv.err.println("kv: " + command + " " + key + ": " + reason);
    if (output.json()) {
      kv.out.println(Output.toJson(Output.object("key", key, "outcome", ExitStatus.outcome(status),
          "error", failure.getMessage())));
    }
    return status;
  }
}
