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

  /**
   * Connections per replica for this run: about the requests in flight at each (they go to a
   * random replica each), with room for the spread. akka-http's pool opens a connection for every
   * waiting request up to its maximum; over TLS each is a handshake, and a pool allowed far more
   * connections than requests in flight spent a run handshaking (kv bench write=100 at 64: 895
   * ops/s with 128 per replica, 1,120 with 24, in one sitting).
   */
  static com.typesafe.config.Config poolFor(Bench.Options options) {
    int nodes = Math.max(1, options.nodes().size());
    int perNode = Math.min(options.concurrency(), (int) Math.ceil(options.concurrency() * 1.5 / nodes) + 4);
    return com.typesafe.config.ConfigFactory.parseString(
        "akka.http.host-connection-pool.max-connections = " + perNode);
  }

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
    try (ClientSession session = new ClientSession("quorumkv-bench", poolFor(options))) {
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
