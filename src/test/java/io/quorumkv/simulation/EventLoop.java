package io.quorumkv.simulation;

import java.util.Comparator;
import java.util.PriorityQueue;

/**
 * Simulated time: actions run one at a time in time order, ties in the order they were
 * scheduled, so a run is a pure function of its seed. Nothing here reads a real clock.
 */
final class EventLoop {

  private record Scheduled(long at, long order, Runnable action) {}

  private final PriorityQueue<Scheduled> queue =
      new PriorityQueue<>(Comparator.comparingLong(Scheduled::at).thenComparingLong(Scheduled::order));
  private long now;
  private long order;
  private long steps;
  private long nanosMillis = -1;
  private long nanosWithin;

  /** Simulated milliseconds since the run began. */
  long now() {
    return now;
  }

  long steps() {
    return steps;
  }

  void after(long delayMillis, Runnable action) {
    if (delayMillis < 0) {
      throw new IllegalArgumentException("an action cannot run in the past: " + delayMillis);
    }
    queue.add(new Scheduled(now + delayMillis, order++, action));
  }

  /** Runs every action due until {@code endMillis} (or until {@code stepsMax} actions ran). */
  void runUntil(long endMillis, long stepsMax) {
    while (!queue.isEmpty() && queue.peek().at() <= endMillis) {
      if (steps >= stepsMax) {
        throw new IllegalStateException("the run took more than " + stepsMax + " steps: a livelock");
      }
      Scheduled next = queue.poll();
      now = next.at();
      steps++;
      next.action().run();
    }
    now = Math.max(now, endMillis);
  }

  /**
   * A timestamp for the history, in nanoseconds: strictly increasing, so the order of events
   * within one simulated millisecond is kept as real-time order.
   */
  long historyNanos() {
    if (now != nanosMillis) {
      nanosMillis = now;
      nanosWithin = 0;
    }
    return now * 1_000_000 + Math.min(nanosWithin++, 999_999);
  }
}
