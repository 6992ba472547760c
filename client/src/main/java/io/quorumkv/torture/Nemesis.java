package io.quorumkv.torture;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Injects faults into a {@link TortureCluster} on a schedule: one fault at a time, held for a
 * few seconds, then healed, with a quiet gap between faults. A killed replica is started again
 * without waiting for it to answer (a start takes seconds on a busy machine), so the next
 * fault may overlap its start. The kinds are taken in a shuffled
 * cycle, so a run long enough for one cycle sees every kind enabled. Every fault is healed
 * before {@link #run} returns.
 */
public final class Nemesis {

  /** The kinds of fault, by the names {@code --faults} takes. */
  public enum Fault {
    /** kill -9 of one replica, restarted a few seconds later on its data. */
    KILL("kill"),
    /** SIGSTOP of one replica for a few seconds, then SIGCONT. */
    PAUSE("pause"),
    /** One replica cut off from the other two (connections dropped, black-holed or delayed). */
    PARTITION("partition"),
    /**
     * Every open connection to and from one replica stops forwarding, both ways, for good, and
     * stays open, also after healing (half-open links no reset ends); new connections pass.
     */
    STALL("stall"),
    /** Every link between replicas drops a share of the requests at random. */
    LOSSY("lossy"),
    /** One replica cut off, then hint and read-repair traffic dropped while it catches up. */
    DROP_REPAIRS("drop-repairs"),
    /** kill -9 of all three replicas at once, then all restarted. */
    KILL_ALL("kill-all"),
    /** SIGSTOP of one replica for longer than the tombstone grace. */
    LONG_PAUSE("long-pause"),
    /**
     * One replica restarted with its clock skewed within the clock fence (ahead: a forward
     * jump; or behind), so it keeps coordinating with its clock off, and the links of one
     * replica slowed for a few seconds so it hears the others' clock readings late: the skewed
     * one when it is behind, another one when it is ahead. The skew stays until the replica's
     * next restart (by a later fault, or the final healing, which restarts it with its clock
     * right).
     */
    CLOCK("clock"),
    /**
     * One replica restarted with its clock far beyond max-clock-offset, ahead or behind, for a
     * few seconds, then restarted with its clock right: meanwhile the others refuse its readings
     * and it fences itself, so they serve on as two; no version may run ahead of real time by
     * more than the offset.
     */
    FAR_CLOCK("far-clock");

    private final String label;

    Fault(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }

    /** {@code all} or a comma-separated list of labels. */
    public static Set<Fault> parseList(String list) {
      if (list.trim().equalsIgnoreCase("all")) {
        return EnumSet.allOf(Fault.class);
      }
      Set<Fault> faults = EnumSet.noneOf(Fault.class);
      for (String item : list.split(",")) {
        String label = item.trim().toLowerCase(Locale.ROOT);
        if (label.isEmpty() || label.equals("none")) {
          continue;
        }
        Fault fault = null;
        for (Fault candidate : values()) {
          if (candidate.label.equals(label)) {
            fault = candidate;
          }
        }
        if (fault == null) {
          throw new IllegalArgumentException("unknown fault '" + label + "' (known: all, none, kill, pause, partition, "
              + "stall, lossy, drop-repairs, kill-all, long-pause, clock, far-clock)");
        }
        faults.add(fault);
      }
      return faults;
    }
  }

  /**
   * @param longPause how long {@link Fault#LONG_PAUSE} freezes a replica (longer than the tombstone grace)
   * @param clockSkew the offset {@link Fault#CLOCK} gives a replica's clock, either way
   * @param farClockSkew the offset {@link Fault#FAR_CLOCK} gives it, beyond max-clock-offset
   */
  public record Timing(Duration longPause, Duration clockSkew, Duration farClockSkew) {}

  private final TortureCluster cluster;
  private final Set<Fault> enabled;
  private final Timing timing;
  private final Random random;
  private final Consumer<String> log;
  private final Map<Fault, Integer> injected = new EnumMap<>(Fault.class);
  private volatile String current = "none";

  public Nemesis(TortureCluster cluster, Set<Fault> enabled, Timing timing, long seed, Consumer<String> log) {
    this.cluster = cluster;
    this.enabled = enabled;
    this.timing = timing;
    this.random = new Random(seed);
    this.log = log;
  }

  /** The fault being held now, for progress lines. */
  public String current() {
    return current;
  }

  /** Faults injected so far, by kind. */
  public synchronized Map<Fault, Integer> injected() {
    return new EnumMap<>(injected);
  }

  /**
   * Injects faults until {@code deadlineNanos} ({@link System#nanoTime()}); a fault that would
   * not be healed by then is not started. Everything is healed when it returns.
   */
  public void run(long deadlineNanos) throws IOException, InterruptedException {
    if (enabled.isEmpty()) {
      return;
    }
    List<Fault> cycle = new ArrayList<>();
    try {
      while (true) {
        sleep(Duration.ofMillis(300 + random.nextInt(700))); // quiet between faults
        if (cycle.isEmpty()) {
          cycle.addAll(enabled);
          Collections.shuffle(cycle, random);
        }
        // The next fault of the cycle that can still be healed before the deadline.
        long now = System.nanoTime();
        Fault fault = cycle.stream()
            .filter(candidate -> now + worstCase(candidate).toNanos() <= deadlineNanos)
            .findFirst()
            .orElse(null);
        if (fault == null) {
          return;
        }
        cycle.remove(fault);
        inject(fault);
        synchronized (this) {
          injected.merge(fault, 1, Integer::sum);
        }
      }
    } finally {
      current = "healing";
      cluster.healAll();
      current = "none";
    }
  }

  /** How long a fault may take from start to healed, restarts included. */
  private Duration worstCase(Fault fault) {
    return switch (fault) {
      case LONG_PAUSE -> timing.longPause().plusSeconds(1);
      case KILL_ALL, KILL -> Duration.ofSeconds(3);
      case CLOCK, FAR_CLOCK -> Duration.ofSeconds(16);
      default -> Duration.ofSeconds(6);
    };
  }

  private void inject(Fault fault) throws IOException, InterruptedException {
    // One replica faulty at a time (but for kill-all): a fault while another replica is still
    // starting strikes that one again, so the run keeps a quorum most of the time and its
    // successful operations prove something, however slowly a busy machine restarts replicas.
    int target = cluster.notServing().orElseGet(() -> random.nextInt(3));
    String name = "peer" + target;
    switch (fault) {
      case KILL -> {
        announce("kill -9 " + name);
        cluster.kill(target);
        sleep(hold(500, 2_000));
        announce("restart " + name + " (the next faults go on while it starts)");
        cluster.startAgain(target);
      }
      case PAUSE -> {
        announce("pause " + name);
        cluster.pause(target);
        sleep(hold(1_000, 3_000));
        cluster.resume(target);
      }
      case PARTITION -> {
        String how = List.of("cut", "blackhole", "delay").get(random.nextInt(3));
        announce("isolate " + name + " (" + how + ")");
        switch (how) {
          case "cut" -> cluster.isolate(target, FaultProxy::cut);
          case "blackhole" -> cluster.isolate(target, FaultProxy::blackhole);
          default -> {
            long delay = 200 + random.nextInt(1_300);
            cluster.isolate(target, proxy -> proxy.delay(delay));
          }
        }
        sleep(hold(2_000, 4_000));
        cluster.healNetwork();
      }
      case STALL -> {
        announce("stall every open link of " + name + " (they stay open, silent, for good)");
        cluster.isolate(target, FaultProxy::stall);
        sleep(hold(2_000, 4_000));
        cluster.healNetwork();
      }
      case LOSSY -> {
        int percent = 20 + random.nextInt(21);
        announce("every link loses " + percent + "% of requests");
        cluster.loseEverywhere(percent / 100.0);
        sleep(hold(2_000, 4_000));
        cluster.healNetwork();
      }
      case DROP_REPAIRS -> {
        announce("isolate " + name + ", then drop hint and repair traffic");
        cluster.isolate(target, FaultProxy::cut);
        sleep(hold(1_000, 2_000));
        cluster.healNetwork();
        cluster.dropCauses(Set.of("hint", "repair"));
        sleep(hold(2_000, 3_000));
        cluster.healNetwork();
      }
      case KILL_ALL -> {
        announce("kill -9 all replicas");
        cluster.killAll();
        sleep(hold(500, 1_500));
        announce("restart all replicas (the next faults go on while they start)");
        for (int replica = 0; replica < 3; replica++) {
          cluster.startAgain(replica);
        }
      }
      case LONG_PAUSE -> {
        announce("pause " + name + " for " + timing.longPause().toSeconds() + " s (longer than the tombstone grace)");
        cluster.pause(target);
        sleep(timing.longPause());
        cluster.resume(target);
      }
      case CLOCK -> {
        Duration skew = random.nextBoolean() ? timing.clockSkew() : timing.clockSkew().negated();
        announce("restart " + name + " with its clock " + (skew.isNegative() ? "behind" : "ahead") + " by "
            + skew.abs().toSeconds() + " s");
        cluster.kill(target);
        cluster.restart(target, skew);
        // The replica left in the dark about the others' latest clocks: the one behind itself,
        // or, when it is ahead, one of the others (it hears the skewed clock late).
        int slow = skew.isNegative() ? target : (target + 1 + random.nextInt(2)) % 3;
        // Slow, not cut: round trips stay within the replicas' 1 s peer-request timeout, so its
        // writes still succeed (with whatever version its clock gives them).
        long delay = 100 + random.nextInt(300);
        announce("slow peer" + slow + "'s links by " + delay + " ms");
        cluster.isolate(slow, proxy -> proxy.delay(delay));
        sleep(hold(2_000, 3_000));
        cluster.healNetwork();
      }
      case FAR_CLOCK -> {
        Duration skew = random.nextBoolean() ? timing.farClockSkew() : timing.farClockSkew().negated();
        announce("restart " + name + " with its clock far " + (skew.isNegative() ? "behind" : "ahead") + ", by "
            + skew.abs().toSeconds() + " s");
        cluster.kill(target);
        cluster.restart(target, skew);
        sleep(hold(4_000, 6_000));
        announce("restart " + name + " with its clock right (the next faults go on while it starts)");
        cluster.kill(target);
        cluster.startAgain(target);
      }
    }
    current = "none";
  }

  private void announce(String what) {
    current = what;
    log.accept(what);
  }

  private Duration hold(int minMillis, int maxMillis) {
    return Duration.ofMillis(minMillis + random.nextInt(maxMillis - minMillis));
  }

  private static void sleep(Duration duration) throws InterruptedException {
    Thread.sleep(duration.toMillis());
  }
}
