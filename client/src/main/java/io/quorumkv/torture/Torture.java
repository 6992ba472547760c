package io.quorumkv.torture;

import io.quorumkv.client.Durations;
import io.quorumkv.torture.LinearizabilityChecker.KeyVerdict;
import io.quorumkv.torture.LinearizabilityChecker.Verdict;
import io.quorumkv.torture.Nemesis.Fault;
import io.quorumkv.torture.Operation.Kind;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * {@code quorumkv-client torture}: starts a local three-replica cluster behind fault proxies,
 * runs concurrent clients against it while a {@link Nemesis} injects faults, heals everything,
 * takes a final quorum read of every key, and checks the recorded history for
 * linearizability. The last line printed is the verdict; the exit status is 0 only when it is
 * {@code linearizable}. {@code torture --check FILE} checks a saved history again.
 */
public final class Torture {

  public static final String USAGE = String.join("\n",
      "usage: quorumkv-client torture [options]",
      "       quorumkv-client torture --check HISTORY_FILE",
      "options:",
      "  --replica-jar PATH     the replica jar (default: quorumkv-replica.jar next to this jar, or the build's)",
      "  --duration 60s         how long the clients and the faults run",
      "  --faults all           all, none, or a comma list of: kill, pause, partition, lossy, drop-repairs, kill-all,",
      "                         long-pause, clock",
      "  --clients 5            concurrent clients",
      "  --keys 5               keys k0..k(N-1)",
      "  --consistency quorum   quorum or one (final reads are always quorum)",
      "  --seed N               random seed (default: from the clock; printed)",
      "  --history FILE         where the history goes (default: torture-history.jsonl)",
      "  --tls-dir DIR          run the cluster over TLS with the certificates in DIR (bin/make-test-certs.sh);",
      "                         all faults but drop-repairs (the proxies cannot read requests inside TLS)",
      "  --work-dir DIR         replica data and logs (default: a new temporary directory, deleted when linearizable)",
      "  --deliberate-bugs LIST TEST ONLY: replicas break one rule on purpose (no-read-write-back, one-round-writes,",
      "                         unsynced-reads, timer-purge, compare-without-consensus), to show the checker catches it");

  public static final int EXIT_LINEARIZABLE = 0;
  public static final int EXIT_NOT_LINEARIZABLE = 1;
  public static final int EXIT_USAGE = 2;

  // Timeouts and convergence settings of the torture cluster: short, so faults bite within a
  // minute. The tombstone grace is hint expiry + max message age + skew margin = 13 s, the
  // least a 2 s max-clock-offset allows (message age >= 3 x offset, skew margin >= 2 x offset).
  private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration TOMBSTONE_GRACE = Duration.ofSeconds(13);
  static final Duration MAX_CLOCK_OFFSET = Duration.ofSeconds(2);
  /**
   * The clock fault's skew: inside the clock fence (0.35 x the offset), so the skewed replica
   * keeps coordinating with its clock off, which is what the linearizability runs must survive.
   */
  static final Duration CLOCK_SKEW = Duration.ofMillis(600);
  private static final Map<String, String> REPLICA_ENVIRONMENT = Map.of(
      "WRITE_TIMEOUT", "2s",
      "READ_TIMEOUT", "2s",
      "PEER_REQUEST_TIMEOUT", "1s",
      "ANTI_ENTROPY_INTERVAL", "2s",
      "HINT_EXPIRY", "3s",
      "MAX_CLOCK_OFFSET", MAX_CLOCK_OFFSET.toMillis() + "ms",
      "MAX_MESSAGE_AGE", "6s",
      "TOMBSTONE_SKEW_MARGIN", "4s",
      "TOMBSTONE_SWEEP_INTERVAL", "1s");
  private static final List<String> REPLICA_JVM_OPTIONS = List.of(
      "-Dquorumkv.tombstones.purge-check-interval=500ms",
      "-Dquorumkv.hints.replay-interval=250ms");
  private static final Duration PROGRESS_INTERVAL = Duration.ofSeconds(5);
  private static final int FINAL_READ_ATTEMPTS = 50;

  /** The parsed command line. */
  record Options(
      Optional<Path> check, Path replicaJar, Duration duration, Set<Fault> faults, int clients, int keys,
      String consistency, long seed, Path history, Optional<Path> workDir, String deliberateBugs,
      Optional<ClusterTls> tls) {}

  private final Options options;
  private final PrintStream out;
  private long startNanos;
  private String verdictLine = "UNDECIDED (not checked)";
  private volatile String nemesisFailure; // null: the nemesis did its work

  private Torture(Options options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  /** Runs the command; returns the exit status. */
  public static int run(List<String> args, PrintStream out, PrintStream err) {
    if (args.contains("--help")) {
      out.println(USAGE);
      return EXIT_LINEARIZABLE;
    }
    Options options;
    try {
      options = parse(args);
    } catch (IllegalArgumentException e) {
      err.println("quorumkv-client: torture: " + e.getMessage());
      err.println(USAGE);
      return EXIT_USAGE;
    }
    try {
      Torture torture = new Torture(options, out);
      return options.check().isPresent() ? torture.checkOnly(options.check().get()) : torture.attack();
    } catch (IOException | IllegalStateException | IllegalArgumentException e) {
      err.println("quorumkv-client: torture failed: " + e.getMessage());
      return EXIT_NOT_LINEARIZABLE;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("quorumkv-client: torture interrupted");
      return EXIT_NOT_LINEARIZABLE;
    }
  }

  static Options parse(List<String> args) {
    Optional<Path> check = Optional.empty();
    Optional<Path> replicaJar = Optional.empty();
    Duration duration = Duration.ofSeconds(60);
    Set<Fault> faults = Fault.parseList("all");
    int clients = 5;
    int keys = 5;
    String consistency = "quorum";
    long seed = System.currentTimeMillis();
    Path history = Path.of("torture-history.jsonl");
    Optional<Path> workDir = Optional.empty();
    String bugs = "";
    Optional<ClusterTls> tls = Optional.empty();
    for (int i = 0; i < args.size(); i++) {
      String option = args.get(i);
      if (i + 1 >= args.size()) {
        throw new IllegalArgumentException(option.startsWith("--") ? option + " needs a value" : "unexpected " + option);
      }
      String value = args.get(++i);
      switch (option) {
        case "--check" -> check = Optional.of(Path.of(value));
        case "--replica-jar" -> replicaJar = Optional.of(Path.of(value));
        case "--duration" -> duration = Durations.parse(value);
        case "--faults" -> faults = Fault.parseList(value);
        case "--clients" -> clients = positive(option, value);
        case "--keys" -> keys = positive(option, value);
        case "--consistency" -> consistency = consistency(value);
        case "--seed" -> seed = Long.parseLong(value);
        case "--history" -> history = Path.of(value);
        case "--work-dir" -> workDir = Optional.of(Path.of(value));
        case "--deliberate-bugs" -> bugs = value;
        case "--tls-dir" -> tls = Optional.of(new ClusterTls(Path.of(value)));
        default -> throw new IllegalArgumentException("unknown option " + option);
      }
    }
    if (tls.isPresent() && faults.contains(Fault.DROP_REPAIRS)) {
      // The proxies cannot read requests inside TLS, so they cannot pick repairs out.
      if (!faults.equals(Fault.parseList("all"))) {
        throw new IllegalArgumentException("drop-repairs needs to read requests, which TLS hides: leave it out of"
            + " --faults with --tls-dir");
      }
      faults = new java.util.TreeSet<>(faults);
      faults.remove(Fault.DROP_REPAIRS);
    }
    return new Options(check, replicaJar.orElseGet(Torture::defaultReplicaJar), duration, faults, clients, keys,
        consistency, seed, history, workDir, bugs, tls);
  }

  private static int positive(String option, String value) {
    try {
      int number = Integer.parseInt(value);
      if (number >= 1) {
        return number;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(option + " must be a positive number, not '" + value + "'");
  }

  private static String consistency(String value) {
    String lower = value.toLowerCase(Locale.ROOT);
    if (!lower.equals("quorum") && !lower.equals("one")) {
      throw new IllegalArgumentException("--consistency must be quorum or one, not '" + value + "'");
    }
    return lower;
  }

  /** quorumkv-replica.jar next to this jar, else where the project's build puts it. */
  private static Path defaultReplicaJar() {
    try {
      Path here = Path.of(Torture.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getParent();
      for (Path candidate : List.of(here.resolve("quorumkv-replica.jar"),
          here.resolve("../../target/quorumkv-replica.jar").normalize())) {
        if (Files.isRegularFile(candidate)) {
          return candidate;
        }
      }
    } catch (URISyntaxException | RuntimeException e) {
      // fall through to the build's usual place
    }
    return Path.of("target", "quorumkv-replica.jar");
  }

  private int attack() throws IOException, InterruptedException {
    if (!Files.isRegularFile(options.replicaJar())) {
      throw new IllegalArgumentException("no replica jar at " + options.replicaJar() + " (pass --replica-jar)");
    }
    Path workDir = options.workDir().orElse(Files.createTempDirectory("quorumkv-torture-"));
    out.printf("torture: %s, faults %s, %d clients on %d keys, consistency %s, seed %d%s%n",
        format(options.duration()), options.faults().isEmpty() ? "none"
            : options.faults().stream().map(Fault::label).collect(Collectors.joining(",")),
        options.clients(), options.keys(), options.consistency(), options.seed(),
        options.tls().map(tls -> ", over TLS").orElse(""));
    Map<String, String> environment = new HashMap<>(REPLICA_ENVIRONMENT);
    if (!options.deliberateBugs().isBlank()) {
      environment.put("DELIBERATE_BUGS", options.deliberateBugs());
      out.println("torture: DELIBERATE BUGS in every replica: " + options.deliberateBugs());
    }
    List<Operation> history;
    Map<Fault, Integer> injected;
    Map<String, Long> repairs;
    Map<String, Long> dropped;
    boolean finalReadsDone;
    long versionAheadMillis;
    List<String> counterProblems;
    String counterSummary;
    try (TortureCluster cluster = new TortureCluster(options.replicaJar(), workDir, environment, REPLICA_JVM_OPTIONS,
        options.tls())) {
      Thread stopOnExit = new Thread(() -> closeQuietly(cluster));
      Runtime.getRuntime().addShutdownHook(stopOnExit);
      out.println("torture: cluster up: " + cluster.describe());
      startNanos = System.nanoTime();
      Workload workload = new Workload(new Workload.Settings(options.clients(), options.keys(), options.consistency(),
          CLIENT_TIMEOUT, options.seed(), MAX_CLOCK_OFFSET.toMillis()), cluster::address, startNanos, options.tls());
      Nemesis nemesis = new Nemesis(cluster, options.faults(), new Nemesis.Timing(
          TOMBSTONE_GRACE.plus(Workload.PHASE), CLOCK_SKEW, MAX_CLOCK_OFFSET.multipliedBy(15)), options.seed(),
          event -> out.printf("[%5.1fs] nemesis: %s%n", elapsedSeconds(), event));
      workload.start();
      long deadline = startNanos + options.duration().toNanos();
      Thread nemesisThread = new Thread(() -> runNemesis(nemesis, deadline), "nemesis");
      nemesisThread.setDaemon(true); // should this thread fail, the exit hook still stops the replicas
      nemesisThread.start();
      while (System.nanoTime() < deadline) {
        Thread.sleep(Math.min(PROGRESS_INTERVAL.toMillis(), Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
        cluster.sampleRepairCounters();
        long[] counts = workload.outcomeCounts();
        out.printf("[%5.1fs] %d ops (ok %d, fail %d, unknown %d); fault: %s%n", elapsedSeconds(),
            counts[0] + counts[1] + counts[2], counts[0], counts[1], counts[2], nemesis.current());
      }
      nemesisThread.join(); // it stops injecting before the deadline and heals what it broke
      workload.stop();
      cluster.healAll();
      out.printf("[%5.1fs] healed; waiting until every replica is ready%n", elapsedSeconds());
      cluster.awaitAllReady(LocalCluster.START_LIMIT);
      cluster.sampleRepairCounters();
      finalReadsDone = workload.finalReads(FINAL_READ_ATTEMPTS);
      cluster.sampleRepairCounters();
      history = workload.history();
      versionAheadMillis = workload.versionAheadMillisMax();
      counterProblems = workload.counterProblems();
      counterSummary = workload.counterSummary();
      injected = nemesis.injected();
      repairs = cluster.repairCounters();
      dropped = cluster.droppedByCause();
      Runtime.getRuntime().removeShutdownHook(stopOnExit);
    }
    HistoryFile.write(options.history(), history);
    summarize(history, injected, repairs, dropped);
    int status = check(history);
    if (status == EXIT_LINEARIZABLE && nemesisFailure != null) {
      verdictLine = "UNDECIDED (the fault injection failed: " + nemesisFailure + ")";
      status = EXIT_NOT_LINEARIZABLE;
    }
    out.println("  counters: " + counterSummary);
    if (status == EXIT_LINEARIZABLE && !counterProblems.isEmpty()) {
      verdictLine = "NOT OK: " + String.join("; ", counterProblems) + " (the history itself is linearizable)";
      status = EXIT_NOT_LINEARIZABLE;
    }
    if (status == EXIT_LINEARIZABLE && !finalReadsDone) {
      verdictLine = "UNDECIDED (a final quorum read failed " + FINAL_READ_ATTEMPTS + " times; a lost write could hide)";
      status = EXIT_NOT_LINEARIZABLE;
    }
    // Whatever a clock fault did, no version may run further ahead of real time than the offset.
    out.println("torture: versions ran at most " + versionAheadMillis + " ms ahead of real time (bound: max-clock-offset "
        + MAX_CLOCK_OFFSET.toMillis() + " ms)");
    if (status == EXIT_LINEARIZABLE && versionAheadMillis > MAX_CLOCK_OFFSET.toMillis()) {
      verdictLine = "NOT OK: a version ran " + versionAheadMillis
          + " ms ahead of real time, beyond max-clock-offset (the history itself is linearizable)";
      status = EXIT_NOT_LINEARIZABLE;
    }
    if (status == EXIT_LINEARIZABLE && options.workDir().isEmpty()) {
      LocalCluster.deleteRecursively(workDir);
    } else {
      out.println("torture: replica data and logs kept in " + workDir);
    }
    out.println(verdictLine);
    return status;
  }

  private void runNemesis(Nemesis nemesis, long deadline) {
    try {
      nemesis.run(deadline);
    } catch (IOException | RuntimeException e) {
      nemesisFailure = e.toString();
      out.printf("[%5.1fs] nemesis failed: %s%n", elapsedSeconds(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private int checkOnly(Path file) throws IOException {
    List<Operation> history = HistoryFile.read(file);
    out.printf("torture: checking %d operations from %s%n", history.size(), file);
    int status = check(history);
    out.println(verdictLine);
    return status;
  }


  /** Checks the history, prints the details of any violation, and sets the verdict line. */
  private int check(List<Operation> history) {
    long started = System.nanoTime();
    LinearizabilityChecker.Result result = new LinearizabilityChecker().check(history);
    out.printf("checked %d keys in %.1f s%n", result.keys().size(), (System.nanoTime() - started) / 1e9);
    for (KeyVerdict key : result.keys()) {
      if (key.verdict() == Verdict.UNDECIDED) {
        out.printf("key %s (%d operations): too many possibilities to explore; undecided%n", key.key(),
            key.operations());
      }
    }
    Optional<KeyVerdict> violation = result.smallestViolation();
    if (violation.isPresent()) {
      KeyVerdict key = violation.get();
      out.printf("key %s: no linearization explains: %s%n", key.key(), key.stuck().orElseThrow().describe());
      out.printf("smallest non-linearizable window found (%d operations on %s):%n", key.window().size(), key.key());
      key.window().forEach(operation -> out.println("  " + operation.describe()));
      verdictLine = "NOT linearizable (key " + key.key() + ", window of " + key.window().size() + " operations)";
      return EXIT_NOT_LINEARIZABLE;
    }
    if (result.verdict() == Verdict.UNDECIDED) {
      verdictLine = "UNDECIDED (the checker gave up on a key; no violation found)";
      return EXIT_NOT_LINEARIZABLE;
    }
    verdictLine = "linearizable";
    return EXIT_LINEARIZABLE;
  }

  private void summarize(
      List<Operation> history, Map<Fault, Integer> injected, Map<String, Long> repairs, Map<String, Long> dropped) {
    long reads = history.stream().filter(op -> op.kind() == Kind.READ).count();
    long deletes = history.stream().filter(Operation::isDelete).count();
    long expiries = history.stream().filter(op -> op.kind() == Kind.EXPIRE).count();
    List<Operation> clientOperations = history.stream().filter(op -> op.kind() != Kind.EXPIRE).toList();
    Map<String, Long> byOutcome = clientOperations.stream()
        .collect(Collectors.groupingBy(op -> op.outcome().label(), TreeMap::new, Collectors.counting()));
    out.println("summary:");
    out.printf("  operations: %d (%d reads, %d writes, %d deletes; %d of the writes with a TTL), by outcome %s%n",
        clientOperations.size(), reads, clientOperations.size() - reads - deletes, deletes, expiries, byOutcome);
    List<String> faults = new ArrayList<>();
    injected.forEach((fault, count) -> faults.add(fault.label() + "=" + count));
    out.println("  faults injected: " + (faults.isEmpty() ? "none" : String.join(", ", faults)));
    out.println("  dropped on purpose by the proxies: " + (dropped.isEmpty() ? "nothing" : dropped));
    out.println("  repairs seen (summed over replica processes): " + repairs);
    out.println("  history: " + options.history());
  }

  private double elapsedSeconds() {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private static String format(Duration duration) {
    return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + " s" : duration.toMillis() + " ms";
  }

  private static void closeQuietly(TortureCluster cluster) {
    try {
      cluster.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
