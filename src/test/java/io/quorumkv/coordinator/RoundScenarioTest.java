package io.quorumkv.coordinator;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.fail;

import io.quorumkv.config.Fanout;
import io.quorumkv.faults.DeliberateBug;
import io.quorumkv.store.Proposal;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Accept;
import io.quorumkv.store.ReplicaProtocol.Accepted;
import io.quorumkv.store.ReplicaProtocol.Commit;
import io.quorumkv.store.ReplicaProtocol.FastAccept;
import io.quorumkv.store.ReplicaProtocol.Fenced;
import io.quorumkv.store.ReplicaProtocol.Preempted;
import io.quorumkv.store.ReplicaProtocol.Prepare;
import io.quorumkv.store.ReplicaProtocol.Promised;
import io.quorumkv.store.ReplicaProtocol.RecordAndProposal;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.ReadVersion;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.StoreRequest;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
import io.quorumkv.store.ReplicaProtocol.VersionHeld;
import io.quorumkv.store.ReplicaStats;
import io.quorumkv.store.Value;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;
import org.junit.runners.Parameterized.Parameters;

/**
 * Runs the quorum-round scenarios under {@code src/test/resources/scenarios/}: text files of cases,
 * each a round ({@code write ...} or {@code read ...}) over the replicas {@code a} (local),
 * {@code b} and {@code c}, then events ({@code > ...}) each followed by the effects the round must
 * give, in order (the format is described in {@code scenarios/README.md}). No actors and no
 * time: the rounds are pure, so a case is exact.
 */
@RunWith(Parameterized.class)
public class RoundScenarioTest {

  /** The wall clock of every case, in milliseconds, unless a case sets its own. */
  static final long WALL_MILLIS = 1_000_000L;
  static final long OWN_ID = 7L;
  private static final List<String> REPLICAS = List.of("a", "b", "c");
  private static final Map<String, Long> REPLICA_IDS = Map.of("a", OWN_ID, "b", 2L, "c", 3L);

  @Parameters(name = "{0}")
  public static List<Object[]> cases() throws IOException, URISyntaxException {
    Path root = Path.of(RoundScenarioTest.class.getResource("/scenarios").toURI());
    List<Object[]> cases = new ArrayList<>();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path file : files.filter(path -> path.toString().endsWith(".txt")).sorted().toList()) {
        for (Scenario scenario : Scenario.parse(root.relativize(file).toString(), Files.readAllLines(file,
            StandardCharsets.UTF_8))) {
          cases.add(new Object[] {scenario.name, scenario});
        }
      }
    }
    if (cases.isEmpty()) {
      throw new IllegalStateException("no scenarios found under " + root);
    }
    return cases;
  }

  private final Scenario scenario;

  public RoundScenarioTest(String name, Scenario scenario) {
    this.scenario = scenario;
  }

  @Test
  public void run() {
    new Run(scenario).run();
  }

  /** One case: its header line, then its steps (an event line and the effect lines expected after it). */
  record Scenario(String name, String header, List<Step> steps) {

    static List<Scenario> parse(String file, List<String> lines) {
      List<Scenario> scenarios = new ArrayList<>();
      String name = null;
      String header = null;
      List<Step> steps = new ArrayList<>();
      Step step = null;
      for (int number = 1; number <= lines.size(); number++) {
        String line = lines.get(number - 1).strip();
        String where = file + ":" + number;
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        if (line.startsWith("case ")) {
          if (name != null) {
            scenarios.add(new Scenario(name, header, steps));
          }
          name = file + " " + line.substring(5).strip();
          header = null;
          steps = new ArrayList<>();
          step = null;
        } else if (name == null) {
          throw new IllegalArgumentException(where + ": a scenario file starts with 'case <name>'");
        } else if (header == null) {
          header = line;
        } else if (line.startsWith(">")) {
          step = new Step(where, line.substring(1).strip(), new ArrayList<>());
          steps.add(step);
        } else if (step == null) {
          throw new IllegalArgumentException(where + ": an effect before any '> event'");
        } else if (!line.equals("(nothing)")) {
          step.expected().add(line);
        }
      }
      if (name != null) {
        scenarios.add(new Scenario(name, header, steps));
      }
      return scenarios;
    }

    @Override
    public String toString() {
      return name;
    }
  }

  record Step(String where, String event, List<String> expected) {}

  /** One execution of a scenario. */
  private static final class Run {
    private final Scenario scenario;
    private final long[] wall = {WALL_MILLIS};
    private final HybridLogicalClock clock = new HybridLogicalClock(() -> wall[0], 0L);
    private final ReplicaStats stats = new ReplicaStats();
    private Function<RoundEvent, List<? extends RoundEffect<?>>> round;
    private java.util.function.BooleanSupplier finished;
    /** The last record an Apply or Accept carried: {@code this} in an answer names it. */
    private Record lastApplied;
    /** The last ballot a Prepare or Accept carried: {@code accepted this} names it. */
    private Version lastBallot;

    Run(Scenario scenario) {
      this.scenario = scenario;
    }

    void run() {
      start(scenario.header());
      boolean wasFinished = false;
      for (Step step : scenario.steps()) {
        List<String> actual = new ArrayList<>();
        if (step.event().startsWith("check ")) {
          check(step.where(), step.event().substring(6).strip());
          continue;
        }
        for (RoundEffect<?> effect : round.apply(event(step.where(), step.event()))) {
          actual.add(render(effect));
        }
        if (finished.getAsBoolean() && !wasFinished) {
          actual.add("finished");
          wasFinished = true;
        }
        assertEquals(step.where() + ": effects of '> " + step.event() + "'", String.join("\n", step.expected()),
            String.join("\n", actual));
      }
    }

    private void start(String header) {
      Map<String, String> options = options(header);
      Consistency consistency = Consistency.parse(options.getOrDefault("consistency", "quorum")).orElseThrow();
      Fanout fanout = options.getOrDefault("fanout", "all").equals("quorum-first")
          ? Fanout.quorumFirst(Duration.ofMillis(500)) : Fanout.ALL;
      String bugs = options.getOrDefault("bug", "");
      String key = options.getOrDefault("key", "k");
      String kind = header.split("\\s+")[0];
      if (kind.equals("write")) {
        Optional<Value> value = options.containsKey("delete") ? Optional.empty()
            : Optional.of(Value.ofUtf8(options.getOrDefault("value", "v")));
        WriteRound write = new WriteRound(new WriteRound.Write(key, value), consistency, REPLICAS, clock, OWN_ID,
            stats, fanout, bugs.equals(DeliberateBug.ONE_ROUND_WRITES.label()),
            new java.util.SplittableRandom(1));
        round = write::step;
        finished = write::finished;
      } else if (kind.equals("read")) {
        ReadRound read = new ReadRound(key, consistency, REPLICAS, clock, OWN_ID, stats, fanout,
            bugs.equals(DeliberateBug.NO_READ_WRITE_BACK.label()), new java.util.SplittableRandom(1));
        round = read::step;
        finished = read::finished;
      } else if (kind.equals("cas")) {
        Optional<Value> value = options.containsKey("delete") ? Optional.empty()
            : Optional.of(Value.ofUtf8(options.getOrDefault("value", "v")));
        Condition condition = options.containsKey("if-absent") ? new Condition.IfAbsent()
            : new Condition.IfMatch(parseVersion(options.get("if-match")));
        Duration fastWait = options.containsKey("fast") ? Duration.ofMillis(50) : null;
        ConditionalWriteRound cas = new ConditionalWriteRound(key, new PaxosRound.Conditional(condition, value, 0L), consistency, REPLICAS, clock,
            OWN_ID, new java.util.SplittableRandom(1), fastWait, false);
        round = cas::step;
        finished = cas::finished;
      } else {
        throw new IllegalArgumentException(scenario.name() + ": the first line is 'write ...', 'read ...' or 'cas ...'");
      }
    }

    private RoundEvent event(String where, String line) {
      String[] words = line.split("\\s+");
      switch (words[0]) {
        case "start":
          return new RoundEvent.Started();
        case "hedge":
          return new RoundEvent.HedgeDelayPassed();
        case "deadline":
          return new RoundEvent.DeadlinePassed();
        case "backoff":
          return new RoundEvent.BackoffPassed();
        case "answer":
          return new RoundEvent.Answered(words[1], round(where, words[2]), answer(where, words));
        default:
          throw new IllegalArgumentException(where + ": no event '" + words[0] + "'");
      }
    }

    /**
     * {@code answer <replica> r<round> <answer> [options]}, where the answer is
     * {@code version-held <version>}, {@code applied <version>|this}, {@code record-held absent|<version>
     * value=<text>|<version> tombstone}, or {@code unavailable <reason>}; options {@code clock=<version>}
     * (the stamp's clock; default: the replica's version or this case's wall clock, whichever is
     * higher) and {@code digest=<n>} (default: the record's own).
     */
    private Answer answer(String where, String[] words) {
      String replica = words[1];
      String kind = words[3];
      Map<String, String> options = options(String.join(" ", Arrays.copyOfRange(words, 3, words.length)));
      switch (kind) {
        case "version-held": {
          Record record = recordOf(where, words[4], options);
          Version version = Record.versionOf(Optional.ofNullable(record));
          return new VersionHeld(stamp(replica, version, options), version, digest(record, options));
        }
        case "applied": {
          Record record = recordOf(where, words[4], options);
          Version version = Record.versionOf(Optional.ofNullable(record));
          return new Applied(stamp(replica, version, options), version, digest(record, options));
        }
        case "record-held": {
          if (words[4].equals("absent")) {
            return new RecordHeld(stamp(replica, Version.ZERO, options), Optional.empty());
          }
          Record record = recordOf(where, words[4], options);
          return new RecordHeld(stamp(replica, record.version(), options), Optional.of(record));
        }
        case "record-and-proposal": {
          Record record = recordOf(where, words[4], options);
          Proposal proposal = proposalOf(where, options).orElseThrow(
              () -> new IllegalArgumentException(where + ": record-and-proposal needs ballot= and proposed="));
          return new RecordAndProposal(stamp(replica, proposal.ballot(), options), Optional.ofNullable(record),
              proposal);
        }
        case "promised": {
          Record record = recordOf(where, words[4], options);
          Version committed = parseVersion(options.getOrDefault("committed", "0"));
          Optional<Proposal> proposal = proposalOf(where, options);
          Version highest = Version.max(Record.versionOf(Optional.ofNullable(record)),
              proposal.map(Proposal::ballot).orElse(Version.ZERO));
          return new Promised(stamp(replica, Version.max(highest, committed), options), Optional.ofNullable(record),
              committed, proposal);
        }
        case "preempted": {
          Version highest = parseVersion(words[4]);
          return new Preempted(stamp(replica, highest, options), highest);
        }
        case "accepted": {
          Version ballot = words[4].equals("this") ? lastBallot : parseVersion(words[4]);
          return new Accepted(stamp(replica, ballot, options), ballot);
        }
        case "fenced": {
          Version fence = parseVersion(words[4]);
          return new Fenced(stamp(replica, fence, options), fence);
        }
        case "unavailable":
          return new Unavailable(String.join(" ", Arrays.copyOfRange(words, 4, words.length)));
        default:
          throw new IllegalArgumentException(where + ": no answer '" + kind + "'");
      }
    }

    /** {@code this}: the last applied record; {@code 0}: absent; else a version with {@code value=} or {@code tombstone}. */
    private Record recordOf(String where, String version, Map<String, String> options) {
      if (version.equals("this")) {
        if (lastApplied == null) {
          throw new IllegalArgumentException(where + ": 'this' before any apply was sent");
        }
        return lastApplied;
      }
      Version parsed = version.equals("absent") ? Version.ZERO : parseVersion(version);
      if (parsed.equals(Version.ZERO)) {
        return null;
      }
      return options.containsKey("tombstone") ? Record.tombstone(parsed)
          : Record.of(parsed, Value.ofUtf8(options.getOrDefault("value", "v")));
    }

    /**
     * {@code ballot=<version>|this proposed=<version>|this|empty [proposed-value=<text>|proposed-tombstone]
     * [proposal-fast]}: an accepted proposal (the empty value with {@code proposed=empty}; a fast
     * proposal with {@code proposal-fast}); none without {@code ballot=}.
     */
    private Optional<Proposal> proposalOf(String where, Map<String, String> options) {
      if (!options.containsKey("ballot")) {
        return Optional.empty();
      }
      Version ballot = options.get("ballot").equals("this") ? lastBallot : parseVersion(options.get("ballot"));
      String proposed = options.getOrDefault("proposed", options.get("ballot"));
      if (proposed.equals("empty")) {
        return Optional.of(Proposal.empty(ballot));
      }
      Record record;
      if (proposed.equals("this")) {
        record = lastApplied;
      } else {
        Version version = parseVersion(proposed);
        record = options.containsKey("proposed-tombstone") ? Record.tombstone(version)
            : Record.of(version, Value.ofUtf8(options.getOrDefault("proposed-value", "p")));
      }
      return Optional.of(new Proposal(ballot, Optional.of(record), options.containsKey("proposal-fast")));
    }

    private long digest(Record record, Map<String, String> options) {
      if (options.containsKey("digest")) {
        return Long.parseLong(options.get("digest"));
      }
      return record == null ? Record.TOMBSTONE_DIGEST : record.digest();
    }

    private Stamp stamp(String replica, Version held, Map<String, String> options) {
      long clockReading = options.containsKey("clock") ? parseVersion(options.get("clock")).hlc()
          : Math.max(held.hlc(), HybridLogicalClock.fromMillis(wall[0]));
      return new Stamp(REPLICA_IDS.getOrDefault(replica, 99L), clockReading);
    }

    private void check(String where, String line) {
      String[] words = line.split("\\s+");
      for (String word : words) {
        String[] pair = word.split("=", 2);
        long expected = Long.parseLong(pair[1]);
        long actual = switch (pair[0]) {
          case "digest-conflicts" -> stats.digestConflicts();
          case "read-write-backs" -> stats.readWriteBacks();
          case "read-repairs" -> stats.readRepairs();
          case "reads-started-over" -> stats.readsStartedOver();
          default -> {
            if (pair[0].startsWith("clock-refusals-")) {
              yield clock.refusals().getOrDefault(pair[0].substring("clock-refusals-".length()), 0L);
            }
            throw new IllegalArgumentException(where + ": nothing to check called " + pair[0]);
          }
        };
        assertEquals(where + ": " + pair[0], expected, actual);
      }
    }

    private String render(RoundEffect<?> effect) {
      if (effect instanceof RoundEffect.Send<?> send) {
        return "send " + send.replica() + " " + render(send.request()) + " r" + send.round();
      }
      if (effect instanceof RoundEffect.Reply<?> reply) {
        return "reply " + renderResult(reply.result());
      }
      if (effect instanceof RoundEffect.Unacknowledged<?> missed) {
        return "unacknowledged " + missed.key() + " " + String.join(",", missed.replicas());
      }
      if (effect instanceof RoundEffect.StartHedgeTimer<?> hedge) {
        return "hedge-timer " + hedge.delay().toMillis() + "ms";
      }
      if (effect instanceof RoundEffect.StartBackoffTimer<?>) {
        return "backoff-timer"; // its length is random
      }
      fail("no rendering for " + effect);
      return null;
    }

    private String render(StoreRequest request) {
      if (request instanceof ReadVersion readVersion) {
        return "read-version " + readVersion.key();
      }
      if (request instanceof Read read) {
        return "read " + read.key() + " cause=" + read.cause().label();
      }
      if (request instanceof Apply apply) {
        lastApplied = apply.record();
        return "apply " + apply.key() + " " + render(apply.record()) + " cause=" + apply.cause().label();
      }
      if (request instanceof Prepare prepare) {
        lastBallot = prepare.ballot();
        return "prepare " + prepare.key() + " " + render(prepare.ballot()) + " cause=" + prepare.cause().label();
      }
      if (request instanceof Accept accept) {
        lastBallot = accept.ballot();
        accept.record().ifPresent(record -> lastApplied = record);
        return "accept " + accept.key() + " " + render(accept.ballot()) + " " + render(accept.record())
            + " cause=" + accept.cause().label();
      }
      if (request instanceof FastAccept fast) {
        lastBallot = fast.ballot();
        lastApplied = fast.record();
        return "fast-accept " + fast.key() + " " + render(fast.record()) + " expected="
            + fast.expected().map(Run::render).orElse("absent");
      }
      if (request instanceof Commit commit) {
        return "commit " + commit.key() + " " + render(commit.ballot()) + " " + render(commit.record())
            + " cause=" + commit.cause().label();
      }
      return request.toString();
    }

    private String renderResult(Object result) {
      if (result instanceof WriteResult.Written written) {
        return "written " + written.key() + " " + render(written.version());
      }
      if (result instanceof ReadResult.Found found) {
        return "found " + found.key() + " " + render(found.record());
      }
      if (result instanceof ReadResult.NotFound notFound) {
        return "not-found " + notFound.key();
      }
      if (result instanceof QuorumNotReached failed) {
        return "quorum-not-reached " + failed.phase().label() + " " + failed.answered() + "/" + failed.required()
            + " of " + failed.replicas();
      }
      if (result instanceof NotStarted notStarted) {
        return "not-started " + notStarted.phase();
      }
      if (result instanceof WriteResult.PreconditionFailed failed) {
        return "precondition-failed " + failed.key() + " " + failed.current().map(Run::render).orElse("absent");
      }
      if (result instanceof WriteResult.Contended contended) {
        return "contended " + contended.key() + " " + contended.attempts();
      }
      return result.toString();
    }

    private static String render(Optional<Record> record) {
      return record.map(Run::render).orElse("empty");
    }

    private static String render(Record record) {
      return render(record.version()) + (record.isTombstone() ? " tombstone"
          : " value=" + new String(record.value().bytes(), StandardCharsets.UTF_8));
    }

    /** {@code <millis>.<counter>/<replica id>}, or {@code 0} for {@link Version#ZERO}. */
    static String render(Version version) {
      if (version.equals(Version.ZERO)) {
        return "0";
      }
      return HybridLogicalClock.millisOf(version.hlc()) + "." + (version.hlc() & HybridLogicalClock.COUNTER_MAX)
          + "/" + version.replicaId();
    }

    static Version parseVersion(String text) {
      if (text.equals("0")) {
        return Version.ZERO;
      }
      String[] idSplit = text.split("/", 2);
      String[] clockSplit = idSplit[0].split("\\.", 2);
      long hlc = HybridLogicalClock.fromMillis(Long.parseLong(clockSplit[0]))
          + (clockSplit.length > 1 ? Long.parseLong(clockSplit[1]) : 0);
      return new Version(hlc, idSplit.length > 1 ? Long.parseLong(idSplit[1]) : 99L);
    }
  }

  private static long round(String where, String tag) {
    if (!tag.matches("r[0-9]+")) {
      throw new IllegalArgumentException(where + ": a round tag is r<number>, not " + tag);
    }
    return Long.parseLong(tag.substring(1));
  }

  /** {@code name=value} words (and bare words as {@code name=""}) of a line. */
  private static Map<String, String> options(String line) {
    Map<String, String> options = new HashMap<>();
    for (String word : line.split("\\s+")) {
      int equals = word.indexOf('=');
      if (equals > 0) {
        options.put(word.substring(0, equals).toLowerCase(Locale.ROOT), word.substring(equals + 1));
      } else {
        options.put(word, "");
      }
    }
    return options;
  }

  static {
    // Fails fast on a missing resource directory instead of running zero cases.
    if (RoundScenarioTest.class.getResource("/scenarios") == null) {
      throw new UncheckedIOException(new IOException("src/test/resources/scenarios is missing"));
    }
  }
}
