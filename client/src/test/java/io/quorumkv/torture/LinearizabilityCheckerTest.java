package io.quorumkv.torture;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.quorumkv.torture.LinearizabilityChecker.Verdict;
import io.quorumkv.torture.Operation.Kind;
import io.quorumkv.torture.Operation.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import org.junit.Test;

public class LinearizabilityCheckerTest {

  private final LinearizabilityChecker checker = new LinearizabilityChecker();

  private static Operation write(int client, String value, long invoke, long complete, Outcome outcome) {
    return new Operation(client, "k", Kind.WRITE, value, invoke, complete, outcome);
  }

  private static Operation read(int client, String value, long invoke, long complete) {
    return new Operation(client, "k", Kind.READ, value, invoke, complete, Outcome.OK);
  }

  private Verdict verdict(Operation... history) {
    return checker.check(List.of(history)).verdict();
  }

  @Test
  public void sequentialWritesAndReadsAreLinearizable() {
    assertEquals(Verdict.LINEARIZABLE, verdict(
        read(1, null, 0, 1),
        write(1, "a", 2, 3, Outcome.OK),
        read(2, "a", 4, 5),
        write(2, null, 6, 7, Outcome.OK),
        read(1, null, 8, 9)));
  }

  @Test
  public void concurrentReadMaySeeEitherValue() {
    assertEquals(Verdict.LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK),
        write(2, "b", 2, 10, Outcome.OK),
        read(3, "b", 3, 4),
        read(1, "b", 5, 6)));
    assertEquals(Verdict.LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK),
        write(2, "b", 2, 10, Outcome.OK),
        read(3, "a", 3, 4)));
  }

  private static Operation expires(String value, long from, long to) {
    return new Operation(Operation.EXPIRY, "k", Kind.EXPIRE, null, from, to, Outcome.OK, value);
  }

  /**
   * An expiry makes the key absent once within its window, unless a later write came first;
   * inside the window reads of the value or of absence may flip; after it, the value is gone.
   */
  @Test
  public void anExpiryTakesEffectWithinItsWindowUnlessOverwrittenAndLeavesReadsAndConditionsInItFree() {
    assertEquals("absent after the window", Verdict.LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK), expires("a", 10, 20), read(2, "a", 5, 6), read(2, null, 21, 22)));
    assertEquals("the value read after the window", Verdict.NOT_LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK), expires("a", 10, 20), read(2, "a", 21, 22)));
    assertEquals("reads inside the window may flip", Verdict.LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK), expires("a", 10, 20),
        read(2, null, 11, 12), read(3, "a", 13, 14), read(2, null, 15, 16)));
    assertEquals("absent before the window", Verdict.NOT_LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK), expires("a", 10, 20), read(2, null, 5, 6)));
    assertEquals("an overwrite cancels the expiry", Verdict.LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK), write(2, "b", 5, 6, Outcome.OK), expires("a", 10, 20),
        read(2, "b", 21, 22)));
    assertEquals("and its value stays after the window", Verdict.NOT_LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK), write(2, "b", 5, 6, Outcome.OK), expires("a", 10, 20),
        read(2, null, 21, 22)));
    assertEquals("a write after the expiry wins", Verdict.LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK), expires("a", 10, 20), write(2, "c", 21, 22, Outcome.OK),
        read(1, "c", 23, 24)));
    assertEquals("the window frees no read of an overwritten value", Verdict.NOT_LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK), write(2, "b", 2, 3, Outcome.OK), expires("a", 10, 20),
        read(3, "a", 12, 13)));
    assertEquals("nor a read of absence once another value is held", Verdict.NOT_LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK), write(2, "b", 2, 3, Outcome.OK), expires("a", 10, 20),
        read(3, null, 12, 13)));
    assertEquals("a conditional create holds on the expired value", Verdict.LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK), expires("a", 10, 20),
        new Operation(2, "k", Kind.CAS, "c", 12, 13, Outcome.OK, null), read(3, "c", 14, 15)));
    assertEquals("an unknown write nobody read may have taken effect and expired", Verdict.LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK), write(2, "t", 2, 3, Outcome.UNKNOWN), expires("t", 10, 20),
        read(3, null, 21, 22)));
    assertEquals("in the window, a condition may find the value after a read found it expired", Verdict.LINEARIZABLE,
        verdict(write(1, "a", 0, 1, Outcome.OK), expires("a", 10, 20), read(2, null, 11, 12),
            new Operation(3, "k", Kind.CAS, "b", 13, 14, Outcome.OK, "a"), read(2, "b", 15, 16)));
    assertEquals("but not after the window", Verdict.NOT_LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK), expires("a", 10, 20),
        new Operation(3, "k", Kind.CAS, "b", 21, 22, Outcome.OK, "a")));
    assertEquals("an unknown TTL write may land after its window, already expired", Verdict.LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK), write(2, "t", 2, 3, Outcome.UNKNOWN), expires("t", 10, 20),
        read(3, "a", 30, 31), read(3, null, 32, 33)));
    assertEquals("but not over a value written well after it (a higher version)", Verdict.NOT_LINEARIZABLE,
        verdict(write(1, "a", 0, 1, Outcome.OK), write(2, "t", 2, 3, Outcome.UNKNOWN), expires("t", 1, 14),
            write(1, "b", 40, 41, Outcome.OK), read(3, "b", 42, 43), read(3, null, 44, 45)));
    assertEquals("nor when it was read (it took effect then)", Verdict.NOT_LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK), write(2, "t", 2, 3, Outcome.UNKNOWN), expires("t", 10, 20),
        read(3, "t", 4, 5), write(1, "b", 6, 7, Outcome.OK), read(3, "b", 30, 31), read(3, null, 32, 33)));
    assertEquals("an acknowledged one may not", Verdict.NOT_LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK), write(2, "t", 2, 3, Outcome.OK), expires("t", 10, 20),
        read(3, "a", 30, 31)));
    assertEquals("a history file keeps the expiry", Operation.Kind.EXPIRE,
        Operation.Kind.parse(expires("a", 1, 2).kind().label()));
  }

  @Test
  public void staleReadIsNotLinearizable() {
    LinearizabilityChecker.Result result = checker.check(List.of(
        write(1, "a", 0, 1, Outcome.OK),
        write(1, "b", 2, 3, Outcome.OK),
        read(2, "a", 4, 5)));
    assertEquals(Verdict.NOT_LINEARIZABLE, result.verdict());
    assertEquals("a", result.smallestViolation().orElseThrow().stuck().orElseThrow().value());
  }

  @Test
  public void newValueThenOldValueIsNotLinearizable() {
    // The write is concurrent with both reads, but once one read saw it, a later one may not miss it.
    assertEquals(Verdict.NOT_LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK),
        write(2, "b", 2, 20, Outcome.OK),
        read(3, "b", 3, 4),
        read(3, "a", 5, 6)));
  }

  @Test
  public void lostAcknowledgedWriteIsNotLinearizable() {
    assertEquals(Verdict.NOT_LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK),
        write(2, "b", 2, 3, Outcome.OK),
        read(Operation.FINAL_READER, "a", 100, 101)));
  }

  @Test
  public void readOfNeverWrittenValueIsNotLinearizable() {
    assertEquals(Verdict.NOT_LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK),
        read(2, "zzz", 2, 3)));
  }

  @Test
  public void readOfFailedWriteIsNotLinearizable() {
    assertEquals(Verdict.NOT_LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.FAIL),
        read(2, "a", 2, 3)));
  }

  @Test
  public void unknownWriteMayTakeEffectLateOrNever() {
    assertEquals(Verdict.LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.UNKNOWN),
        read(2, null, 2, 3),
        read(2, "a", 50, 51),
        read(2, "a", 60, 61)));
    assertEquals(Verdict.LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.UNKNOWN),
        read(2, null, 2, 3),
        read(2, null, 60, 61)));
  }

  @Test
  public void unknownWriteCannotTakeEffectBeforeItsInvocation() {
    assertEquals(Verdict.NOT_LINEARIZABLE, verdict(
        read(2, "a", 0, 1),
        write(1, "a", 5, 6, Outcome.UNKNOWN)));
  }

  @Test
  public void unknownWriteSeenThenUnseenIsNotLinearizable() {
    assertEquals(Verdict.NOT_LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK),
        write(2, "b", 2, 3, Outcome.UNKNOWN),
        read(3, "b", 4, 5),
        read(3, "a", 6, 7)));
  }

  @Test
  public void unknownDeleteMayExplainAbsenceLater() {
    assertEquals(Verdict.LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK),
        write(2, null, 2, 3, Outcome.UNKNOWN),
        write(2, null, 4, 5, Outcome.UNKNOWN),
        read(3, "a", 10, 11),
        read(3, null, 20, 21)));
    assertEquals(Verdict.NOT_LINEARIZABLE, verdict(
        write(1, "a", 0, 1, Outcome.OK),
        write(2, null, 2, 3, Outcome.UNKNOWN),
        read(3, null, 10, 11),
        read(3, "a", 20, 21)));
  }

  @Test
  public void keysAreCheckedIndependently() {
    LinearizabilityChecker.Result result = checker.check(List.of(
        new Operation(1, "x", Kind.WRITE, "a", 0, 1, Outcome.OK),
        new Operation(1, "y", Kind.READ, "a", 2, 3, Outcome.OK)));
    assertEquals(Verdict.NOT_LINEARIZABLE, result.verdict());
    assertEquals("y", result.smallestViolation().orElseThrow().key());
  }

  @Test
  public void aHistoryTooLargeToExploreIsUndecidedNotLinearizable() {
    List<Operation> history = new ArrayList<>();
    for (int i = 0; i < 16; i++) { // 16 concurrent writes, then a read of a value nobody wrote
      history.add(write(i, "v" + i, 0, 100, Outcome.OK));
    }
    history.add(read(99, "nobody", 200, 201));
    assertEquals(Verdict.UNDECIDED, new LinearizabilityChecker(1000).check(history).verdict()); // ~10 states
  }

  @Test
  public void agreesWithBruteForceOnRandomHistories() {
    Random random = new Random(20261125L);
    int linearizable = 0;
    int notLinearizable = 0;
    for (int round = 0; round < 3000; round++) {
      List<Operation> history = randomHistory(random, 2 + random.nextInt(6));
      boolean expected = agreesWithBruteForce(round, history);
      if (expected) {
        linearizable++;
      } else {
        notLinearizable++;
      }
    }
    // Both kinds must be well represented, or the comparison proves little.
    assertTrue("linearizable " + linearizable, linearizable > 500);
    assertTrue("not linearizable " + notLinearizable, notLinearizable > 500);
  }

  @Test
  public void agreesWithBruteForceWhenManyDeletesAreUnknown() {
    Random random = new Random(7L);
    int notLinearizable = 0;
    for (int round = 0; round < 400; round++) {
      List<Operation> history = randomHistory(random, 6 + random.nextInt(3));
      // Make up to four of the writes unknown deletes: several pending at once, and backtracking past them.
      int made = 0;
      for (int i = 0; i < history.size() && made < 4; i++) {
        Operation op = history.get(i);
        if (op.kind() == Kind.WRITE && random.nextBoolean()) {
          history.set(i, new Operation(op.client(), op.key(), Kind.WRITE, null, op.invokeNanos(), op.completeNanos(),
              Outcome.UNKNOWN));
          made++;
        }
      }
      notLinearizable += agreesWithBruteForce(round, history) ? 0 : 1;
    }
    assertTrue("not linearizable " + notLinearizable, notLinearizable > 50 && notLinearizable < 350);
  }

  /** The register with compare-and-set: conditional writes and refusals mixed in, every outcome. */
  @Test
  public void agreesWithBruteForceOnHistoriesWithConditionalWrites() {
    Random random = new Random(11L);
    int notLinearizable = 0;
    for (int round = 0; round < 600; round++) {
      notLinearizable += agreesWithBruteForce(round, randomCasHistory(random, 5 + random.nextInt(4))) ? 0 : 1;
    }
    assertTrue("not linearizable " + notLinearizable, notLinearizable > 60 && notLinearizable < 540);
  }

  @Test
  public void twoConditionalWritesExpectingTheSameValueCannotBothSucceed() {
    List<Operation> history = List.of(
        write(0, "v5", 0, 10, Outcome.OK),
        new Operation(1, "k", Kind.CAS, "a", 20, 40, Outcome.OK, "v5"),
        new Operation(2, "k", Kind.CAS, "b", 21, 41, Outcome.OK, "v5"));
    assertEquals(Verdict.NOT_LINEARIZABLE, checker.check(history).verdict());
  }

  @Test
  public void aRefusalIsExplainedByAnUnknownWriteNobodyRead() {
    List<Operation> history = List.of(
        write(0, "v5", 0, 10, Outcome.OK),
        write(1, "lost", 20, 30, Outcome.UNKNOWN),
        new Operation(2, "k", Kind.CAS_REFUSED, null, 40, 50, Outcome.OK, "v5"));
    assertEquals(Verdict.LINEARIZABLE, checker.check(history).verdict());
    List<Operation> without = List.of(history.get(0), history.get(2));
    assertEquals(Verdict.NOT_LINEARIZABLE, checker.check(without).verdict());
  }

  /** As {@link #randomHistory}, with conditional writes expecting a value written (or absence), and refusals. */
  private static List<Operation> randomCasHistory(Random random, int size) {
    List<Operation> history = new ArrayList<>();
    List<String> values = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      long invoke = random.nextInt(20);
      long complete = invoke + random.nextInt(8);
      String known = !values.isEmpty() && random.nextInt(4) > 0 ? values.get(random.nextInt(values.size())) : null;
      int pick = random.nextInt(10);
      if (pick < 3) {
        history.add(new Operation(i, "k", Kind.READ, known, invoke, complete, Outcome.OK));
      } else if (pick < 5) {
        String value = random.nextInt(5) == 0 ? null : "v" + i;
        if (value != null) {
          values.add(value);
        }
        history.add(new Operation(i, "k", Kind.WRITE, value, invoke, complete, Outcome.values()[random.nextInt(3)]));
      } else if (pick < 8) {
        String value = random.nextInt(6) == 0 ? null : "v" + i;
        if (value != null) {
          values.add(value);
        }
        history.add(new Operation(i, "k", Kind.CAS, value, invoke, complete, Outcome.values()[random.nextInt(3)], known));
      } else {
        history.add(new Operation(i, "k", Kind.CAS_REFUSED, null, invoke, complete, Outcome.OK, known));
      }
    }
    return history;
  }

  /** Asserts that the checker and the brute force agree on {@code history}; returns whether it is linearizable. */
  private boolean agreesWithBruteForce(int round, List<Operation> history) {
    boolean expected = BruteForce.isLinearizable(history);
    assertEquals("round " + round + ": " + history.stream().map(Operation::describe).toList(),
        expected ? Verdict.LINEARIZABLE : Verdict.NOT_LINEARIZABLE, checker.check(history).verdict());
    return expected;
  }

  /**
   * Random operations on one key with overlapping intervals: writes of unique values or
   * deletes with any outcome, and reads returning a value from the ones written (or absent).
   */
  private static List<Operation> randomHistory(Random random, int size) {
    List<Operation> history = new ArrayList<>();
    List<String> values = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      long invoke = random.nextInt(20);
      long complete = invoke + random.nextInt(8);
      if (random.nextInt(5) < 2) {
        String value = !values.isEmpty() && random.nextInt(4) > 0 ? values.get(random.nextInt(values.size())) : null;
        history.add(new Operation(i, "k", Kind.READ, value, invoke, complete, Outcome.OK));
      } else {
        String value = random.nextInt(4) == 0 ? null : "v" + i;
        if (value != null) {
          values.add(value);
        }
        Outcome outcome = Outcome.values()[random.nextInt(3)];
        history.add(new Operation(i, "k", Kind.WRITE, value, invoke, complete, outcome));
      }
    }
    return history;
  }

  /** The reference: tries every order of every subset of the unknown writes. */
  static final class BruteForce {

    static boolean isLinearizable(List<Operation> history) {
      List<Operation> required = new ArrayList<>();
      List<Operation> optional = new ArrayList<>();
      for (Operation operation : history) {
        if (operation.outcome() == Outcome.OK) {
          required.add(operation);
        } else if (operation.outcome() == Outcome.UNKNOWN && operation.writes()) {
          optional.add(operation);
        }
      }
      for (int subset = 0; subset < 1 << optional.size(); subset++) {
        List<Operation> chosen = new ArrayList<>(required);
        for (int i = 0; i < optional.size(); i++) {
          if ((subset & 1 << i) != 0) {
            chosen.add(optional.get(i));
          }
        }
        if (someOrderWorks(chosen, new ArrayList<>(), new boolean[chosen.size()])) {
          return true;
        }
      }
      return false;
    }

    private static boolean someOrderWorks(List<Operation> ops, List<Operation> order, boolean[] used) {
      if (order.size() == ops.size()) {
        return registerAgrees(order);
      }
      for (int i = 0; i < ops.size(); i++) {
        if (used[i] || !mayComeNext(ops, used, i)) {
          continue;
        }
        used[i] = true;
        order.add(ops.get(i));
        boolean works = someOrderWorks(ops, order, used);
        order.remove(order.size() - 1);
        used[i] = false;
        if (works) {
          return true;
        }
      }
      return false;
    }

    /** No unplaced operation completed before {@code ops[i]} was invoked (unknown ones never complete). */
    private static boolean mayComeNext(List<Operation> ops, boolean[] used, int i) {
      for (int j = 0; j < ops.size(); j++) {
        Operation other = ops.get(j);
        if (!used[j] && j != i && other.outcome() == Outcome.OK && other.completeNanos() < ops.get(i).invokeNanos()) {
          return false;
        }
      }
      return true;
    }

    private static boolean registerAgrees(List<Operation> order) {
      String state = null;
      for (Operation operation : order) {
        switch (operation.kind()) {
          case WRITE -> state = operation.value();
          case READ -> {
            if (!Objects.equals(state, operation.value())) {
              return false;
            }
          }
          case CAS -> {
            if (!Objects.equals(state, operation.expected())) {
              return false;
            }
            state = operation.value();
          }
          case CAS_REFUSED -> {
            if (Objects.equals(state, operation.expected())) {
              return false;
            }
          }
        }
      }
      return true;
    }
  }
}
