package io.quorumkv.cli;

import io.quorumkv.client.Bench;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Unmatched;

/** {@code kv bench}: the load generator (docs/benchmarks.md), with its own options. */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = ClientVersion.class,
    description = "Load: closed- or open-loop requests over every endpoint; prints throughput and latency.")
final class BenchCommand implements Callable<Integer> {

  @ParentCommand
  Kv kv;

  @Mixin
  Output output;

  @Unmatched
  List<String> args;

  @Override
  public Integer call() throws IOException {
    Bench.Options options;
    try {
      options = Bench.parse(PassThrough.split(args), kv.environment);
    } catch (IllegalArgumentException e) {
      throw new UsageException("bench: " + e.getMessage());
    }
    // -w json: the progress lines go to stderr and the results, as --json writes them, to stdout.
    Path results = options.json();
    boolean temporary = output.json() && results == null;
    if (temporary) {
      results = Files.createTempFile("kv-bench", ".json");
      options = options.withJson(results);
    }
    try (ClientSession session = new ClientSession("quorumkv-bench")) {
      long failed = new Bench(session.system, options, output.json() ? kv.err : kv.out).run();
      if (output.json()) {
        kv.out.println(Output.toJson(new com.fasterxml.jackson.databind.ObjectMapper().readTree(results.toFile())));
        if (temporary) {
          Files.deleteIfExists(results);
        }
      }
      if (failed > 0) {
        kv.err.println("kv: bench: " + failed + " requests failed");
        return ExitStatus.ERROR;
      }
      return ExitStatus.OK;
    } catch (RuntimeException | IOException e) {
      kv.err.println("kv: bench failed: " + e.getMessage());
      return ExitStatus.ERROR;
    }
  }
}
