package io.quorumkv.coordinator;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestKitJunitResource;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import io.quorumkv.faults.DeliberateBug;
import io.quorumkv.replication.HintedHandoff;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.ReadVersion;
import io.quorumkv.store.ReplicaProtocol.Request;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
import io.quorumkv.store.ReplicaProtocol.VersionHeld;
import io.quorumkv.store.ReplicaStats;
import io.quorumkv.store.Value;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * Goal: the write protocol of DESIGN.md section 6, message by message. Method: a
 * WriteCoordinator against three TestProbe replicas (a is local), a manual wall clock, and
 * Akka's ManualTime for the deadline.
 */
public class WriteCoordinatorTest {

  @ClassRule
  public static final TestKitJunitResource testKit = new TestKitJunitResource(ManualTime.config());

  private static final Duration TIMEOUT = Duration.ofSeconds(2);
  private static final Duration QUIET = Duration.ofMillis(100);
  private static final long OWN_ID = 7L;

  private final ManualTime manualTime = ManualTime.get(testKit.system());
  private final AtomicLong wallMillis = new AtomicLong(1_000_000L);
  private final HybridLogicalClock clock = new HybridLogicalClock(wallMillis::get, 0L);
  private final ReplicaStats stats = new ReplicaStats();
  private final Replicas replicas = new Replicas(testKit);
  private final TestProbe<WriteCoordinator.Result> client = testKit.createTestProbe();
  private final TestProbe<HintedHandoff.Command> hints = testKit.createTestProbe();

  private void start(Consistency consistency) {
    start(consistency, Set.of());
  }

  private void start(Consistency consistency, Set<DeliberateBug> bugs) {
    start(consistency, Fanout.ALL, bugs);
  }

  private void start(Consistency consistency, Fanout fanout, Set<DeliberateBug> bugs) {
    testKit.spawn(WriteCoordinator.create(
        new WriteCoordinator.Write("k", Optional.of(Value.ofUtf8("v"))), consistency, replicas.handles(),
        clock, OWN_ID, stats, hints.getRef(), client.getRef(), TIMEOUT, fanout, bugs));
  }

  private static final Duration HEDGE = Duration.ofMillis(500);

  @Test
  public void quorumFirstQueriesTwoVersionsButAppliesToAll() {
    start(Consistency.QUORUM, Fanout.quorumFirst(HEDGE), Set.of());
    ActorRef<Answer> replyTo = versionQueryReplyTo(replicas.a);
    versionQueryReplyTo(replicas.b);
    replicas.c.expectNoMessage(QUIET);
    replyTo.tell(holds("a", Version.ZERO));
    replyTo.tell(holds("b", new Version(5_000_000L, 3)));
    Apply apply = replicas.a.expectMessageClass(Apply.class);
    replicas.b.expectMessageClass(Apply.class);
    replicas.c.expectMessageClass(Apply.class); // never queried, yet it gets the write
    assertTrue(apply.record().version().hlc() > 5_000_000L);
    apply.replyTo().tell(applied("a", apply.record()));
    apply.replyTo().tell(applied("c", apply.record()));
    assertEquals(apply.record().version(), client.expectMessageClass(WriteCoordinator.Written.class).version());
  }

  @Test
  public void quorumFirstQueriesTheThirdWhenAQueriedReplicaFails() {
    start(Consistency.QUORUM, Fanout.quorumFirst(HEDGE), Set.of());
    ActorRef<Answer> replyTo = versionQueryReplyTo(replicas.a);
    versionQueryReplyTo(replicas.b);
    replyTo.tell(new Unavailable("b", "connection refused"));
    versionQueryReplyTo(replicas.c);
    replyTo.tell(holds("a", Version.ZERO));
    replicas.a.expectNoMessage(QUIET); // one success is not a quorum
    replyTo.tell(holds("c", Version.ZERO));
    replicas.a.expectMessageClass(Apply.class);
  }

  @Test
  public void quorumFirstQueriesTheThirdWhenTheHedgeDelayPasses() {
    start(Consistency.QUORUM, Fanout.quorumFirst(HEDGE), Set.of());
    ActorRef<Answer> replyTo = versionQueryReplyTo(replicas.a);
    versionQueryReplyTo(replicas.b);
    replyTo.tell(holds("a", Version.ZERO)); // b is slow
    replicas.c.expectNoMessage(QUIET);
    manualTime.timePasses(HEDGE);
    versionQueryReplyTo(replicas.c);
    replyTo.tell(holds("c", Version.ZERO));
    replicas.a.expectMessageClass(Apply.class);
  }

  @Test
  public void deliberateBugOneRoundWritesSkipsTheVersionQuery() {
    start(Consistency.QUORUM, Set.of(DeliberateBug.ONE_ROUND_WRITES));
    Apply apply = replicas.a.expectMessageClass(Apply.class); // no ReadVersion first
    replicas.b.expectMessageClass(Apply.class);
    apply.replyTo().tell(applied("a", apply.record()));
    apply.replyTo().tell(applied("b", apply.record()));
    assertEquals(apply.record().version(), client.expectMessageClass(WriteCoordinator.Written.class).version());
  }

  private static ActorRef<Answer> versionQueryReplyTo(TestProbe<Request> replica) {
    return replica.expectMessageClass(ReadVersion.class).replyTo();
  }

  private static VersionHeld holds(String replica, Version version) {
    return new VersionHeld(replica, new Stamp(1, version.hlc()), version, 0L);
  }

  private static Applied applied(String replica, Record record) {
    return new Applied(replica, new Stamp(1, record.version().hlc()), record.version(), record.digest());
  }

  /** Answers the version query from a and b, and returns the Apply each replica received. */
  private Apply[] passQueryRound() {
    ActorRef<Answer> replyTo = versionQueryReplyTo(replicas.a);
    versionQueryReplyTo(replicas.b);
    versionQueryReplyTo(replicas.c);
    replyTo.tell(holds("a", Version.ZERO));
    replyTo.tell(holds("b", Version.ZERO));
    return new Apply[] {
        replicas.a.expectMessageClass(Apply.class),
        replicas.b.expectMessageClass(Apply.class),
        replicas.c.expectMessageClass(Apply.class)};
  }

  @Test
  public void sendsNoApplyBeforeTheQueryRoundCompletes() {
    start(Consistency.QUORUM);
    ActorRef<Answer> replyTo = versionQueryReplyTo(replicas.a);
    versionQueryReplyTo(replicas.b);
    versionQueryReplyTo(replicas.c);
    replyTo.tell(holds("a", Version.ZERO));
    for (TestProbe<Request> replica : replicas.all()) {
      replica.expectNoMessage(QUIET);
    }
    replyTo.tell(holds("c", Version.ZERO));
    for (TestProbe<Request> replica : replicas.all()) {
      replica.expectMessageClass(Apply.class);
    }
  }

  @Test
  public void repliesWrittenOnSecondAckAndNotBefore() {
    start(Consistency.QUORUM);
    Apply[] applies = passQueryRound();
    Record record = applies[0].record();
    applies[0].replyTo().tell(applied("a", record));
    client.expectNoMessage(QUIET);
    applies[1].replyTo().tell(applied("b", record));
    WriteCoordinator.Written written = client.expectMessageClass(WriteCoordinator.Written.class);
    assertEquals(record.version(), written.version());
    assertEquals(Value.ofUtf8("v"), record.value());
  }

  @Test
  public void versionIsAboveEverySeenVersionEvenWhenOwnClockIsBehind() {
    start(Consistency.QUORUM);
    // b holds a version from a replica whose clock is 4 s ahead of ours (within the 5 s offset).
    Version ahead = new Version(HybridLogicalClock.fromMillis(wallMillis.get() + 4_000L), 99L);
    ActorRef<Answer> replyTo = versionQueryReplyTo(replicas.a);
    versionQueryReplyTo(replicas.b);
    replyTo.tell(holds("a", Version.ZERO));
    replyTo.tell(holds("b", ahead));
    Version chosen = replicas.a.expectMessageClass(Apply.class).record().version();
    assertTrue(chosen + " must be above " + ahead, chosen.isAfter(ahead));
    assertEquals(OWN_ID, chosen.replicaId());
  }

  /** A year ahead of this test's wall clock: far beyond the 5 s offset. */
  private Version yearAhead() {
    return new Version(HybridLogicalClock.fromMillis(wallMillis.get() + 365L * 86_400_000L), 99L);
  }

  /**
   * Starts a quorum write, lets all three version queries arrive, and answers a's (absent) and
   * b's (a year ahead); returns where the answers go.
   */
  private ActorRef<Answer> queryAnsweredByAAndAYearAheadB() {
    start(Consistency.QUORUM);
    ActorRef<Answer> replyTo = versionQueryReplyTo(replicas.a);
    versionQueryReplyTo(replicas.b);
    versionQueryReplyTo(replicas.c);
    replyTo.tell(holds("a", Version.ZERO));
    replyTo.tell(holds("b", yearAhead()));
    return replyTo;
  }

  @Test
  public void aVersionQueryAnswerFromBeyondTheClockOffsetCountsAsFailedAndIsNeverObserved() {
    ActorRef<Answer> replyTo = queryAnsweredByAAndAYearAheadB();
    replicas.a.expectNoMessage(QUIET); // one acceptable answer is not a quorum
    replyTo.tell(holds("c", Version.ZERO));
    Version chosen = replicas.a.expectMessageClass(Apply.class).record().version();
    assertTrue("the refused reading did not move the clock: " + chosen,
        HybridLogicalClock.millisOf(chosen.hlc()) <= wallMillis.get() + 5_000L);
    assertEquals(java.util.Map.of("b", 1L), clock.refusals());
  }

  @Test
  public void aVersionQueryWithTwoAnswersFromBeyondTheOffsetFailsAsNotApplied() {
    ActorRef<Answer> replyTo = queryAnsweredByAAndAYearAheadB();
    replyTo.tell(holds("c", yearAhead()));
    QuorumNotReached failed = client.expectMessageClass(QuorumNotReached.class);
    assertEquals(Phase.VERSION_QUERY, failed.phase());
    replicas.a.expectNoMessage(QUIET);
  }

  @Test
  public void anApplyFailureAfterALateVersionQueryAnswerFailsTheWriteAtOnce() {
    // Finding: the late VersionHeld left c's failure looking like a query failure, so the
    // write waited for its deadline instead of failing when the Apply could no longer reach W.
    start(Consistency.QUORUM);
    ActorRef<Answer> replyTo = versionQueryReplyTo(replicas.a);
    versionQueryReplyTo(replicas.b);
    versionQueryReplyTo(replicas.c);
    replyTo.tell(holds("a", Version.ZERO));
    replyTo.tell(holds("b", Version.ZERO));
    Apply apply = replicas.a.expectMessageClass(Apply.class);
    replicas.b.expectMessageClass(Apply.class);
    replicas.c.expectMessageClass(Apply.class);
    replyTo.tell(holds("c", Version.ZERO)); // late, after the Apply round started
    apply.replyTo().tell(applied("a", apply.record()));
    replyTo.tell(new Unavailable("b", "connection refused"));
    replyTo.tell(new Unavailable("c", "connection refused"));
    QuorumNotReached failed = client.expectMessageClass(QuorumNotReached.class, QUIET.multipliedBy(10));
    assertEquals(Phase.APPLY, failed.phase());
  }

  @Test
  public void newerVersionInAnApplyAnswerCountsTowardW() {
    start(Consistency.QUORUM);
    Apply[] applies = passQueryRound();
    Record ours = applies[0].record();
    Record newer = Record.of(new Version(ours.version().hlc() + 5, 3L), Value.ofUtf8("newer"));
    applies[0].replyTo().tell(applied("a", ours));
    applies[1].replyTo().tell(applied("b", newer));
    assertEquals(ours.version(), client.expectMessageClass(WriteCoordinator.Written.class).version());
  }

  @Test
  public void equalVersionWithOtherDigestDoesNotCountAndRaisesTheAlarm() {
    start(Consistency.QUORUM);
    Apply[] applies = passQueryRound();
    Record ours = applies[0].record();
    applies[0].replyTo().tell(applied("a", ours));
    applies[1].replyTo().tell(applied("b", Record.of(ours.version(), Value.ofUtf8("other"))));
    client.expectNoMessage(QUIET);
    assertEquals(1, stats.digestConflicts());
    applies[2].replyTo().tell(applied("c", ours));
    client.expectMessageClass(WriteCoordinator.Written.class);
  }

  @Test
  public void timeoutInQueryRoundRepliesWithCountsAndPhase() {
    start(Consistency.QUORUM);
    ActorRef<Answer> replyTo = versionQueryReplyTo(replicas.a);
    replyTo.tell(holds("a", Version.ZERO));
    manualTime.expectNoMessageFor(QUIET, client);
    manualTime.timePasses(TIMEOUT);
    QuorumNotReached failed = client.expectMessageClass(QuorumNotReached.class);
    assertEquals(new QuorumNotReached(Phase.VERSION_QUERY, 1, 2, 3), failed);
    assertFalse(failed.phase().indeterminate());
  }

  @Test
  public void timeoutInApplyRoundRepliesIndeterminateWithCounts() {
    start(Consistency.QUORUM);
    Apply[] applies = passQueryRound();
    applies[0].replyTo().tell(applied("a", applies[0].record()));
    manualTime.expectNoMessageFor(QUIET, client);
    manualTime.timePasses(TIMEOUT);
    QuorumNotReached failed = client.expectMessageClass(QuorumNotReached.class);
    assertEquals(new QuorumNotReached(Phase.APPLY, 1, 2, 3), failed);
    assertTrue(failed.phase().indeterminate());
  }

  @Test
  public void failsAtOnceWhenTooManyReplicasAreUnavailable() {
    start(Consistency.QUORUM);
    ActorRef<Answer> replyTo = versionQueryReplyTo(replicas.a);
    versionQueryReplyTo(replicas.b);
    versionQueryReplyTo(replicas.c);
    replyTo.tell(new Unavailable("b", "connection refused"));
    client.expectNoMessage(QUIET);
    replyTo.tell(new Unavailable("c", "connection refused"));
    assertEquals(new QuorumNotReached(Phase.VERSION_QUERY, 0, 2, 3),
        client.expectMessageClass(QuorumNotReached.class));
    for (TestProbe<Request> replica : replicas.all()) {
      replica.expectNoMessage(QUIET); // no Apply after a failed query round
    }
  }

  @Test
  public void lateAndDuplicateAnswersChangeNothing() {
    start(Consistency.QUORUM);
    Apply[] applies = passQueryRound();
    Record record = applies[0].record();
    applies[0].replyTo().tell(applied("a", record));
    applies[0].replyTo().tell(applied("a", record)); // the same replica twice is one ack
    client.expectNoMessage(QUIET);
    applies[1].replyTo().tell(applied("b", record));
    client.expectMessageClass(WriteCoordinator.Written.class);
    applies[2].replyTo().tell(applied("c", record));
    applies[2].replyTo().tell(holds("c", Version.ZERO)); // a late query answer
    client.expectNoMessage(QUIET);
    manualTime.timePasses(TIMEOUT);
    client.expectNoMessage(QUIET); // exactly one reply, also after the deadline
  }

  @Test
  public void concurrentCoordinatorsDoNotShareState() {
    start(Consistency.QUORUM);
    start(Consistency.QUORUM);
    ActorRef<Answer> first = versionQueryReplyTo(replicas.a);
    ActorRef<Answer> second = versionQueryReplyTo(replicas.a);
    replicas.b.receiveSeveralMessages(2);
    replicas.c.receiveSeveralMessages(2);
    // One answer to each: neither has R=2 answers, so neither may send an Apply.
    first.tell(holds("a", Version.ZERO));
    second.tell(holds("b", Version.ZERO));
    for (TestProbe<Request> replica : replicas.all()) {
      replica.expectNoMessage(QUIET);
    }
    first.tell(holds("b", Version.ZERO));
    replicas.a.expectMessageClass(Apply.class);
    replicas.a.expectNoMessage(QUIET);
  }

  @Test
  public void consistencyOneAsksOnlyTheLocalReplicaAndRepliesOnItsAck() {
    start(Consistency.ONE);
    ActorRef<Answer> replyTo = versionQueryReplyTo(replicas.a);
    replicas.b.expectNoMessage(QUIET);
    replyTo.tell(holds("a", Version.ZERO));
    Apply apply = replicas.a.expectMessageClass(Apply.class);
    replicas.b.expectMessageClass(Apply.class); // still replicated to every replica
    apply.replyTo().tell(applied("a", apply.record()));
    client.expectMessageClass(WriteCoordinator.Written.class);
  }

  @Test
  public void peersThatDidNotAcknowledgeByTheDeadlineGetAHint() {
    start(Consistency.QUORUM);
    Apply[] applies = passQueryRound();
    applies[0].replyTo().tell(applied("a", applies[0].record()));
    applies[1].replyTo().tell(applied("b", applies[1].record()));
    client.expectMessageClass(WriteCoordinator.Written.class);
    hints.expectNoMessage(QUIET); // c may still answer
    manualTime.timePasses(TIMEOUT);
    assertEquals(new HintedHandoff.RecordHints("k", java.util.List.of("c")),
        hints.expectMessageClass(HintedHandoff.RecordHints.class));
  }

  @Test
  public void noHintWhenEveryReplicaAcknowledgedOrNothingWasApplied() {
    start(Consistency.QUORUM);
    Apply[] applies = passQueryRound();
    for (int i = 0; i < 3; i++) {
      applies[i].replyTo().tell(applied(String.valueOf((char) ('a' + i)), applies[i].record()));
    }
    client.expectMessageClass(WriteCoordinator.Written.class);
    hints.expectNoMessage(QUIET);

    start(Consistency.QUORUM); // a write whose query round fails applies nothing: no hint
    versionQueryReplyTo(replicas.a);
    versionQueryReplyTo(replicas.b);
    versionQueryReplyTo(replicas.c);
    manualTime.timePasses(TIMEOUT);
    client.expectMessageClass(QuorumNotReached.class);
    hints.expectNoMessage(QUIET);
  }

  @Test
  public void lateVersionQueryFailureDoesNotCountAgainstTheApply() {
    start(Consistency.QUORUM);
    Apply[] applies = passQueryRound(); // a and b answered the query; c's query is still out
    applies[2].replyTo().tell(new Unavailable("c", "query timed out")); // c's late query failure
    applies[1].replyTo().tell(new Unavailable("b", "apply failed"));
    client.expectNoMessage(QUIET); // not a 503: a and c may still acknowledge
    applies[0].replyTo().tell(applied("a", applies[0].record()));
    applies[2].replyTo().tell(applied("c", applies[2].record()));
    client.expectMessageClass(WriteCoordinator.Written.class);
  }
}
