package io.quorumkv.simulation;

import io.quorumkv.config.Fanout;
import io.quorumkv.config.FsyncMode;
import io.quorumkv.coordinator.ListResult;
import io.quorumkv.coordinator.QuorumNotReached;
import io.quorumkv.coordinator.ReadResult;
import io.quorumkv.coordinator.WriteResult;
import io.quorumkv.faults.DeliberateBug;
import io.quorumkv.store.Value;
import io.quorumkv.torture.LinearizabilityChecker;
import io.quorumkv.torture.Operation;
import io.quorumkv.torture.Operation.Kind;
import io.quorumkv.torture.Operation.Outcome;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * The deterministic simulation (docs/testing.md, "The deterministic simulation"): three replicas
 * in one thread, on simulated time and a seeded network, with crashes and partitions, and
 * clients whose history the torture run's {@link LinearizabilityChecker} judges. Everything a
 * run does follows from its seed, so a failing seed replays exactly.
 */
final class Simulation {

  /** Everything a run depends on, chosen from the seed (each seed tries other timings and fault rates). */
  record Config(
      long seed, Set<DeliberateBug> bugs, int clients, int keys, long workloadMillis, long quiesceMillis,
      Duration maxClockOffset, Duration maxMessageAge, Duration tombstoneGrace, Duration purgeInterval,
      Duration hintInterval, Duration hintExpiry, int hintsPerTick, Duration sweepInterval,
      Duration antiEntropyInterval, Duration stepTimeout, Duration writeTimeout, Duration readTimeout,
      Duration peerTimeout, Fanout fanout, SimNetwork.Faults faults, long faultGapMaxMillis,
      long faultLengthMaxMillis, FsyncMode fsync) {

    static Config of(long seed, Set<DeliberateBug> bugs, FsyncMode fsync) {
      Random random = new Random(new SplittableRandom(seed).nextLong()); // mixed: nearby seeds differ fully
      Duration maxClockOffset = Duration.ofSeconds(1);
      // The production relations (Settings checks them): max-message-age >= 3 x the offset,
      // skew margin >= 2 x, and the grace is hint expiry + max-message-age + skew margin.
      Duration maxMessageAge = maxClockOffset.multipliedBy(3);
      Duration skewMargin = maxClockOffset.multipliedBy(2);
      Duration hintExpiry = Duration.ofMillis(1_000 + random.nextInt(4_000));
      Duration grace = hintExpiry.plus(maxMessageAge).plus(skewMargin);
      SimNetwork.Faults faults = new SimNetwork.Faults(
          random.nextDouble() * 0.15, random.nextDouble() * 0.05, 2 + random.nextInt(20),
          random.nextDouble() * 0.05, 500 + random.nextInt(4_000));
      Fanout fanout = random.nextBoolean() ? Fanout.ALL : Fanout.quorumFirst(Duration.ofMillis(20 + random.nextInt(60)));
      Duration timeout = Duration.ofMillis(1_500 + random.nextInt(2_500));
      // As Settings requires: hedge delay < peer-request-timeout < read and write timeouts.
      Duration peerTimeout = timeout.multipliedBy(3 + random.nextInt(6)).dividedBy(10);
      Set<DeliberateBug> chosen = bugs.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(bugs));
      return new Config(seed, chosen, 2 + random.nextInt(3), 2 + random.nextInt(12),
          10_000 + random.nextInt(20_000), 15_000, maxClockOffset, maxMessageAge, grace,
          Duration.ofMillis(200 + random.nextInt(800)), Duration.ofMillis(100 + random.nextInt(900)), hintExpiry,
          1 + random.nextInt(8), Duration.ofMillis(500 + random.nextInt(2_500)),
          Duration.ofMillis(500 + random.nextInt(6_000)), Duration.ofMillis(500), timeout, timeout, peerTimeout,
          fanout, faults, 500 + random.nextInt(3_000), 200 + random.nextInt(random.nextBoolean() ? 6_000 : 15_000),
          fsync);
    }
  }

  /**
   * How a run went: its history, the checker's verdict, what else went wrong at the end (the
   * replicas did not converge, a final read found no quorum, a replica's bucket hashes disagree
   * with its records), and what it exercised.
   */
  record Result(Config config, List<Operation> history, LinearizabilityChecker.Result verdict,
      List<String> problems, Map<String, Long> counters) {

    boolean linearizable() {
      return verdict.verdict() == LinearizabilityChecker.Verdict.LINEARIZABLE;
    }

    boolean passed() {
      return linearizable() && problems.isEmpty();
    }

    String describe() {
      StringBuilder text = new StringBuilder("seed " + config.seed() + " " + verdict.verdict()
          + (config.bugs().isEmpty() ? "" : " with " + config.bugs()) + ": " + history.size() + " operations, "
          + counters + "\n  " + config + "\n");
      problems.forEach(problem -> text.append("  ").append(problem).append('\n'));
      verdict.smallestViolation().ifPresent(violation -> {
        text.append("  key ").append(violation.key()).append(": no linearization fits ")
            .append(violation.stuck().map(Operation::describe).orElse("?")).append('\n');
        violation.window().forEach(operation -> text.append("    ").append(operation.describe()).append('\n'));
      });
      return text.toString();
    }
  }

  static final List<String> NAMES = List.of("peer0", "peer1", "peer2");
  /** A bound on one run's work: a run that needs more is a livelock, reported as a failure. */
  private static final long STEPS_MAX = 20_000_000;
  private static final int FINAL_READ_ATTEMPTS = 10;
  /** How long, in simulated time, the healed replicas may take to hold the same values. */
  private static final long CONVERGENCE_MAX_MILLIS = 120_000;

  private final Config config;
  private final Random random;
  private final EventLoop loop = new EventLoop();
  private final SimNetwork network;
  private final List<SimReplica> replicas = new ArrayList<>();
  private final List<Operation> history = new ArrayList<>();
  private final List<String> problems = new ArrayList<>();
  private final Map<String, Long> counters = new TreeMap<>();
  private long nextTaskId = 1;
  private long workloadEnd;
  private boolean faultActive;

  private Simulation(Config config) {
    this.config = config;
    this.random = new Random(new SplittableRandom(~config.seed()).nextLong());
    this.network = new SimNetwork(loop, random, config.faults());
    for (String name : NAMES) {
      List<String> peers = NAMES.stream().filter(other -> !other.equals(name)).toList();
      replicas.add(new SimReplica(this, name, random.nextLong() | 1, peers, config.bugs(), config.fsync()));
    }
  }

  static Result run(long seed, Set<DeliberateBug> bugs) {
    return run(seed, bugs, FsyncMode.ALWAYS);
  }

  static Result run(long seed, Set<DeliberateBug> bugs, FsyncMode fsync) {
    try {
      return new Simulation(Config.of(seed, bugs, fsync)).run();
    } catch (RuntimeException e) {
      throw new IllegalStateException("seed " + seed + " failed: " + e.getMessage(), e);
    }
  }

  private Result run() {
    replicas.forEach(SimReplica::start);
    workloadEnd = config.workloadMillis();
    for (int client = 0; client < config.clients(); client++) {
      int id = client;
      loop.after(random.nextInt(50), () -> nextOperation(id, 0));
    }
    loop.after(random.nextLong(config.faultGapMaxMillis()), this::nextFault);
    loop.runUntil(workloadEnd, STEPS_MAX);
    // Heal everything and calm the network; the replicas must come to hold the same values,
    // every key is read once more, and each replica's bucket hashes must match its records.
    network.calm();
    replicas.stream().filter(replica -> !replica.isUp()).forEach(SimReplica::start);
    loop.runUntil(workloadEnd + config.quiesceMillis(), STEPS_MAX);
    long convergedBy = loop.now() + CONVERGENCE_MAX_MILLIS;
    while (!converged() && loop.now() < convergedBy) {
      loop.runUntil(loop.now() + 1_000, STEPS_MAX);
    }
    if (!converged()) {
      problems.add("the replicas hold different values " + CONVERGENCE_MAX_MILLIS + " ms after healing: "
          + replicas.stream().map(replica -> replica.name + "=" + replica.values()).toList());
    }
    for (int key = 0; key < config.keys(); key++) {
      finalRead("k" + key, FINAL_READ_ATTEMPTS);
      loop.runUntil(loop.now() + 20_000, STEPS_MAX);
    }
    for (SimReplica replica : replicas) {
      replica.checkBucketHashes((kept, fresh) -> {
        if (!java.util.Arrays.equals(kept, fresh)) {
          problems.add(replica.name + "'s bucket hashes differ from its records' in buckets "
              + io.quorumkv.store.BucketHashes.differing(kept, fresh));
        }
      });
    }
    loop.runUntil(loop.now() + 2_000, STEPS_MAX);
    replicas.forEach(replica -> counted("crashes", replica.disk.crashes()));
    replicas.forEach(replica -> counted("unsynced writes lost", replica.disk.lostWrites()));
    replicas.stream().filter(SimReplica::isUp).forEach(replica -> counted("tombstones purged", replica.tombstonesPurged()));
    replicas.stream().filter(SimReplica::isUp)
        .forEach(replica -> counted("paxos states forgotten", replica.paxosStatesForgotten()));
    counted("messages", network.sent());
    counted("dropped", network.dropped());
    counted("duplicated", network.duplicated());
    counted("steps", loop.steps());
    counted("ok operations", history.stream().filter(operation -> operation.outcome() == Outcome.OK).count());
    LinearizabilityChecker.Result verdict = new LinearizabilityChecker(64L << 20).check(history);
    return new Result(config, List.copyOf(history), verdict, List.copyOf(problems),
        Collections.unmodifiableMap(new TreeMap<>(counters)));
  }

  private boolean converged() {
    return replicas.stream().map(SimReplica::values).distinct().count() == 1;
  }

  /** A wall clock for a replica process: off simulated time by up to 0.3 x max-clock-offset either way. */
  long clockOffsetMillis() {
    long range = config.maxClockOffset().toMillis() * 3 / 10;
    return random.nextLong(2 * range + 1) - range;
  }

  // ---------------------------------------------------------------- the world, for the replicas

  long now() {
    return loop.now();
  }

  EventLoop loop() {
    return loop;
  }

  SimNetwork network() {
    return network;
  }

  Random random() {
    return random;
  }

  Config config() {
    return config;
  }

  long nextTaskId() {
    return nextTaskId++;
  }

  SimReplica replica(String name) {
    return replicas.get(NAMES.indexOf(name));
  }

  void counted(String what) {
    counted(what, 1);
  }

  void counted(String what, long count) {
    counters.merge(what, count, Long::sum);
  }

  // ---------------------------------------------------------------- clients

  private void nextOperation(int client, int sequence) {
    if (loop.now() >= workloadEnd) {
      return;
    }
    List<SimReplica> up = replicas.stream().filter(SimReplica::isUp).toList();
    if (up.isEmpty()) {
      loop.after(50, () -> nextOperation(client, sequence));
      return;
    }
    SimReplica coordinator = up.get(random.nextInt(up.size()));
    // Most operations go to two hot keys; the others are cold, so a key can stay untouched for
    // longer than the tombstone grace (which is what a purge rule needs to be tested).
    String key = "k" + (random.nextDouble() < 0.7 ? random.nextInt(2) : random.nextInt(config.keys()));
    double pick = random.nextDouble();
    Runnable next = () -> loop.after(random.nextInt(100), () -> nextOperation(client, sequence + 1));
    if (pick < 0.04) {
      list(client, coordinator, next);
    } else if (pick < 0.4) {
      read(client, coordinator, key, next);
    } else if (pick < 0.7) {
      String value = pick < 0.65 ? "c" + client + "-" + sequence : null;
      // One value write in five expires, within the run: its expiry is checked as an operation.
      long ttlMillis = value != null && random.nextInt(5) == 0 ? 1_000 + random.nextInt(3_000) : 0;
      write(client, coordinator, key, value, ttlMillis, next);
    } else {
      String value = pick < 0.97 ? "c" + client + "-" + sequence : null;
      readThenCas(client, coordinator, key, value, next);
    }
  }

  /**
   * One page of a listing (of every key, or of those under {@code k1}, from a random start, of a
   * random limit), in the history as reads over the listing's interval: each item a read of its
   * key, each key of the page's range it left out a read that found the key absent.
   */
  private void list(int client, SimReplica coordinator, Runnable next) {
    long invoked = loop.historyNanos();
    boolean[] done = new boolean[1];
    String prefix = random.nextBoolean() ? "k" : "k1";
    String start = random.nextBoolean() ? "" : "k" + random.nextInt(config.keys());
    int limit = 1 + random.nextInt(config.keys() + 1);
    coordinator.list(prefix, start, limit, result -> {
      if (done[0]) {
        return;
      }
      done[0] = true;
      if (result instanceof ListResult.Listed listed) {
        counted("list pages");
        long completed = loop.historyNanos();
        Map<String, String> items = new TreeMap<>();
        listed.items().forEach(item -> items.put(item.key(),
            new String(item.value().orElseThrow().bytes(), StandardCharsets.UTF_8)));
        for (int i = 0; i < config.keys(); i++) {
          String key = "k" + i;
          boolean covered = key.startsWith(prefix) && key.compareTo(start) >= 0
              && listed.next().map(following -> key.compareTo(following) < 0).orElse(true);
          if (covered) {
            history.add(new Operation(client, key, Kind.READ, items.get(key), invoked, completed, Outcome.OK));
          } else if (items.containsKey(key)) {
            problems.add("a listing of prefix " + prefix + " from '" + start + "' returned " + key
                + " outside its range (next " + listed.next() + ")");
          }
        }
      }
      next.run();
    });
    loop.after(clientTimeoutMillis(), () -> {
      if (!done[0]) {
        done[0] = true; // an unanswered listing constrains nothing
        next.run();
      }
    });
  }

  /**
   * A read-modify-write: a quorum read, then a conditional write expecting what it read (its
   * version, or absence). The read goes into the history too.
   */
  private void readThenCas(int client, SimReplica coordinator, String key, String value, Runnable next) {
    long invoked = loop.historyNanos();
    boolean[] done = new boolean[1];
    coordinator.read(key, result -> {
      if (done[0]) {
        return;
      }
      done[0] = true;
      if (!readAnswered(client, key, invoked, result) || !coordinator.isUp()) {
        next.run();
        return;
      }
      io.quorumkv.coordinator.Condition condition;
      String expected;
      if (result instanceof ReadResult.Found found) {
        condition = new io.quorumkv.coordinator.Condition.IfMatch(found.record().version());
        expected = new String(found.record().value().bytes(), StandardCharsets.UTF_8);
      } else {
        condition = new io.quorumkv.coordinator.Condition.IfAbsent();
        expected = null;
      }
      // Half the time the client thinks before it writes (as an application computing the new
      // value does), so other writes land in between and conditions turn false.
      long thinkMillis = random.nextBoolean() ? 0 : random.nextInt(60);
      loop.after(thinkMillis, () -> {
        if (coordinator.isUp()) {
          cas(client, coordinator, key, condition, expected, value, next);
        } else {
          next.run();
        }
      });
    });
    loop.after(clientTimeoutMillis(), () -> {
      if (!done[0]) {
        done[0] = true;
        next.run();
      }
    });
  }

  private void cas(int client, SimReplica coordinator, String key, io.quorumkv.coordinator.Condition condition,
      String expected, String value, Runnable next) {
    long invoked = loop.historyNanos();
    boolean[] done = new boolean[1];
    coordinator.cas(key, condition, Optional.ofNullable(value).map(Value::ofUtf8), 0L, result -> {
      if (!done[0]) {
        done[0] = true;
        if (result instanceof WriteResult.PreconditionFailed) {
          counted("cas refused");
          history.add(new Operation(client, key, Kind.CAS_REFUSED, null, invoked, loop.historyNanos(), Outcome.OK,
              expected));
        } else {
          Outcome outcome = result instanceof WriteResult.Contended ? Outcome.FAIL : outcomeOf(result);
          counted(outcome == Outcome.OK ? "cas ok" : "cas not ok");
          history.add(new Operation(client, key, Kind.CAS, value, invoked, loop.historyNanos(), outcome, expected));
        }
        next.run();
      }
    });
    loop.after(clientTimeoutMillis(), () -> {
      if (!done[0]) {
        done[0] = true;
        history.add(new Operation(client, key, Kind.CAS, value, invoked, loop.historyNanos(), Outcome.UNKNOWN,
            expected));
        next.run();
      }
    });
  }

  /** A client gives up this long after sending: its coordinator may have died with the request. */
  private long clientTimeoutMillis() {
    return Math.max(config.writeTimeout().toMillis(), config.readTimeout().toMillis()) + 1_000;
  }

  private void write(int client, SimReplica coordinator, String key, String value, long ttlMillis, Runnable next) {
    long invoked = loop.historyNanos();
    boolean[] done = new boolean[1];
    Optional<Value> written = Optional.ofNullable(value).map(Value::ofUtf8);
    if (ttlMillis != 0) {
      counted("ttl writes");
    }
    coordinator.write(key, written, ttlMillis, result -> {
      if (!done[0]) {
        done[0] = true;
        recordWrite(new Operation(client, key, Kind.WRITE, value, invoked, loop.historyNanos(), outcomeOf(result)),
            ttlMillis);
        next.run();
      }
    });
    loop.after(clientTimeoutMillis(), () -> {
      if (!done[0]) {
        done[0] = true;
        recordWrite(new Operation(client, key, Kind.WRITE, value, invoked, loop.historyNanos(), Outcome.UNKNOWN),
            ttlMillis);
        next.run();
      }
    });
  }

  /** A write, and the expiry of its value if it had a TTL and may have taken effect. */
  private void recordWrite(Operation write, long ttlMillis) {
    history.add(write);
    if (ttlMillis != 0 && write.outcome() != Outcome.FAIL) {
      history.add(Operation.expiry(write.key(), write.value(), ttlMillis, write.invokeNanos(), write.completeNanos(),
          config.maxClockOffset().toMillis()));
    }
  }

  private static Outcome outcomeOf(WriteResult result) {
    if (result instanceof WriteResult.Written) {
      return Outcome.OK;
    }
    if (result instanceof QuorumNotReached failed) {
      return failed.phase().indeterminate() ? Outcome.UNKNOWN : Outcome.FAIL;
    }
    return Outcome.FAIL; // refused before any replica was asked (the rounds never give these)
  }

  private void read(int client, SimReplica coordinator, String key, Runnable next) {
    long invoked = loop.historyNanos();
    boolean[] done = new boolean[1];
    coordinator.read(key, result -> {
      if (!done[0]) {
        done[0] = true;
        readAnswered(client, key, invoked, result);
        next.run();
      }
    });
    loop.after(clientTimeoutMillis(), () -> {
      if (!done[0]) {
        done[0] = true; // an unanswered read constrains nothing
        next.run();
      }
    });
  }

  private boolean readAnswered(int client, String key, long invoked, ReadResult result) {
    if (result instanceof ReadResult.Found found) {
      String value = new String(found.record().value().bytes(), StandardCharsets.UTF_8);
      history.add(new Operation(client, key, Kind.READ, value, invoked, loop.historyNanos(), Outcome.OK));
      return true;
    }
    if (result instanceof ReadResult.NotFound) {
      history.add(new Operation(client, key, Kind.READ, null, invoked, loop.historyNanos(), Outcome.OK));
      return true;
    }
    return false; // a read that failed constrains nothing
  }

  /** After healing: a quorum read of {@code key}, tried again until it answers. */
  private void finalRead(String key, int attemptsLeft) {
    if (attemptsLeft == 0) {
      problems.add("no final read of " + key + " answered in " + FINAL_READ_ATTEMPTS + " attempts");
      return;
    }
    long invoked = loop.historyNanos();
    replicas.get(0).read(key, result -> {
      if (!readAnswered(Operation.FINAL_READER, key, invoked, result)) {
        loop.after(100, () -> finalRead(key, attemptsLeft - 1));
      }
    });
  }

  // ---------------------------------------------------------------- faults

  /**
   * One fault at a time, then a gap: one replica crashes, all of them crash at once, one replica
   * is cut off both ways, or one link is cut one way.
   */
  private void nextFault() {
    if (loop.now() >= workloadEnd) {
      return;
    }
    long length = 100 + random.nextLong(config.faultLengthMaxMillis());
    double pick = random.nextDouble();
    if (!faultActive && pick < 0.05 && replicas.stream().allMatch(SimReplica::isReady)) {
      // A disk is lost and replaced: the replica rebuilds from its peers under a new id.
      SimReplica victim = replicas.get(random.nextInt(replicas.size()));
      faultActive = true;
      victim.replace();
      loop.after(length, () -> {
        if (!victim.isUp()) {
          victim.start();
        }
        faultActive = false;
      });
    } else if (!faultActive && pick < 0.4) {
      SimReplica victim = replicas.get(random.nextInt(replicas.size()));
      faultActive = true;
      victim.crash();
      loop.after(length, () -> {
        if (!victim.isUp()) { // the end of the workload may have restarted it already
          victim.start();
          if (random.nextBoolean()) {
            // Just restarted: its first messages are slow (cold connections), its peers' are not.
            network.slowSender(victim.name, 500 + random.nextLong(2_000), 100 + random.nextLong(900));
          }
        }
        faultActive = false;
      });
    } else if (!faultActive && pick < 0.5) {
      // A power cut: every replica dies at once and restarts on what its disk holds.
      faultActive = true;
      replicas.forEach(SimReplica::crash);
      loop.after(length, () -> {
        replicas.stream().filter(replica -> !replica.isUp()).forEach(SimReplica::start);
        faultActive = false;
      });
    } else if (!faultActive && pick < 0.75) {
      String isolated = NAMES.get(random.nextInt(NAMES.size()));
      faultActive = true;
      NAMES.stream().filter(other -> !other.equals(isolated)).forEach(other -> {
        network.cut(isolated, other);
        network.cut(other, isolated);
      });
      loop.after(length, this::healNetwork);
    } else if (!faultActive && pick < 0.9) {
      int from = random.nextInt(NAMES.size());
      int to = (from + 1 + random.nextInt(NAMES.size() - 1)) % NAMES.size();
      faultActive = true;
      network.cut(NAMES.get(from), NAMES.get(to));
      loop.after(length, this::healNetwork);
    }
    loop.after(length + random.nextLong(config.faultGapMaxMillis()), this::nextFault);
  }

  private void healNetwork() {
    network.heal();
    faultActive = false;
  }
}
