package io.quorumkv.simulation;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The network between simulated replicas: every message between two replicas is delayed by a
 * seeded amount (so messages reorder), may be dropped or delivered twice, and is lost while the
 * link is cut (a partition, one way or both), or slow from one sender for a while (a replica
 * just restarted: cold connections, a cold JIT). A replica's messages to itself are local calls:
 * never lost, delayed or duplicated.
 */
final class SimNetwork {

  /**
   * The seed's choice of how bad the network is: {@code slow} messages take up to
   * {@code slowMaxMillis}, and one in {@link #VERY_LATE_ONE_IN} takes up to
   * {@link #VERY_LATE_MAX_MILLIS}, longer than any tombstone grace here.
   */
  record Faults(double drop, double duplicate, long delayMaxMillis, double slow, long slowMaxMillis) {
    static final Faults CALM = new Faults(0, 0, 5, 0, 1);
  }

  static final int VERY_LATE_ONE_IN = 500;
  static final long VERY_LATE_MAX_MILLIS = 20_000;

  private final EventLoop loop;
  private final Random random;
  private Faults faults;
  private final Set<String> cut = new HashSet<>();
  /** Senders whose messages take up to {@link SlowSender#extraMaxMillis} more, until {@link SlowSender#untilMillis}. */
  private final Map<String, SlowSender> slowSenders = new HashMap<>();

  private record SlowSender(long untilMillis, long extraMaxMillis) {}
  private long sent;
  private long dropped;
  private long duplicated;

  SimNetwork(EventLoop loop, Random random, Faults faults) {
    this.loop = loop;
    this.random = random;
    this.faults = faults;
  }

  /**
   * Sends a message; {@code refused} runs instead, at once, when the link is cut and the seed
   * makes the connection fail fast (the other half of the time it hangs, and the message is lost).
   */
  void send(String from, String to, Runnable deliver, Runnable refused) {
    if (from.equals(to)) {
      loop.after(0, deliver);
      return;
    }
    sent++;
    if (cut.contains(link(from, to))) {
      dropped++;
      if (random.nextBoolean()) {
        loop.after(1, refused);
      }
      return;
    }
    if (random.nextDouble() < faults.drop()) {
      dropped++;
      return;
    }
    loop.after(delay() + slowness(from), deliver);
    if (random.nextDouble() < faults.duplicate()) {
      duplicated++;
      loop.after(delay() + slowness(from), deliver);
    }
  }

  private long slowness(String from) {
    SlowSender slow = slowSenders.get(from);
    return slow == null || loop.now() >= slow.untilMillis() ? 0 : random.nextLong(slow.extraMaxMillis());
  }

  private long delay() {
    if (faults != Faults.CALM && random.nextInt(VERY_LATE_ONE_IN) == 0) {
      return 1 + random.nextLong(VERY_LATE_MAX_MILLIS);
    }
    if (random.nextDouble() < faults.slow()) {
      return 1 + random.nextLong(faults.slowMaxMillis());
    }
    return 1 + random.nextLong(faults.delayMaxMillis());
  }

  /** Loses every message from {@code from} to {@code to} until {@link #heal()}. */
  void cut(String from, String to) {
    cut.add(link(from, to));
  }

  void heal() {
    cut.clear();
  }

  /**
   * For {@code lengthMillis} from now, every message {@code from} sends takes up to
   * {@code extraMaxMillis} longer (its answers and requests alike, in any order), while messages
   * to it are not slowed: what a replica just restarted does, as the torture run saw on
   * 2026-12-07 (its stale read answer, then its peers' answers from after a tombstone settled).
   */
  void slowSender(String from, long lengthMillis, long extraMaxMillis) {
    slowSenders.put(from, new SlowSender(loop.now() + lengthMillis, extraMaxMillis));
  }

  /** From now on nothing is lost, duplicated or slow: for the end of a run, when the replicas must converge. */
  void calm() {
    heal();
    slowSenders.clear();
    faults = Faults.CALM;
  }

  private static String link(String from, String to) {
    return from + "->" + to;
  }

  long sent() {
    return sent;
  }

  long dropped() {
    return dropped;
  }

  long duplicated() {
    return duplicated;
  }
}
