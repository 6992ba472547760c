package io.quorumkv.coordinator;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestKitJunitResource;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import io.quorumkv.config.Fanout;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaHandle;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Call;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.ReadVersion;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Reply;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.VersionHeld;
import io.quorumkv.store.ReplicaStats;
import io.quorumkv.store.StorageAlarm;
import io.quorumkv.store.Value;
import io.quorumkv.version.ClockFence;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * The actor shells around the rounds (the algorithm's cases are the scenario files, see
 * {@link RoundScenarioTest}): that a {@link WriteCoordinator} and a {@link ReadCoordinator} send
 * the round's requests as tagged {@link Call}s, feed the tagged replies back, keep the deadline
 * and hedge timers, reply once, report missed writes and stop. Three TestProbes play the
 * replicas a (local), b and c; ManualTime drives the timers.
 */
public class CoordinatorShellTest {

  @ClassRule
  public static final TestKitJunitResource testKit = new TestKitJunitResource(ManualTime.config());

  private static final Duration TIMEOUT = Duration.ofSeconds(2);
  private static final Duration HEDGE = Duration.ofMillis(500);
  private static final Duration QUIET = Duration.ofMillis(100);

  private final ManualTime manualTime = ManualTime.get(testKit.system());
  private final HybridLogicalClock clock = new HybridLogicalClock(() -> 1_000_000L, 0L);
  private final TestProbe<Call> a = testKit.createTestProbe();
  private final TestProbe<Call> b = testKit.createTestProbe();
  private final TestProbe<Call> c = testKit.createTestProbe();
  private final List<List<String>> missed = new CopyOnWriteArrayList<>();

  private Coordinators.Settings settings(Fanout fanout) {
    return new Coordinators.Settings(handles(), clock, 7L, new ReplicaStats(), (key, replicas) -> missed.add(replicas),
        TIMEOUT, TIMEOUT, 100, fanout, new ClockFence(0, clock, Duration.ofMinutes(1)), Optional::empty,
        new StorageAlarm(0), name -> true, true, Set.of());
  }

  private List<ReplicaHandle> handles() {
    return List.of(new ReplicaHandle("a", a.getRef()), new ReplicaHandle("b", b.getRef()),
        new ReplicaHandle("c", c.getRef()));
  }

  private static Stamp stamp(long replicaId) {
    return new Stamp(replicaId, HybridLogicalClock.fromMillis(1_000_000L));
  }

  private static void answer(Call call, String replica, io.quorumkv.store.ReplicaProtocol.Answer answer) {
    call.replyTo().tell(new Reply(replica, call.round(), answer));
  }

  @Test
  public void aWriteSendsTaggedCallsRepliesOnceAndStopsWhenEveryReplicaAnswered() {
    TestProbe<WriteResult> client = testKit.createTestProbe();
    ActorRef<WriteCoordinator.Command> coordinator = testKit.spawn(WriteCoordinator.create(
        new WriteRound.Write("k", Optional.of(Value.ofUtf8("v"))), Consistency.QUORUM, handles(),
        settings(Fanout.ALL), client.getRef()));
    Call queryA = a.expectMessageClass(Call.class);
    Call queryB = b.expectMessageClass(Call.class);
    c.expectMessageClass(Call.class);
    assertTrue(queryA.request() instanceof ReadVersion);
    assertEquals(WriteRound.QUERY, queryA.round());
    answer(queryA, "a", new VersionHeld(stamp(7), Version.ZERO, 0));
    answer(queryB, "b", new VersionHeld(stamp(2), Version.ZERO, 0));
    Call[] applies = {a.expectMessageClass(Call.class), b.expectMessageClass(Call.class), c.expectMessageClass(Call.class)};
    Apply apply = (Apply) applies[0].request();
    assertEquals(WriteRound.APPLY, applies[0].round());
    assertEquals(Cause.WRITE, apply.cause());
    Record record = apply.record();
    answer(applies[0], "a", new Applied(stamp(7), record.version(), record.digest()));
    answer(applies[1], "b", new Applied(stamp(2), record.version(), record.digest()));
    assertEquals(new WriteResult.Written("k", record.version()), client.expectMessageClass(WriteResult.Written.class));
    answer(applies[2], "c", new Applied(stamp(3), record.version(), record.digest()));
    TestProbe<Object> watcher = testKit.createTestProbe();
    watcher.expectTerminated(coordinator, Duration.ofSeconds(5));
    assertTrue("everyone acknowledged: no hint", missed.isEmpty());
    client.expectNoMessage(QUIET);
  }

  @Test
  public void theWriteDeadlineRepliesAndReportsThePeersThatMissedTheWrite() {
    TestProbe<WriteResult> client = testKit.createTestProbe();
    testKit.spawn(WriteCoordinator.create(new WriteRound.Write("k", Optional.empty()), Consistency.QUORUM, handles(),
        settings(Fanout.ALL), client.getRef()));
    Call queryA = a.expectMessageClass(Call.class);
    Call queryB = b.expectMessageClass(Call.class);
    c.expectMessageClass(Call.class);
    answer(queryA, "a", new VersionHeld(stamp(7), Version.ZERO, 0));
    answer(queryB, "b", new VersionHeld(stamp(2), Version.ZERO, 0));
    Call applyA = a.expectMessageClass(Call.class);
    b.expectMessageClass(Call.class);
    c.expectMessageClass(Call.class);
    Record record = ((Apply) applyA.request()).record();
    answer(applyA, "a", new Applied(stamp(7), record.version(), record.digest()));
    manualTime.expectNoMessageFor(QUIET, client);
    manualTime.timePasses(TIMEOUT);
    assertEquals(new QuorumNotReached(Phase.APPLY, 1, 2, 3), client.expectMessageClass(QuorumNotReached.class));
    // Reported just after the reply, on the coordinator's thread: waited for, not raced.
    client.awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(List.of(List.of("b", "c")), List.copyOf(missed));
      return null;
    });
  }

  @Test
  public void theHedgeTimerAsksTheThirdReplica() {
    TestProbe<WriteResult> client = testKit.createTestProbe();
    testKit.spawn(WriteCoordinator.create(new WriteRound.Write("k", Optional.of(Value.ofUtf8("v"))),
        Consistency.QUORUM, handles(), settings(Fanout.quorumFirst(HEDGE)), client.getRef()));
    a.expectMessageClass(Call.class);
    b.expectMessageClass(Call.class);
    c.expectNoMessage(QUIET);
    manualTime.timePasses(HEDGE);
    assertTrue(c.expectMessageClass(Call.class).request() instanceof ReadVersion);
  }

  @Test
  public void concurrentCoordinatorsDoNotShareState() {
    TestProbe<WriteResult> client = testKit.createTestProbe();
    for (int i = 0; i < 2; i++) {
      testKit.spawn(WriteCoordinator.create(new WriteRound.Write("k", Optional.of(Value.ofUtf8("v"))),
          Consistency.QUORUM, handles(), settings(Fanout.ALL), client.getRef()));
    }
    Call first = a.expectMessageClass(Call.class);
    Call second = a.expectMessageClass(Call.class);
    b.receiveSeveralMessages(2);
    c.receiveSeveralMessages(2);
    // One answer to each: neither has R=2 answers, so neither may send an Apply.
    answer(first, "a", new VersionHeld(stamp(7), Version.ZERO, 0));
    answer(second, "b", new VersionHeld(stamp(2), Version.ZERO, 0));
    a.expectNoMessage(QUIET);
    answer(first, "b", new VersionHeld(stamp(2), Version.ZERO, 0));
    assertTrue(a.expectMessageClass(Call.class).request() instanceof Apply);
    a.expectNoMessage(QUIET);
  }

  @Test
  public void aReadWritesBackOnTheForegroundAndRepliesOnceWHoldTheNewest() {
    TestProbe<ReadResult> client = testKit.createTestProbe();
    ActorRef<ReadCoordinator.Command> coordinator = testKit.spawn(ReadCoordinator.create("k", Consistency.QUORUM,
        handles(), settings(Fanout.ALL), client.getRef()));
    Call readA = a.expectMessageClass(Call.class);
    Call readB = b.expectMessageClass(Call.class);
    Call readC = c.expectMessageClass(Call.class);
    assertEquals(Cause.READ, ((Read) readA.request()).cause());
    Record old = Record.of(new Version(HybridLogicalClock.fromMillis(999_000L), 1), Value.ofUtf8("old"));
    Record newer = Record.of(new Version(HybridLogicalClock.fromMillis(999_500L), 2), Value.ofUtf8("new"));
    answer(readA, "a", new RecordHeld(stamp(7), Optional.of(old)));
    answer(readB, "b", new RecordHeld(stamp(2), Optional.of(newer)));
    Call writeBack = a.expectMessageClass(Call.class);
    assertEquals(ReadRound.WRITE_BACK, writeBack.round());
    assertEquals(new Apply("k", newer, ((Apply) writeBack.request()).stamp(), Cause.WRITE_BACK), writeBack.request());
    client.expectNoMessage(QUIET);
    answer(writeBack, "a", new Applied(stamp(7), newer.version(), newer.digest()));
    assertEquals(new ReadResult.Found("k", newer), client.expectMessageClass(ReadResult.Found.class));
    answer(readC, "c", new RecordHeld(stamp(3), Optional.of(newer)));
    testKit.createTestProbe().expectTerminated(coordinator, Duration.ofSeconds(5));
  }

  @Test
  public void theReadDeadlineRepliesQuorumNotReached() {
    TestProbe<ReadResult> client = testKit.createTestProbe();
    testKit.spawn(ReadCoordinator.create("k", Consistency.QUORUM, handles(), settings(Fanout.ALL), client.getRef()));
    Call readA = a.expectMessageClass(Call.class);
    answer(readA, "a", new RecordHeld(stamp(7), Optional.empty()));
    manualTime.expectNoMessageFor(QUIET, client);
    manualTime.timePasses(TIMEOUT);
    assertEquals(new QuorumNotReached(Phase.READ, 1, 2, 3), client.expectMessageClass(QuorumNotReached.class));
  }
}
