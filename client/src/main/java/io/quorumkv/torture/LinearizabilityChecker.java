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
 *   <li>A conditional write ({@code cas}) takes effect only where the register holds its
 *       expected value (absent: a delete or nothing); its outcomes are a write's. One answered
 *       412 ({@code cas-refused}) took effect where the register held anything else, and changed
 *       nothing. On a key with refusals, an unknown write or conditional write nobody read may
 *       explain one: it is kept as pending with no deadline, writing a value nobody saw (all such
 *       plain writes are interchangeable, as unknown deletes are).
 *   <li>An {@code expire} (the expiry of a value written with a TTL) takes effect once within its
 *       window, making the key absent if it still holds that value (a TTL write whose outcome is
 *       unknown and that nobody read may also take effect after its window, already expired: a
 *       delete then, over absence or a value written before it could have had a higher version);
 *       a read of that value or of
 *       absence overlapping the window may return either while the key holds the value or its
 *       expiry (coordinators may disagree there, and flip), never once it holds another value.
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

  /**
   * One operation as the search sees it: its effect and the interval it must take effect in.
   * {@code group}: pending operations of one group (not 0) are interchangeable, so a scan tries
   * only the first of them. {@code windowOf}: the value whose expiry window a read or condition
   * overlaps (0: none). {@code overwrites}: for a late landing of an expired write, the values it
   * may replace (null for every other operation).
   */
  private record Candidate(Operation operation, long call, long deadline, int valueId, int expectedId, int group,
      int windowOf, java.util.BitSet overwrites) {
    Candidate(Operation operation, long call, long deadline, int valueId, int expectedId, int group) {
      this(operation, call, deadline, valueId, expectedId, group, 0, null);
    }

    Candidate(Operation operation, long call, long deadline, int valueId, int expectedId, int group, int windowOf) {
      this(operation, call, deadline, valueId, expectedId, group, windowOf, null);
    }

    boolean pending() {
      return group != NO_GROUP;
    }
  }

  /**
   * The state after the expiry of the value of id {@code valueId}: absent, remembered as that
   * value's expiry (so a read inside the value's window may still see it), as a number below -1
   * (-1 is "cannot take effect", ids are not negative).
   */
  private static final int CANNOT = -1;

  private static int expired(int valueId) {
    return -2 - valueId;
  }

  private static boolean absent(int state) {
    return state == 0 || state < -1;
  }

  private static final int NO_GROUP = 0;
  /** Unknown deletes: each leaves the register absent. */
  private static final int PENDING_DELETES = 1;
  /** Unknown plain writes nobody read: each leaves a value nobody saw. */
  private static final int PENDING_UNSEEN_WRITES = 2;
  /** Unknown conditional writes nobody read, each pending alone (their conditions differ). */
  private static final int PENDING_ALONE = 3;

  private static List<Candidate> prepare(List<Operation> operations, Map<String, Integer> valueIds) {
    // When each value was seen at the latest: read, or expected by a conditional write that
    // took effect; an unknown conditional write whose own value was seen took effect before
    // then, so its expected value was there before then too (to a fixpoint).
    Map<String, Long> seenBy = new HashMap<>();
    Set<String> expected = new HashSet<>();
    boolean refusals = false;
    List<Operation> expiries = operations.stream().filter(operation -> operation.kind() == Kind.EXPIRE).toList();
    for (Operation operation : operations) {
      if (operation.expected() != null) {
        // An expiry names its value too: an unknown write of it nobody read may have taken effect
        // and expired, which can explain an absence.
        expected.add(operation.expected());
      }
      if (operation.kind() == Kind.EXPIRE) {
        continue; // it does not see the value it names
      }
      if (operation.outcome() != Outcome.OK) {
        continue;
      }
      if (operation.kind() == Kind.READ && operation.value() != null) {
        seenBy.merge(operation.value(), operation.completeNanos(), Math::min);
      } else if (operation.kind() == Kind.CAS && operation.expected() != null) {
        seenBy.merge(operation.expected(), operation.completeNanos(), Math::min);
      }
      refusals |= operation.kind() == Kind.CAS_REFUSED;
    }
    for (boolean changed = true; changed; ) {
      changed = false;
      for (Operation operation : operations) {
        if (operation.kind() == Kind.CAS && operation.outcome() == Outcome.UNKNOWN && operation.expected() != null
            && operation.value() != null && seenBy.containsKey(operation.value())) {
          long by = Math.max(seenBy.get(operation.value()), operation.invokeNanos());
          Long before = seenBy.get(operation.expected());
          if (before == null || by < before) {
            seenBy.put(operation.expected(), by);
            changed = true;
          }
        }
      }
    }
    int unseen = Integer.MAX_VALUE; // the value nobody saw: no value's id
    List<Candidate> candidates = new ArrayList<>();
    Set<String> expiring = new HashSet<>();
    expiries.forEach(expiry -> expiring.add(expiry.expected()));
    for (Operation operation : operations) {
      if (operation.outcome() == Outcome.FAIL || !operation.writes() && operation.outcome() != Outcome.OK) {
        continue;
      }
      if (operation.kind() == Kind.WRITE && operation.outcome() == Outcome.UNKNOWN && operation.value() != null
          && expiring.contains(operation.value()) && !seenBy.containsKey(operation.value()) && !refusals) {
        // An unknown TTL write nobody read (nor could a 412 have seen it: there is none on the
        // key): below, as the absence it leaves.
        continue;
      }
      int valueId = idOf(operation.value(), valueIds);
      int expectedId = idOf(operation.expected(), valueIds);
      boolean cas = operation.kind() == Kind.CAS;
      int windowOf = inAnExpiryWindow(operation, expiries).map(window -> idOf(window.expected(), valueIds)).orElse(0);
      if (operation.outcome() == Outcome.OK) {
        candidates.add(new Candidate(operation, operation.invokeNanos(), operation.completeNanos(), valueId, expectedId,
            NO_GROUP, windowOf));
      } else if (operation.value() == null) {
        // An unknown delete: all plain ones are interchangeable; a conditional one is pending alone.
        candidates.add(new Candidate(operation, operation.invokeNanos(), NEVER, valueId, expectedId,
            cas ? PENDING_ALONE : PENDING_DELETES, windowOf));
      } else if (seenBy.containsKey(operation.value())) {
        candidates.add(new Candidate(operation, operation.invokeNanos(),
            Math.max(seenBy.get(operation.value()), operation.invokeNanos()), valueId, expectedId, NO_GROUP, windowOf));
      } else if (expected.contains(operation.value())) {
        // Nobody saw it, but a conditional write or a refusal names it: it may matter, as itself.
        candidates.add(new Candidate(operation, operation.invokeNanos(), NEVER, valueId, expectedId, PENDING_ALONE, windowOf));
      } else if (refusals) {
        candidates.add(new Candidate(operation, operation.invokeNanos(), NEVER, unseen, expectedId,
            cas ? PENDING_ALONE : PENDING_UNSEEN_WRITES, windowOf));
      }
      // Else an unknown write nobody saw and nothing names: taking effect could only hurt.
    }
    // A write with a TTL whose outcome is unknown and which nobody read may have taken effect at any
    // time after its invocation, in its window (present unseen, then expired) or after it (a copy
    // landing late, expired at once): either way what anyone can see is the absence it leaves, so
    // it is a pending delete. Its version was taken before it completed, so it can win only over
    // absence and over values whose writes may have taken lower versions: those invoked before it
    // completed, plus the clock slack of its window.
    for (Operation expiry : expiries) {
      Optional<Operation> unknownWrite = operations.stream().filter(operation -> operation.kind() == Kind.WRITE
          && operation.outcome() == Outcome.UNKNOWN && expiry.expected().equals(operation.value())).findFirst();
      if (unknownWrite.isEmpty() || seenBy.containsKey(expiry.expected())) {
        continue;
      }
      Operation write = unknownWrite.get();
      long slack = ((expiry.completeNanos() - expiry.invokeNanos()) - (write.completeNanos() - write.invokeNanos())) / 2;
      java.util.BitSet overwrites = new java.util.BitSet();
      for (Operation other : operations) {
        if (other.writes() && other.value() != null && other.invokeNanos() < write.completeNanos() + slack) {
          overwrites.set(idOf(other.value(), valueIds));
        }
      }
      Operation late = new Operation(Operation.EXPIRY, expiry.key(), Kind.WRITE, null, write.invokeNanos(),
          write.invokeNanos(), Outcome.UNKNOWN);
      candidates.add(new Candidate(late, late.invokeNanos(), NEVER, 0, 0, PENDING_ALONE, 0, overwrites));
    }
    return candidates;
  }

  /**
   * The expiry whose window overlaps a read of its value or of absence, or a conditional write
   * expecting its value or absence, if any: such an operation may find the value or absence while
   * the key holds that value or its expiry (see {@link Kind#EXPIRE}).
   */
  private static Optional<Operation> inAnExpiryWindow(Operation operation, List<Operation> expiries) {
    if (operation.kind() != Kind.READ && operation.kind() != Kind.CAS && operation.kind() != Kind.CAS_REFUSED) {
      return Optional.empty();
    }
    String found = operation.kind() == Kind.READ ? operation.value() : operation.expected();
    for (Operation expiry : expiries) {
      boolean overlaps = operation.invokeNanos() <= expiry.completeNanos()
          && expiry.invokeNanos() <= operation.completeNanos();
      if (overlaps && (found == null || found.equals(expiry.expected()))) {
        return Optional.of(expiry);
      }
    }
    return Optional.empty();
  }

  private static int idOf(String value, Map<String, Integer> valueIds) {
    return value == null ? 0 : valueIds.computeIfAbsent(value, v -> valueIds.size() + 1);
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
      int pendingSeen = 0; // in the current scan, the groups passed: only the first of a group is tried
      while (head.next != null) {
        if (entry.isCall) {
          Candidate candidate = candidates.get(entry.index);
          boolean skip = interchangeable(candidate) && (pendingSeen & 1 << candidate.group()) != 0;
          if (interchangeable(candidate)) {
            pendingSeen |= 1 << candidate.group();
          }
          if (!skip) {
            int next = apply(state, candidate);
            if (next != CANNOT) {
              set(linearized, entry.index, true);
              if (explored.add(new Explored(linearized.clone(), next))) {
                if (explored.size() > explorationLimit) {
                  return new KeyVerdict(key, Verdict.UNDECIDED, operations.size(), Optional.empty(), List.of());
                }
                stack.push(new Frame(entry, state));
                state = next;
                lift(entry);
                entry = head.next;
                pendingSeen = 0;
                continue;
              }
              set(linearized, entry.index, false);
            }
          }
          entry = entry.next;
        } else {
          if (entry.time == NEVER) {
            // Every operation with a deadline is linearized; the pending ones left may
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
          pendingSeen = pendingBefore(entry);
        }
      }
      return new KeyVerdict(key, Verdict.LINEARIZABLE, operations.size(), Optional.empty(), List.of());
    }

    /** The register's state after {@code candidate} from {@code state}, or {@link #CANNOT} when it cannot take effect there. */
    private static int apply(int state, Candidate candidate) {
      return switch (candidate.operation().kind()) {
        case WRITE -> candidate.overwrites() == null ? candidate.valueId()
            : absent(state) || state >= 0 && candidate.overwrites().get(state) ? 0 : CANNOT;
        case READ -> reads(state, candidate) ? state : CANNOT;
        case CAS -> holds(state, candidate.expectedId()) || inItsWindow(state, candidate) ? candidate.valueId() : CANNOT;
        case CAS_REFUSED -> !holds(state, candidate.expectedId()) || inItsWindow(state, candidate) ? state : CANNOT;
        case EXPIRE -> candidate.expectedId() == state ? expired(state) : state;
      };
    }

    /** Whether the register in {@code state} holds the value of id {@code valueId} (0: absent). */
    private static boolean holds(int state, int valueId) {
      return valueId == 0 ? absent(state) : state == valueId;
    }

    /**
     * Whether a read may return its value in {@code state}: the value held; or, inside the expiry
     * window of value f, f or absence while the key holds f or f's expiry.
     */
    private static boolean reads(int state, Candidate read) {
      return holds(state, read.valueId()) || inItsWindow(state, read);
    }

    /**
     * Whether the key holds, in {@code state}, the value whose expiry window {@code candidate}
     * overlaps, or that value's expiry: the coordinator may then have judged it present or
     * expired, whatever the state says.
     */
    private static boolean inItsWindow(int state, Candidate candidate) {
      int window = candidate.windowOf();
      return window != 0 && (state == window || state == expired(window));
    }

    private static boolean interchangeable(Candidate candidate) {
      return candidate.group() == PENDING_DELETES || candidate.group() == PENDING_UNSEEN_WRITES;
    }

    /** The groups of interchangeable pending calls the scan that reached {@code entry} already passed. */
    private int pendingBefore(Event entry) {
      int seen = 0;
      for (Event event = head.next; event != null && event != entry; event = event.next) {
        if (event.isCall && interchangeable(candidates.get(event.index))) {
          seen |= 1 << candidates.get(event.index).group();
        }
      }
      return seen;
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
        String seen = read.kind() == Kind.READ ? read.value()
            : read.kind() == Kind.CAS || read.kind() == Kind.CAS_REFUSED ? read.expected() : null;
        if (seen != null) {
          candidates.stream()
              .map(Candidate::operation)
              .filter(write -> write.writes() && seen.equals(write.value()))
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
