package io.quorumkv.cli;

import io.quorumkv.client.FailoverClient;
import io.quorumkv.client.KvClient;
import io.quorumkv.client.KvException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code kv delete KEY}. */
@Command(name = "delete", mixinStandardHelpOptions = true, versionProvider = ClientVersion.class, sortOptions = false,
    description = "Delete a key (a tombstone, acknowledged once a write quorum holds it).")
final class DeleteCommand extends RequestCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "KEY")
  String key;

  @picocli.CommandLine.Option(names = "--if-match", paramLabel = "VERSION",
      description = "Delete only if the key's current version is VERSION; else exit status 5.")
  String ifMatch;

  @Override
  public Integer call() {
    try {
      FailoverClient.Answered<KvClient.Written> deleted = send(client -> client.write(
          replica -> ifMatch != null ? replica.deleteIfMatch(key, ifMatch, consistency)
              : replica.delete(key, consistency)));
      if (output.json()) {
        kv.out.println(Output.toJson(Output.object("key", key, "version", deleted.value().version(),
            "outcome", "deleted", "endpoint", deleted.endpoint().toString())));
      } else {
        kv.out.println("deleted version " + deleted.value().version());
      }
      return ExitStatus.OK;
    } catch (KvException failure) {
      return failed("delete", key, failure, ExitStatus.ofWrite(failure));
    }
  }
}
