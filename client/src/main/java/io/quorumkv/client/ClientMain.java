package io.quorumkv.client;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.ConfigFactory;
import io.quorumkv.torture.Torture;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * The client launcher. Without arguments it runs the mission {@link Scenario}; with a command
 * it performs one request:
 * <pre>
 *   quorumkv-client put KEY VALUE [--node HOST:PORT] [--consistency one|quorum|all] [--timeout 5s]
 *   quorumkv-client get KEY       [...]
 *   quorumkv-client delete KEY    [...]
 * </pre>
 * Exit status: 0 success, 1 the request or scenario failed (one-line reason on stderr),
 * 2 bad usage, 4 {@code get} found nothing.
 */
public final class ClientMain {

  static final int EXIT_OK = 0;
  static final int EXIT_FAILED = 1;
  static final int EXIT_USAGE = 2;
  static final int EXIT_NOT_FOUND = 4;

  private static final String USAGE = String.join("\n",
      "usage: quorumkv-client                         run the scenario against PEER_PEER0..2_HOST/PORT",
      "       quorumkv-client [--wait 60s]",
      "       quorumkv-client put KEY VALUE [options]",
      "       quorumkv-client get KEY [options]",
      "       quorumkv-client delete KEY [options]",
      "       quorumkv-client bench [options]       (bench --help for its options)",
      "       quorumkv-client torture [options]     (fault injection + linearizability check; torture --help)",
      "options: --node HOST:PORT (default: PEER_PEER0_HOST/PORT), --consistency one|quorum|all,",
      "         --timeout DURATION (per request, default 5s), --wait DURATION (scenario, default 60s)");

  private ClientMain() {}

  public static void main(String[] args) {
    CommonPoolFix.apply();
    // Initialise logging before Akka's threads start logging concurrently.
    org.slf4j.LoggerFactory.getILoggerFactory();
    System.exit(run(args, System.getenv(), Path.of("."), System.out, System.err));
  }

  static int run(String[] args, Map<String, String> environment, Path directory, PrintStream out, PrintStream err) {
    if (args.length > 0 && args[0].equals("torture")) {
      return Torture.run(List.of(args).subList(1, args.length), out, err);
    }
    if (args.length > 0 && args[0].equals("bench")) {
      return runBench(List.of(args).subList(1, args.length), environment, out, err);
    }
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      err.println("quorumkv-client: " + e.getMessage());
      err.println(USAGE);
      return EXIT_USAGE;
    }
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "quorumkv-client",
        ConfigFactory.load("quorumkv-client"));
    try {
      return options.command().isEmpty()
          ? runScenario(system, options, environment, directory, out, err)
          : runCommand(system, options, environment, out, err);
    } finally {
      terminate(system);
    }
  }

  private static int runBench(List<String> args, Map<String, String> environment, PrintStream out, PrintStream err) {
    Bench.Options options;
    try {
      options = Bench.parse(args, environment);
    } catch (IllegalArgumentException e) {
      err.println("quorumkv-client: " + e.getMessage());
      err.println(Bench.USAGE);
      return EXIT_USAGE;
    }
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "quorumkv-bench",
        ConfigFactory.load("quorumkv-client"));
    try {
      long failed = new Bench(system, options, out).run();
      if (failed > 0) {
        err.println("quorumkv-client: bench: " + failed + " requests failed");
        return EXIT_FAILED;
      }
      return EXIT_OK;
    } catch (RuntimeException | java.io.IOException e) {
      err.println("quorumkv-client: bench failed: " + e.getMessage());
      return EXIT_FAILED;
    } finally {
      terminate(system);
    }
  }

  private static void terminate(ActorSystem<Void> system) {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // Exiting anyway: nothing of the client outlives the process.
    }
  }

  private static int runScenario(
      ActorSystem<Void> system, Options options, Map<String, String> environment, Path directory,
      PrintStream out, PrintStream err) {
    try {
      new Scenario(system, environment, options.scenarioWait(), options.timeout(), out).run(directory);
      return EXIT_OK;
    } catch (Scenario.ScenarioFailed e) {
      err.println("quorumkv-client: scenario failed: " + e.getMessage());
      return EXIT_FAILED;
    }
  }

  private static int runCommand(
      ActorSystem<Void> system, Options options, Map<String, String> environment, PrintStream out, PrintStream err) {
    KvClient client;
    try {
      NodeAddress node = options.node().isPresent()
          ? options.node().get()
          : NodeAddress.fromEnvironment(environment, "peer0");
      client = new KvClient(system, node, options.timeout());
    } catch (IllegalArgumentException e) {
      err.println("quorumkv-client: " + e.getMessage() + " (or pass --node HOST:PORT)");
      return EXIT_USAGE;
    }
    List<String> words = options.command();
    String key = words.get(1);
    try {
      switch (words.get(0)) {
        case "put" -> {
          KvClient.Written written = client.put(key, words.get(2).getBytes(StandardCharsets.UTF_8),
              options.consistency()).toCompletableFuture().join();
          out.println("ok version " + written.version());
        }
        case "delete" -> {
          KvClient.Written written = client.delete(key, options.consistency()).toCompletableFuture().join();
          out.println("deleted version " + written.version());
        }
        default -> {
          Optional<KvClient.Entry> entry = client.get(key, options.consistency()).toCompletableFuture().join();
          if (entry.isEmpty()) {
            err.println("quorumkv-client: not found: " + key);
            return EXIT_NOT_FOUND;
          }
          out.println(entry.get().valueAsUtf8());
        }
      }
      return EXIT_OK;
    } catch (CompletionException e) {
      err.println("quorumkv-client: " + words.get(0) + " " + key + " failed: "
          + (e.getCause() == null ? e.getMessage() : e.getCause().getMessage()));
      return EXIT_FAILED;
    }
  }

  /** The parsed command line. {@code command} is empty for the scenario. */
  record Options(List<String> command, Optional<NodeAddress> node, Consistency consistency, Duration timeout, Duration scenarioWait) {

    static Options parse(String[] args) {
      List<String> words = new ArrayList<>();
      Optional<NodeAddress> node = Optional.empty();
      Consistency consistency = Consistency.QUORUM;
      Duration timeout = Duration.ofSeconds(5);
      Duration wait = Duration.ofSeconds(60);
      for (int i = 0; i < args.length; i++) {
        String arg = args[i];
        if (arg.startsWith("--")) {
          if (i + 1 >= args.length) {
            throw new IllegalArgumentException(arg + " needs a value");
          }
          String value = args[++i];
          switch (arg) {
            case "--node" -> node = Optional.of(NodeAddress.parse(value));
            case "--consistency" -> consistency = Consistency.parse(value);
            case "--timeout" -> timeout = Durations.parse(value);
            case "--wait" -> wait = Durations.parse(value);
            default -> throw new IllegalArgumentException("unknown option " + arg);
          }
        } else {
          words.add(arg);
        }
      }
      checkCommand(words);
      return new Options(List.copyOf(words), node, consistency, timeout, wait);
    }

    private static void checkCommand(List<String> words) {
      if (words.isEmpty()) {
        return;
      }
      int expected = switch (words.get(0)) {
        case "put" -> 3;
        case "get", "delete" -> 2;
        default -> throw new IllegalArgumentException("unknown command " + words.get(0));
      };
      if (words.size() != expected) {
        throw new IllegalArgumentException(words.get(0) + " takes " + (expected - 1) + " argument(s)");
      }
    }
  }
}
