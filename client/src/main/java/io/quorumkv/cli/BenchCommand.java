package io.quorumkv.cli;

import io.quorumkv.client.Bench;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Unmatched;

/** {@code kv bench}: the load generator (docs/benchmarks.md), with its own options. */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = ClientVersion.class,
    description = "Load: closed- or open-loop requests over every endpoint; prints throughput and latency.")
final class BenchCommand implements Callable<Integer> {

  @ParentCommand
  Kv kv;

  @Unmatched
  List<String> args;

  @Override
  public Integer call() {
    Bench.Options options;
    try {
      options = Bench.parse(PassThrough.split(args), kv.environment);
    } catch (IllegalArgumentException e) {
      throw new UsageException("bench: " + e.getMessage());
    }
    try (ClientSession session = new ClientSession("quorumkv-bench")) {
      long failed = new Bench(session.system, options, kv.out).run();
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
