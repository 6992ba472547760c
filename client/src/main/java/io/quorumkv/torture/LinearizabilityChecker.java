package io.quorumkv.torture;

import io.quorumkv.torture.Operation.Kind;
import io.quorumkv.torture.Operation.Outcome;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Decides whether a history of reads and writes is linearizable, key by key (a store of
 * independent registers is linearizable iff each register is: locality, Herlihy and Wing).
 *
 * <p>The search is the Wing-Gong algorithm with Lowe's memoisation, as in Knossos and
 * Porcupine: walk the history's call and return events in time order, linearize any pending
 * call whose effect fits the register's state, and backtrack at a return whose operation was
 * not linearized yet; a (linearized set, state) pair already explored is never explored again.
 *
 * <p>What each outcome may do:
 * <ul>
 *   <li>{@code ok}: took effect once, between its invocation and its completion.
 *   <li>{@code fail}: never took effect; left out.
 *   <li>{@code unknown} write: took effect at some time after its invocation, or never. Values
 *       are unique per write, so an unknown write nobody read is left out (taking effect could
 *       only hurt), and one that was read took effect before the first read of its value
 *       completed (its deadline). An unknown delete keeps no deadline; all unknown deletes
 *       that are pending at one point are interchangeable, so only the first is ever tried.
 *   <li>{@code unknown} or failed reads constrain nothing and are left out.
 * </ul>
 * Initially every key is absent.
 */
public final class LinearizabilityChecker {

  /** The verdict on one key. {@code stuck} and {@code window} are empty when it is linearizable or undecided. */
  public record KeyVerdict(
      String key, Verdict verdict, int operations, Optional<Operation> stuck, List<Operation> window) {}

  public enum Verdict { LINEARIZABLE, NOT_LINEARIZABLE, UNDECIDED }

  /** The verdict on a whole history. */
  public record Result(List<KeyVerdict> keys) {
    public Verdict verdict() {
      if (keys.stream().anyMatch(key -> key.verdict() == Verdict.NOT_LINEARIZABLE)) {
        return Verdict.NOT_LINEARIZABLE;
      }
      if (keys.stream().anyMatch(key -> key.verdict() == Verdict.UNDECIDED)) {
        return Verdict.UNDECIDED;
      }
      return Verdict.LINEARIZABLE;
    }

    /** The violation with the fewest operations in its window, if any. */
    public Optional<KeyVerdict> smallestViolation() {
      return keys.stream()
          .filter(key -> key.verdict() == Verdict.NOT_LINEARIZABLE)
          .min(Comparator.comparingInt(key -> key.window().size()));
    }
  }

  private static final long NEVER = Long.MAX_VALUE;
  /** Operations completed before the stuck one that a violation report shows. */
  private static final int RECENT_BEFORE = 4;

  private final long memoBytesLimit;

  /**
   * @param memoBytesLimit about how much memory one key's memo of explored states may take
   *     before the checker gives up on that key (UNDECIDED) instead of running out of memory
   */
  public LinearizabilityChecker(long memoBytesLimit) {
    this.memoBytesLimit = memoBytesLimit;
  }

  /** A memo of at most 1 GiB per key. */
  public LinearizabilityChecker() {
    this(1L << 30);
  }

  public Result check(List<Operation> history) {
    Map<String, List<Operation>> byKey = new TreeMap<>();
    for (Operation operation : history) {
      byKey.computeIfAbsent(operation.key(), key -> new ArrayList<>()).add(operation);
    }
    List<KeyVerdict> verdicts = new ArrayList<>();
    for (Map.Entry<String, List<Operation>> key : byKey.entrySet()) {
      verdicts.add(new KeySearch(key.getKey(), key.getValue(), memoBytesLimit).run());
    }
    return new Result(verdicts);
  }

  /** One operation as the search sees it: its effect and the interval it must take effect in. */
  private record Candidate(Operation operation, long call, long deadline, int valueId, boolean pendingDelete) {}

  private static List<Candidate> prepare(List<Operation> operations, Map<String, Integer> valueIds) {
    Map<String, Long> firstReadCompletion = new HashMap<>();
    for (Operation operation : operations) {
      if (operation.kind() == Kind.READ && operation.outcome() == Outcome.OK && operation.value() != null) {
        firstReadCompletion.merge(operation.value(), operation.completeNanos(), Math::min);
      }
    }
    List<Candidate> candidates = new ArrayList<>();
    for (Operation operation : operations) {
      if (operation.outcome() == Outcome.FAIL || operation.kind() == Kind.READ && operation.outcome() != Outcome.OK) {
        continue;
      }
      int valueId = operation.value() == null ? 0 : valueIds.computeIfAbsent(operation.value(), v -> valueIds.size() + 1);
      if (operation.outcome() == Outcome.OK) {
        candidates.add(new Candidate(operation, operation.invokeNanos(), operation.completeNanos(), valueId, false));
      } else if (operation.value() == null) {
        candidates.add(new Candidate(operation, operation.invokeNanos(), NEVER, valueId, true));
      } else {
        Long readBy = firstReadCompletion.get(operation.value());
        if (readBy != null) {
          candidates.add(new Candidate(operation, operation.invokeNanos(), Math.max(readBy, operation.invokeNanos()),
              valueId, false));
        }
      }
    }
    return candidates;
  }

  /** The search for one key. */
  private static final class KeySearch {

    /** A call or return event in the doubly linked list the search lifts events out of. */
    private static final class Event {
      final int index; // into candidates
      final boolean isCall;
      final long time;
      Event match; // a call's return, a return's call
      Event prev;
      Event next;

      Event(int index, boolean isCall, long time) {
        this.index = index;
        this.isCall = isCall;
        this.time = time;
      }
    }

    private record Frame(Event call, int previousState) {}

    /** A memo entry: which candidates are linearized, and the register's state after them. */
    private record Explored(long[] linearized, int state) {
      @Override
      public boolean equals(Object other) {
        return other instanceof Explored that && state == that.state && Arrays.equals(linearized, that.linearized);
      }

      @Override
      public int hashCode() {
        return 31 * Arrays.hashCode(linearized) + state;
      }
    }

    private final String key;
    private final List<Operation> operations;
    private final long explorationLimit;
    private final List<Candidate> candidates;
    private final Event head = new Event(-1, false, Long.MIN_VALUE);

    KeySearch(String key, List<Operation> operations, long memoBytesLimit) {
      this.key = key;
      this.operations = operations;
      this.candidates = prepare(operations, new HashMap<>());
      // An entry: the bit set's words, plus object, array and hash-set node headers.
      long entryBytes = 8L * ((candidates.size() + 63) / 64) + 96;
      this.explorationLimit = Math.max(1, memoBytesLimit / entryBytes);
    }

    KeyVerdict run() {
      buildEvents();
      long[] linearized = new long[(candidates.size() + 63) / 64];
      Set<Explored> explored = new HashSet<>();
      Deque<Frame> stack = new ArrayDeque<>();
      int state = 0; // absent
      Event stuckAt = null;
      int deepest = -1;
      Event entry = head.next;
      boolean pendingDeleteSeen = false; // in the current scan: only the first pending delete is tried
      while (head.next != null) {
        if (entry.isCall) {
          Candidate candidate = candidates.get(entry.index);
          boolean skip = candidate.pendingDelete() && pendingDeleteSeen;
          pendingDeleteSeen |= candidate.pendingDelete();
          if (!skip) {
            int next = apply(state, candidate);
            if (next >= 0) {
              set(linearized, entry.index, true);
              if (explored.add(new Explored(linearized.clone(), next))) {
                if (explored.size() > explorationLimit) {
                  return new KeyVerdict(key, Verdict.UNDECIDED, operations.size(), Optional.empty(), List.of());
                }
                stack.push(new Frame(entry, state));
                state = next;
                lift(entry);
                entry = head.next;
                pendingDeleteSeen = false;
                continue;
              }
              set(linearized, entry.index, false);
            }
          }
          entry = entry.next;
        } else {
          if (entry.time == NEVER) {
            // Every operation with a deadline is linearized; the pending deletes left may
            // simply never have taken effect.
            return new KeyVerdict(key, Verdict.LINEARIZABLE, operations.size(), Optional.empty(), List.of());
          }
          if (stack.size() > deepest) {
            deepest = stack.size();
            stuckAt = entry;
          }
          if (stack.isEmpty()) {
            return violation(stuckAt);
          }
          Frame frame = stack.pop();
          state = frame.previousState();
          set(linearized, frame.call().index, false);
          unlift(frame.call());
          entry = frame.call().next;
          pendingDeleteSeen = pendingDeleteBefore(entry);
        }
      }
      return new KeyVerdict(key, Verdict.LINEARIZABLE, operations.size(), Optional.empty(), List.of());
    }

    /** The register's state after {@code candidate} from {@code state}, or -1 when it cannot take effect there. */
    private static int apply(int state, Candidate candidate) {
      if (candidate.operation().kind() == Kind.WRITE) {
        return candidate.valueId();
      }
      return candidate.valueId() == state ? state : -1;
    }

    /** Whether the scan that reached {@code entry} already passed a pending delete's call. */
    private boolean pendingDeleteBefore(Event entry) {
      for (Event event = head.next; event != null && event != entry; event = event.next) {
        if (event.isCall && candidates.get(event.index).pendingDelete()) {
          return true;
        }
      }
      return false;
    }

    private void buildEvents() {
      List<Event> events = new ArrayList<>();
      for (int i = 0; i < candidates.size(); i++) {
        Event call = new Event(i, true, candidates.get(i).call());
        Event ret = new Event(i, false, candidates.get(i).deadline());
        call.match = ret;
        ret.match = call;
        events.add(call);
        events.add(ret);
      }
      // Time order; at equal times calls first, so operations that touch are concurrent.
      events.sort(Comparator.comparingLong((Event event) -> event.time).thenComparing(event -> !event.isCall));
      Event previous = head;
      for (Event event : events) {
        previous.next = event;
        event.prev = previous;
        previous = event;
      }
    }

    /** Takes a linearized call and its return out of the list. */
    private static void lift(Event call) {
      remove(call);
      remove(call.match);
    }

    private static void remove(Event event) {
      event.prev.next = event.next;
      if (event.next != null) {
        event.next.prev = event.prev;
      }
    }

    /** Puts a call and its return back where they were (the reverse of {@link #lift}). */
    private static void unlift(Event call) {
      restore(call.match);
      restore(call);
    }

    private static void restore(Event event) {
      event.prev.next = event;
      if (event.next != null) {
        event.next.prev = event;
      }
    }

    private static void set(long[] bits, int index, boolean value) {
      if (value) {
        bits[index >>> 6] |= 1L << index;
      } else {
        bits[index >>> 6] &= ~(1L << index);
      }
    }

    /**
     * The operation no linearization got past (the one whose completion the deepest search
     * reached without having linearized it) and the operations that explain why: those
     * overlapping it in time, the last few completed before it began, and the writes of the
     * values those read.
     */
    private KeyVerdict violation(Event stuckAt) {
      Operation stuck = candidates.get(stuckAt.index).operation();
      long from = stuck.invokeNanos();
      long to = stuck.completeNanos();
      Set<Operation> window = new LinkedHashSet<>();
      List<Candidate> before = new ArrayList<>();
      for (Candidate candidate : candidates) {
        if (candidate.call() <= to && candidate.deadline() >= from) {
          window.add(candidate.operation());
        } else if (candidate.deadline() < from) {
          before.add(candidate);
        }
      }
      before.sort(Comparator.comparingLong(Candidate::deadline).reversed());
      before.stream().limit(RECENT_BEFORE).map(Candidate::operation).forEach(window::add);
      for (Operation read : List.copyOf(window)) {
        if (read.kind() == Kind.READ) {
          candidates.stream()
              .map(Candidate::operation)
              .filter(write -> write.kind() == Kind.WRITE && write.value() != null && write.value().equals(read.value()))
              .forEach(window::add);
        }
      }
      List<Operation> ordered = new ArrayList<>(window);
      ordered.sort(Comparator.comparingLong(Operation::invokeNanos));
      return new KeyVerdict(key, Verdict.NOT_LINEARIZABLE, operations.size(), Optional.of(stuck),
          List.copyOf(ordered));
    }
  }
}
