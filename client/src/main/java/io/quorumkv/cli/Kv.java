package io.quorumkv.cli;

import io.quorumkv.jvm.CommonPoolFix;
import io.quorumkv.client.Bench;
import io.quorumkv.client.Consistency;
import io.quorumkv.client.Durations;
import io.quorumkv.client.NodeAddress;
import io.quorumkv.client.Scenario;
import io.quorumkv.torture.Torture;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The client launcher, {@code kv} (docs/cli.md). Without a command it runs the mission scenario
 * against the {@code PEER_*} replicas and writes {@code result.txt}, as it always has; with one
 * it performs it. Every command takes {@code -h}; options are given as {@code --x y} or
 * {@code --x=y}.
 */
@Command(name = "kv", mixinStandardHelpOptions = true, versionProvider = ClientVersion.class,
    sortOptions = false, usageHelpAutoWidth = true,
    description = {
        "QuorumKV's client. Without a command: the scenario (PUT k1=alpha via peer0, k2=beta via peer1,",
        "GET both via peer2, write result.txt) against PEER_PEER0..2_HOST/PORT."},
    subcommands = {PutCommand.class, GetCommand.class, DeleteCommand.class, ListCommand.class, StatusCommand.class,
        HealthCommand.class, VersionCommand.class, SnapshotCommand.class, BenchCommand.class, TortureCommand.class,
        CommandLine.HelpCommand.class},
    exitCodeListHeading = "%nExit statuses:%n",
    exitCodeList = {
        "0:ok", "1:the request failed (a write certainly not applied)", "2:bad usage",
        "3:a write's outcome is unknown (it may have been applied)", "4:not found",
        "5:a condition did not hold (conditional writes)"})
public final class Kv implements Callable<Integer> {

  final Map<String, String> environment;
  final Path directory;
  final InputStream in;
  final PrintStream out;
  final PrintStream err;

  @Option(names = "--wait", paramLabel = "DURATION", defaultValue = "60s",
      description = "Scenario: how long to keep retrying while replicas come up (default: ${DEFAULT-VALUE}).")
  Duration wait;

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "5s",
      description = "Scenario: how long to wait for each answer (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  Kv(Map<String, String> environment, Path directory, InputStream in, PrintStream out, PrintStream err) {
    this.environment = environment;
    this.directory = directory;
    this.in = in;
    this.out = out;
    this.err = err;
  }

  public static void main(String[] args) {
    CommonPoolFix.apply();
    // Initialise logging before Akka's threads start logging concurrently.
    org.slf4j.LoggerFactory.getILoggerFactory();
    System.exit(run(args, System.getenv(), Path.of("."), System.in, System.out, System.err));
  }

  /** Runs one command line; returns its exit status. */
  public static int run(
      String[] args, Map<String, String> environment, Path directory, InputStream in, PrintStream out,
      PrintStream err) {
    CommandLine commandLine = new CommandLine(new Kv(environment, directory, in, out, err))
        .setCaseInsensitiveEnumValuesAllowed(true)
        .setOut(new PrintWriter(out, true, StandardCharsets.UTF_8))
        .setErr(new PrintWriter(err, true, StandardCharsets.UTF_8))
        .setExecutionExceptionHandler((failure, line, parsed) -> {
          if (failure instanceof UsageException) {
            line.getErr().println("kv: " + failure.getMessage());
            line.getErr().println("see '" + line.getCommandSpec().qualifiedName() + " --help'");
            return ExitStatus.USAGE;
          }
          // Anything else (a file that cannot be written, standard input that fails): one line, no trace.
          line.getErr().println("kv: " + line.getCommandName() + " failed: " + failure);
          return ExitStatus.ERROR;
        });
    // bench and torture keep their own parsers; their help shows those parsers' usage.
    commandLine.getSubcommands().get("bench").getCommandSpec().usageMessage()
        .footer("%nOptions of bench:%n" + Bench.USAGE.replace("%", "%%"));
    commandLine.getSubcommands().get("torture").getCommandSpec().usageMessage()
        .footer("%nOptions of torture:%n" + Torture.USAGE.replace("%", "%%"));
    commandLine.registerConverter(Duration.class, Durations::parse);
    commandLine.registerConverter(Consistency.class, Consistency::parse);
    commandLine.registerConverter(NodeAddress.class, NodeAddress::parse);
    return commandLine.execute(args);
  }

  @Override
  public Integer call() {
    try (ClientSession session = new ClientSession("quorumkv-client")) {
      new Scenario(session.system, environment, wait, timeout, out).run(directory);
      return ExitStatus.OK;
    } catch (Scenario.ScenarioFailed e) {
      err.println("kv: scenario failed: " + e.getMessage());
      return ExitStatus.ERROR;
    }
  }
}
