package io.quorumkv.cli;

import io.quorumkv.client.FailoverClient;
import io.quorumkv.client.KvClient;
import io.quorumkv.client.KvException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kv get KEY [-o FILE]}. */
@Command(name = "get", mixinStandardHelpOptions = true, versionProvider = ClientVersion.class, sortOptions = false,
    description = {"Read a value (a quorum read by default: the newest acknowledged write).",
        "Text output is the value's bytes exactly, nothing added; JSON carries it as base64."})
final class GetCommand extends RequestCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "KEY")
  String key;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the value to FILE instead.")
  Path file;

  @Override
  public Integer call() throws IOException {
    FailoverClient.Answered<Optional<KvClient.Entry>> answer;
    try {
      answer = send(client -> client.read(replica -> replica.get(key, consistency)));
    } catch (KvException failure) {
      return failed("get", key, failure, ExitStatus.ofRead(failure));
    }
    if (answer.value().isEmpty()) {
      kv.err.println("kv: get " + key + ": not found");
      if (output.json()) {
        kv.out.println(Output.toJson(Output.object("key", key, "outcome", "not-found")));
      }
      return ExitStatus.NOT_FOUND;
    }
    KvClient.Entry entry = answer.value().get();
    if (file != null) {
      Files.write(file, entry.value());
    }
    if (output.json()) {
      Map<String, Object> body = Output.object("key", key, "version", entry.version());
      entry.expiresAt().ifPresent(expiresAt -> body.put("expiresAt", expiresAt.toString()));
      if (file == null) {
        body.put("value", Base64.getEncoder().encodeToString(entry.value()));
      } else {
        body.put("file", file.toString());
      }
      body.put("outcome", "ok");
      body.put("endpoint", answer.endpoint().toString());
      kv.out.println(Output.toJson(body));
    } else if (file == null) {
      kv.out.write(entry.value());
      kv.out.flush();
    }
    return ExitStatus.OK;
  }
}
