package io.quorumkv.replication;

import static org.junit.Assert.assertEquals;

import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestKitJunitResource;
import akka.actor.typed.ActorRef;
import io.quorumkv.config.PeerAddress;
import io.quorumkv.membership.PeerStatus;
import io.quorumkv.store.Hint;
import io.quorumkv.store.Incarnation;
import io.quorumkv.store.MemoryStorage;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaHandle;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.CallProbe;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
import io.quorumkv.store.Value;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * Goal: hinted handoff replays the record held *now* (never a superseded one), only to a peer
 * that answers pings, keeps a hint until the peer holds the record, and enforces expiry and
 * bounds. Method: a HintedHandoff over the memory engine, TestProbes for the local replica and
 * the peer, ManualTime for the replay ticks and a manual wall clock for expiry.
 */
public class HintedHandoffTest {

  @ClassRule
  public static final TestKitJunitResource testKit = new TestKitJunitResource(ManualTime.config());

  private static final Duration TICK = Duration.ofSeconds(1);
  private static final Duration QUIET = Duration.ofMillis(100);
  private static final Record OLD = Record.of(new Version(100, 1), Value.ofUtf8("old"));
  private static final Record CURRENT = Record.of(new Version(200, 1), Value.ofUtf8("current"));

  private final ManualTime manualTime = ManualTime.get(testKit.system());
  private final MemoryStorage storage = new MemoryStorage();
  private final CallProbe local = new CallProbe(testKit, "a");
  private final CallProbe peer = new CallProbe(testKit, "c");
  private final PeerStatus peerStatus = new PeerStatus(new PeerAddress("c", "127.0.0.1", 1));
  private final HintStatus hintStatus = new HintStatus();
  private final AtomicLong nowMillis = new AtomicLong(1_000_000L);

  private ActorRef<HintedHandoff.Command> start(int countMax) {
    HintedHandoff.Limits limits = new HintedHandoff.Limits(Duration.ofHours(3), countMax, 1_000_000L, TICK, 500, 16,
        Duration.ofSeconds(5));
    return testKit.spawn(HintedHandoff.create(storage, new ReplicaHandle("a", local.getRef()),
        List.of(new HintedHandoff.Peer(new ReplicaHandle("c", peer.getRef()), peerStatus, hintStatus)),
        HybridLogicalClock.system(), 7L, limits, nowMillis::get, new Incarnation(7L, Incarnation.State.READY, List.of("c"), state -> { }),
        () -> true));
  }

  private static RecordHeld holds(String replica, Record record) {
    return new RecordHeld(new Stamp(1, 0), Optional.ofNullable(record));
  }

  @Test
  public void replaysTheCurrentRecordNotTheSupersededOneAndForgetsTheHintOnceHeld() {
    ActorRef<HintedHandoff.Command> hints = start(100);
    hints.tell(new HintedHandoff.RecordHints("k", List.of("c"))); // the write of OLD missed c
    peerStatus.answered(3L);
    manualTime.timePasses(TICK);
    CallProbe.Received<Read> read = local.expectMessageClass(Read.class);
    assertEquals("k", read.key());
    read.replyTo().tell(holds("a", CURRENT)); // meanwhile a newer write superseded OLD
    CallProbe.Received<Apply> apply = peer.expectMessageClass(Apply.class);
    assertEquals(CURRENT, apply.record());
    apply.replyTo().tell(new Applied(new Stamp(3, 0), CURRENT.version(), CURRENT.digest()));
    local.awaitAssert(() -> {
      assertEquals(List.of(), storage.hints("c", 10));
      assertEquals(0L, hintStatus.render().get("pending"));
      assertEquals(1L, hintStatus.render().get("replayed"));
      return null;
    });
    manualTime.timePasses(TICK);
    local.expectNoMessage(QUIET);
  }

  @Test
  public void aHintThatCannotBeDeletedOnAFullDiskStaysPendingAndIsDeliveredAgainOnceThereIsRoom() {
    ActorRef<HintedHandoff.Command> hints = start(100);
    hints.tell(new HintedHandoff.RecordHints("k", List.of("c")));
    peerStatus.answered(3L);
    local.awaitAssert(() -> {
      assertEquals(1, storage.hints("c", 10).size());
      return null;
    });
    storage.setFullForTests(true);
    for (int delivery = 1; delivery <= 2; delivery++) { // on the full disk, then once there is room
      manualTime.timePasses(TICK);
      local.expectMessageClass(Read.class).replyTo().tell(holds("a", CURRENT));
      CallProbe.Received<Apply> apply = peer.expectMessageClass(Apply.class);
      apply.replyTo().tell(new Applied(new Stamp(3, 0), CURRENT.version(), CURRENT.digest()));
      long deliveries = delivery;
      local.awaitAssert(() -> {
        assertEquals(deliveries, hintStatus.render().get("replayed")); // the answer was handled
        return null;
      });
      if (delivery == 1) {
        assertEquals("not forgotten: the delete failed", 1L, hintStatus.render().get("pending"));
        assertEquals(1, storage.hints("c", 10).size());
        storage.setFullForTests(false);
      }
    }
    local.awaitAssert(() -> {
      assertEquals(List.of(), storage.hints("c", 10));
      assertEquals(0L, hintStatus.render().get("pending"));
      return null;
    });
  }

  @Test
  public void waitsWhileThePeerDoesNotAnswerPingsAndRetriesAfterAFailure() {
    ActorRef<HintedHandoff.Command> hints = start(100);
    hints.tell(new HintedHandoff.RecordHints("k", List.of("c")));
    manualTime.timePasses(TICK);
    local.expectNoMessage(QUIET); // never reached: no replay
    peerStatus.answered(3L);
    manualTime.timePasses(TICK);
    local.expectMessageClass(Read.class).replyTo().tell(holds("a", CURRENT));
    peer.expectMessageClass(Apply.class).replyTo().tell(new Unavailable("refused"));
    local.expectNoMessage(QUIET);
    assertEquals(1, storage.hints("c", 10).size()); // kept
    manualTime.timePasses(TICK);
    local.expectMessageClass(Read.class); // tried again
  }

  @Test
  public void aHintRefreshedDuringItsReplayIsKept() {
    ActorRef<HintedHandoff.Command> hints = start(100);
    hints.tell(new HintedHandoff.RecordHints("k", List.of("c")));
    peerStatus.answered(3L);
    manualTime.timePasses(TICK);
    local.expectMessageClass(Read.class).replyTo().tell(holds("a", OLD));
    CallProbe.Received<Apply> apply = peer.expectMessageClass(Apply.class);
    hints.tell(new HintedHandoff.RecordHints("k", List.of("c"))); // a newer write missed c too
    apply.replyTo().tell(new Applied(new Stamp(3, 0), OLD.version(), OLD.digest()));
    local.expectMessageClass(Read.class); // the refreshed hint replays again, without waiting
    assertEquals(1, storage.hints("c", 10).size());
  }

  @Test
  public void expiredHintsAreDroppedWithoutReplay() {
    storage.putHint(new Hint("c", "k", nowMillis.get() - Duration.ofHours(4).toMillis()));
    start(100);
    peerStatus.answered(3L);
    manualTime.timePasses(TICK);
    local.expectNoMessage(QUIET);
    assertEquals(List.<Hint>of(), storage.hints("c", 10));
    assertEquals(1L, hintStatus.render().get("expired"));
  }

  @Test
  public void hintsBeyondTheBoundAreDroppedAndCounted() {
    ActorRef<HintedHandoff.Command> hints = start(2);
    for (String key : List.of("k1", "k2", "k3", "k2")) {
      hints.tell(new HintedHandoff.RecordHints(key, List.of("c")));
    }
    local.awaitAssert(() -> {
      Map<String, Object> status = hintStatus.render();
      assertEquals(2L, status.get("pending"));
      assertEquals(1L, status.get("dropped")); // k3; refreshing k2 is not a new hint
      assertEquals(List.of("k1", "k2"), storage.hints("c", 10).stream().map(Hint::key).toList());
      return null;
    });
  }

  @Test
  public void hintsSurviveARestartOfTheActor() {
    storage.putHint(new Hint("c", "k", nowMillis.get()));
    start(100);
    peerStatus.answered(3L);
    manualTime.timePasses(TICK);
    assertEquals("k", local.expectMessageClass(Read.class).key());
  }
}
