package io.quorumkv.simulation;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeTrue;

import io.quorumkv.faults.DeliberateBug;
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

  @Test
  public void theCorrectCodeIsLinearizableOnEverySeed() {
    String replay = System.getProperty("quorumkv.sim.seed");
    if (replay != null) {
      Simulation.Result result = Simulation.run(Long.parseLong(replay), bugsToReplay());
      System.out.println(result.describe());
      assertTrue(result.describe(), result.linearizable());
      return;
    }
    // Seeds are independent runs, so they use every core; each is still a pure function of its seed.
    List<Simulation.Result> results = LongStream.range(FIRST_SEED, FIRST_SEED + SEEDS).parallel()
        .mapToObj(seed -> Simulation.run(seed, Set.of())).toList();
    Map<String, Long> exercised = new TreeMap<>();
    for (Simulation.Result result : results) { // in seed order: the first failing seed is reported
      if (!result.linearizable()) {
        fail(result.describe() + "replay: mvn -B test -Dtest=SimulationTest -Dquorumkv.sim.seed=" + result.config().seed());
      }
      result.counters().forEach((what, count) -> exercised.merge(what, count, Long::sum));
    }
    System.out.println("simulation: " + SEEDS + " seeds linearizable; in all: " + exercised);
    // A simulation that never crashed, never lost a message or never purged proves nothing about them.
    for (String mechanism : new String[] {"crashes", "dropped", "duplicated", "hints replayed", "hints expired",
        "anti-entropy moves", "tombstones settled", "tombstones purged"}) {
      assertTrue("no seed exercised " + mechanism + ": " + exercised, exercised.getOrDefault(mechanism, 0L) > 0);
    }
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
  public void everyDeliberateBugHasATest() {
    assertEquals("a new DeliberateBug needs its test here", 4, DeliberateBug.values().length);
  }

  /** Each correctness rule matters: without it, some seed within the budget breaks linearizability. */
  private static void assertCaught(DeliberateBug bug) {
    assumeTrue("replaying one seed", System.getProperty("quorumkv.sim.seed") == null);
    for (long seed = FIRST_SEED; seed < FIRST_SEED + SEEDS_PER_BUG; seed++) {
      Simulation.Result result = Simulation.run(seed, Set.of(bug));
      if (!result.linearizable()) {
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
