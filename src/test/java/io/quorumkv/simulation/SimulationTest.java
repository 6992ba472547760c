package io.quorumkv.simulation;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeTrue;

import io.quorumkv.config.FsyncMode;
import io.quorumkv.faults.DeliberateBug;
import io.quorumkv.torture.LinearizabilityChecker;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.Test;

/**
 * Runs the deterministic simulation over many seeds (docs/testing.md, "The deterministic
 * simulation"). A failing seed is printed with the command that replays it exactly:
 * {@code mvn -B test -Dtest=SimulationTest -Dquorumkv.sim.seed=SEED [-Dquorumkv.sim.bugs=LABELS]}.
 */
public class SimulationTest {

  /** Seeds the correct code must pass; {@code -Dquorumkv.sim.seeds=N} runs more (or fewer). */
  private static final int SEEDS = Integer.getInteger("quorumkv.sim.seeds", 2_000);
  /** Seeds tried before a deliberate bug counts as missed. */
  private static final int SEEDS_PER_BUG = Integer.getInteger("quorumkv.sim.seeds-per-bug", 2_000);
  private static final long FIRST_SEED = Long.getLong("quorumkv.sim.first-seed", 1L);
  /** What at least every other seed must exercise. */
  private static final String[] MECHANISMS = {"crashes", "dropped", "duplicated", "hints replayed", "hints expired",
      "anti-entropy moves", "tombstones settled", "tombstones purged", "cas ok", "cas refused", "settles",
      "paxos states forgotten", "fast chosen", "fast fell back", "list pages",
      "ttl writes"};
  /** Each seed's history must hold at least this many successful operations. */
  private static final long OK_OPERATIONS_MIN = 10;

  @Test
  public void theCorrectCodeIsLinearizableOnEverySeed() {
    String replay = System.getProperty("quorumkv.sim.seed");
    if (replay != null) {
      Simulation.Result result = Simulation.run(Long.parseLong(replay), bugsToReplay());
      System.out.println(result.describe());
      assertTrue(result.describe(), result.passed());
      return;
    }
    // Seeds are independent runs, so they use every core; each is still a pure function of its seed.
    List<Simulation.Result> results = LongStream.range(FIRST_SEED, FIRST_SEED + SEEDS).parallel()
        .mapToObj(seed -> Simulation.run(seed, Set.of())).toList();
    Map<String, Long> exercised = new TreeMap<>();
    Map<String, Integer> seedsExercising = new TreeMap<>();
    long fewestOk = Long.MAX_VALUE;
    for (Simulation.Result result : results) { // in seed order: the first failing seed is reported
      if (!result.passed()) {
        fail(result.describe() + "replay: mvn -B test -Dtest=SimulationTest -Dquorumkv.sim.seed=" + result.config().seed());
      }
      result.counters().forEach((what, count) -> {
        exercised.merge(what, count, Long::sum);
        seedsExercising.merge(what, count > 0 ? 1 : 0, Integer::sum);
      });
      fewestOk = Math.min(fewestOk, result.counters().get("ok operations"));
    }
    System.out.println("simulation: " + SEEDS + " seeds linearizable and converged; in all: " + exercised
        + "; seeds exercising each: " + seedsExercising + "; fewest ok operations in a seed: " + fewestOk);
    // A simulation that seldom crashed, lost a message or purged proves little about them.
    for (String mechanism : MECHANISMS) {
      assertTrue(mechanism + " in only " + seedsExercising.get(mechanism) + " of " + SEEDS + " seeds",
          seedsExercising.getOrDefault(mechanism, 0) * 2L >= SEEDS);
    }
    assertTrue("a seed with only " + fewestOk + " ok operations", fewestOk >= OK_OPERATIONS_MIN);
  }

  /** The disk model has teeth: with {@code fsync = periodic} a power cut loses acknowledged writes. */
  @Test
  public void periodicFsyncLosesAcknowledgedWritesInAPowerCut() {
    assumeTrue("replaying one seed", System.getProperty("quorumkv.sim.seed") == null);
    for (long seed = FIRST_SEED; seed < FIRST_SEED + SEEDS_PER_BUG; seed++) {
      Simulation.Result result = Simulation.run(seed, Set.of(), FsyncMode.PERIODIC);
      if (result.verdict().verdict() == LinearizabilityChecker.Verdict.NOT_LINEARIZABLE) {
        System.out.println("simulation: fsync = periodic loses a write in seed " + seed + "\n" + result.describe());
        assertTrue("the crashes lost no unsynced write: " + result.counters(),
            result.counters().get("unsynced writes lost") > 0);
        return;
      }
    }
    fail("fsync = periodic lost no write in " + SEEDS_PER_BUG + " seeds: the disk model may not model syncing");
  }

  @Test
  public void readsThatSkipTheWriteBackAreCaught() {
    assertCaught(DeliberateBug.NO_READ_WRITE_BACK);
  }

  @Test
  public void writesThatSkipTheVersionQueryAreCaught() {
    assertCaught(DeliberateBug.ONE_ROUND_WRITES);
  }

  @Test
  public void readsOfWritesNotYetDurableAreCaught() {
    assertCaught(DeliberateBug.UNSYNCED_READS);
  }

  @Test
  public void tombstonesPurgedOnATimerAreCaught() {
    assertCaught(DeliberateBug.TIMER_PURGE);
  }

  @Test
  public void conditionalWritesWithoutConsensusAreCaught() {
    assertCaught(DeliberateBug.COMPARE_WITHOUT_CONSENSUS);
  }

  @Test
  public void everyDeliberateBugHasATest() {
    assertEquals("a new DeliberateBug needs its test here", 5, DeliberateBug.values().length);
  }

  /** Each correctness rule matters: without it, some seed within the budget breaks linearizability. */
  private static void assertCaught(DeliberateBug bug) {
    assumeTrue("replaying one seed", System.getProperty("quorumkv.sim.seed") == null);
    for (long seed = FIRST_SEED; seed < FIRST_SEED + SEEDS_PER_BUG; seed++) {
      Simulation.Result result = Simulation.run(seed, Set.of(bug));
      if (result.verdict().verdict() == LinearizabilityChecker.Verdict.NOT_LINEARIZABLE) {
        System.out.println("simulation: " + bug.label() + " caught by seed " + seed + " (seed "
            + (seed - FIRST_SEED + 1) + " of " + SEEDS_PER_BUG + "); replay: mvn -B test -Dtest=SimulationTest"
            + " -Dquorumkv.sim.seed=" + seed + " -Dquorumkv.sim.bugs=" + bug.label() + "\n" + result.describe());
        return;
      }
    }
    fail(bug.label() + " was not caught in " + SEEDS_PER_BUG + " seeds");
  }

  @Test
  public void aSeedReplaysExactly() {
    assumeTrue("replaying one seed", System.getProperty("quorumkv.sim.seed") == null);
    for (long seed : new long[] {FIRST_SEED, FIRST_SEED + 7}) {
      Simulation.Result first = Simulation.run(seed, Set.of());
      Simulation.Result again = Simulation.run(seed, Set.of());
      assertEquals("seed " + seed + " did not replay", first.history(), again.history());
      assertEquals("seed " + seed + " did not replay", first.counters(), again.counters());
    }
  }

  private static Set<DeliberateBug> bugsToReplay() {
    String labels = System.getProperty("quorumkv.sim.bugs", "");
    return labels.isBlank() ? EnumSet.noneOf(DeliberateBug.class) : DeliberateBug.parseList(labels);
  }
}
