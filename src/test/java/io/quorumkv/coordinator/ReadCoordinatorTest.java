package io.quorumkv.coordinator;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestKitJunitResource;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import io.quorumkv.faults.DeliberateBug;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Request;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
import io.quorumkv.store.ReplicaStats;
import io.quorumkv.store.Value;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * Goal: the read protocol of DESIGN.md section 6: R answers, the highest version wins, and a
 * read whose newest record is held by fewer than W replicas writes it back before replying.
 * Method: a ReadCoordinator against three TestProbe replicas and ManualTime.
 */
public class ReadCoordinatorTest {

  @ClassRule
  public static final TestKitJunitResource testKit = new TestKitJunitResource(ManualTime.config());

  private static final Duration TIMEOUT = Duration.ofSeconds(2);
  private static final Duration QUIET = Duration.ofMillis(100);
  private static final Record OLD = Record.of(new Version(100, 1), Value.ofUtf8("old"));
  private static final Record NEW = Record.of(new Version(200, 2), Value.ofUtf8("new"));

  private final ManualTime manualTime = ManualTime.get(testKit.system());
  private final ReplicaStats stats = new ReplicaStats();
  private final Replicas replicas = new Replicas(testKit);
  private final TestProbe<ReadCoordinator.Result> client = testKit.createTestProbe();

  private ActorRef<Answer> start() {
    return start(Set.of());
  }

  private ActorRef<Answer> start(Set<DeliberateBug> bugs) {
    spawn(Fanout.ALL, bugs);
    ActorRef<Answer> replyTo = replicas.a.expectMessageClass(Read.class).replyTo();
    replicas.b.expectMessageClass(Read.class);
    replicas.c.expectMessageClass(Read.class);
    return replyTo;
  }

  private void spawn(Fanout fanout, Set<DeliberateBug> bugs) {
    testKit.spawn(ReadCoordinator.create("k", Consistency.QUORUM, replicas.handles(),
        HybridLogicalClock.system(), 7L, stats, client.getRef(), TIMEOUT, fanout, bugs));
  }

  private static final Duration HEDGE = Duration.ofMillis(500);

  /** Quorum-first: a and b are asked, c is not; returns the answers' replyTo. */
  private ActorRef<Answer> startQuorumFirst() {
    spawn(Fanout.quorumFirst(HEDGE), Set.of());
    ActorRef<Answer> replyTo = replicas.a.expectMessageClass(Read.class).replyTo();
    replicas.b.expectMessageClass(Read.class);
    replicas.c.expectNoMessage(QUIET);
    return replyTo;
  }

  @Test
  public void aRecordFromBeyondTheClockOffsetIsNeitherReturnedNorWrittenBack() {
    ActorRef<Answer> replyTo = start();
    Record yearAhead = Record.of(new Version(HybridLogicalClock.fromMillis(System.currentTimeMillis()
        + 365L * 86_400_000L), 9), Value.ofUtf8("poison"));
    replyTo.tell(holds("a", NEW));
    replyTo.tell(holds("b", yearAhead));
    client.expectNoMessage(QUIET); // b counts as unavailable: one answer is no quorum
    replyTo.tell(holds("c", NEW));
    assertEquals(new ReadCoordinator.Found("k", NEW), client.expectMessageClass(ReadCoordinator.Found.class));
    replicas.a.expectNoMessage(QUIET); // nothing written back anywhere
    replicas.c.expectNoMessage(QUIET);
  }

  @Test
  public void quorumFirstRepliesFromTwoAgreeingAnswersWithoutAskingTheThird() {
    ActorRef<Answer> replyTo = startQuorumFirst();
    replyTo.tell(holds("a", NEW));
    replyTo.tell(holds("b", NEW));
    assertEquals(new ReadCoordinator.Found("k", NEW), client.expectMessageClass(ReadCoordinator.Found.class));
    manualTime.timePasses(HEDGE.multipliedBy(2));
    replicas.c.expectNoMessage(QUIET); // replied: no hedge
  }

  @Test
  public void quorumFirstAsksTheThirdAtOnceWhenAnAskedReplicaFails() {
    ActorRef<Answer> replyTo = startQuorumFirst();
    replyTo.tell(holds("a", NEW));
    replyTo.tell(new Unavailable("b", "connection refused"));
    replicas.c.expectMessageClass(Read.class);
    client.expectNoMessage(QUIET);
    replyTo.tell(holds("c", NEW));
    assertEquals(new ReadCoordinator.Found("k", NEW), client.expectMessageClass(ReadCoordinator.Found.class));
  }

  @Test
  public void quorumFirstAsksTheThirdWhenTheHedgeDelayPasses() {
    ActorRef<Answer> replyTo = startQuorumFirst();
    replyTo.tell(holds("a", NEW)); // b is slow
    manualTime.timePasses(HEDGE);
    replicas.c.expectMessageClass(Read.class);
    replyTo.tell(holds("c", NEW));
    assertEquals(new ReadCoordinator.Found("k", NEW), client.expectMessageClass(ReadCoordinator.Found.class));
  }

  @Test
  public void quorumFirstWritesBackToTheStaleAskedReplicaBeforeReplying() {
    ActorRef<Answer> replyTo = startQuorumFirst();
    replyTo.tell(holds("a", OLD));
    replyTo.tell(holds("b", NEW));
    Apply writeBack = replicas.a.expectMessageClass(Apply.class);
    assertEquals(NEW, writeBack.record());
    client.expectNoMessage(QUIET);
    writeBack.replyTo().tell(applied("a", NEW));
    assertEquals(new ReadCoordinator.Found("k", NEW), client.expectMessageClass(ReadCoordinator.Found.class));
    replicas.c.expectNoMessage(QUIET);
  }

  private static RecordHeld holds(String replica, Record record) {
    return new RecordHeld(replica, new Stamp(1, 0), Optional.ofNullable(record));
  }

  private static Applied applied(String replica, Record record) {
    return new Applied(replica, new Stamp(1, 0), record.version(), record.digest());
  }

  @Test
  public void repliesOnTheSecondAgreeingAnswerAndNotBefore() {
    ActorRef<Answer> replyTo = start();
    replyTo.tell(holds("a", NEW));
    client.expectNoMessage(QUIET);
    replyTo.tell(holds("b", NEW));
    assertEquals(new ReadCoordinator.Found("k", NEW), client.expectMessageClass(ReadCoordinator.Found.class));
  }

  @Test
  public void highestVersionWinsAndIsWrittenBackBeforeTheReply() {
    ActorRef<Answer> replyTo = start();
    replyTo.tell(holds("a", OLD));
    replyTo.tell(holds("b", NEW));
    Apply writeBack = replicas.a.expectMessageClass(Apply.class);
    assertEquals(NEW, writeBack.record());
    replicas.b.expectNoMessage(QUIET); // b already holds it
    client.expectNoMessage(QUIET);
    writeBack.replyTo().tell(applied("a", NEW));
    assertEquals(new ReadCoordinator.Found("k", NEW), client.expectMessageClass(ReadCoordinator.Found.class));
    assertEquals(1L, (long) stats.snapshot().get("readWriteBacks"));
  }

  @Test
  public void deliberateBugNoReadWriteBackRepliesWithTheNewestAtOnce() {
    ActorRef<Answer> replyTo = start(Set.of(DeliberateBug.NO_READ_WRITE_BACK));
    replyTo.tell(holds("a", OLD));
    replyTo.tell(holds("b", NEW));
    assertEquals(new ReadCoordinator.Found("k", NEW), client.expectMessageClass(ReadCoordinator.Found.class));
    replicas.a.expectNoMessage(QUIET); // the bug: nothing is written back
  }

  @Test
  public void replicaMissingTheKeyGetsItWrittenBack() {
    ActorRef<Answer> replyTo = start();
    replyTo.tell(holds("c", null));
    replyTo.tell(holds("b", NEW));
    Apply writeBack = replicas.c.expectMessageClass(Apply.class);
    client.expectNoMessage(QUIET);
    writeBack.replyTo().tell(applied("c", NEW));
    client.expectMessageClass(ReadCoordinator.Found.class);
  }

  @Test
  public void absentEverywhereIsNotFound() {
    ActorRef<Answer> replyTo = start();
    replyTo.tell(holds("a", null));
    replyTo.tell(holds("c", null));
    assertEquals(new ReadCoordinator.NotFound("k"), client.expectMessageClass(ReadCoordinator.NotFound.class));
  }

  @Test
  public void newestTombstoneHidesOlderValue() {
    ActorRef<Answer> replyTo = start();
    Record tombstone = Record.tombstone(new Version(300, 3));
    replyTo.tell(holds("a", tombstone));
    replyTo.tell(holds("b", OLD));
    Apply writeBack = replicas.b.expectMessageClass(Apply.class);
    assertEquals(tombstone, writeBack.record());
    writeBack.replyTo().tell(applied("b", tombstone));
    client.expectMessageClass(ReadCoordinator.NotFound.class);
  }

  @Test
  public void timeoutRepliesWithResponsesRequiredAndPhase() {
    ActorRef<Answer> replyTo = start();
    replyTo.tell(holds("a", NEW));
    manualTime.expectNoMessageFor(QUIET, client);
    manualTime.timePasses(TIMEOUT);
    assertEquals(new QuorumNotReached(Phase.READ, 1, 2, 3), client.expectMessageClass(QuorumNotReached.class));
  }

  @Test
  public void writeBackThatNobodyAcknowledgesTimesOutInWriteBackPhase() {
    ActorRef<Answer> replyTo = start();
    replyTo.tell(holds("a", OLD));
    replyTo.tell(holds("b", NEW));
    replicas.a.expectMessageClass(Apply.class);
    manualTime.expectNoMessageFor(QUIET, client);
    manualTime.timePasses(TIMEOUT);
    assertEquals(new QuorumNotReached(Phase.WRITE_BACK, 1, 2, 3), client.expectMessageClass(QuorumNotReached.class));
  }

  @Test
  public void twoUnavailableReplicasFailTheReadAtOnce() {
    ActorRef<Answer> replyTo = start();
    replyTo.tell(holds("a", NEW));
    replyTo.tell(new Unavailable("b", "refused"));
    client.expectNoMessage(QUIET);
    replyTo.tell(new Unavailable("c", "refused"));
    assertEquals(new QuorumNotReached(Phase.READ, 1, 2, 3), client.expectMessageClass(QuorumNotReached.class));
  }

  @Test
  public void lateStaleAnswerIsRepairedInTheBackground() {
    ActorRef<Answer> replyTo = start();
    replyTo.tell(holds("a", NEW));
    replyTo.tell(holds("b", NEW));
    client.expectMessageClass(ReadCoordinator.Found.class);
    replyTo.tell(holds("c", OLD));
    assertEquals(NEW, replicas.c.expectMessageClass(Apply.class).record());
    assertEquals(1L, (long) stats.snapshot().get("readRepairs"));
    client.expectNoMessage(QUIET);
  }

  @Test
  public void duplicateAnswersChangeNothing() {
    ActorRef<Answer> replyTo = start();
    replyTo.tell(holds("a", NEW));
    replyTo.tell(holds("a", NEW));
    client.expectNoMessage(QUIET);
    replyTo.tell(holds("c", NEW));
    client.expectMessageClass(ReadCoordinator.Found.class);
    replyTo.tell(holds("c", NEW));
    client.expectNoMessage(QUIET);
  }

  @Test
  public void equalVersionsWithDifferentDigestsRaiseTheAlarmAndTheHigherDigestWins() {
    ActorRef<Answer> replyTo = start();
    Record forged = Record.of(NEW.version(), Value.ofUtf8("forged"));
    Record winner = NEW.digest() > forged.digest() ? NEW : forged;
    TestProbe<Request> loser = winner == NEW ? replicas.b : replicas.a;
    replyTo.tell(holds("a", NEW));
    replyTo.tell(holds("b", forged));
    assertEquals(winner, loser.expectMessageClass(Apply.class).record());
    assertTrue(stats.digestConflicts() >= 1);
    client.expectNoMessage(QUIET); // one holder of the winner is not W
  }
}
