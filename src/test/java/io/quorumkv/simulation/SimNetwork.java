package io.quorumkv.simulation;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

/**
 * The network between simulated replicas: every message between two replicas is delayed by a
 * seeded amount (so messages reorder), may be dropped or delivered twice, and is lost while the
 * link is cut (a partition, one way or both). A replica's messages to itself are local calls:
 * never lost, delayed or duplicated.
 */
final class SimNetwork {

  /** The seed's choice of how bad the network is. */
  record Faults(double drop, double duplicate, long delayMaxMillis, double slow, long slowMaxMillis) {}

  private final EventLoop loop;
  private final Random random;
  private final Faults faults;
  private final Set<String> cut = new HashSet<>();
  private long sent;
  private long dropped;
  private long duplicated;

  SimNetwork(EventLoop loop, Random random, Faults faults) {
    this.loop = loop;
    this.random = random;
    this.faults = faults;
  }

  void send(String from, String to, Runnable deliver) {
    if (from.equals(to)) {
      loop.after(0, deliver);
      return;
    }
    sent++;
    if (cut.contains(link(from, to)) || random.nextDouble() < faults.drop()) {
      dropped++;
      return;
    }
    loop.after(delay(), deliver);
    if (random.nextDouble() < faults.duplicate()) {
      duplicated++;
      loop.after(delay(), deliver);
    }
  }

  private long delay() {
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

  boolean isCut() {
    return !cut.isEmpty();
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
