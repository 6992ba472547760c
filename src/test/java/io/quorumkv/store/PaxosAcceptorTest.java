package io.quorumkv.store;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.quorumkv.store.ReplicaProtocol.Accept;
import io.quorumkv.store.ReplicaProtocol.Accepted;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.CheckPaxos;
import io.quorumkv.store.ReplicaProtocol.CheckTombstone;
import io.quorumkv.store.ReplicaProtocol.Commit;
import io.quorumkv.store.ReplicaProtocol.FastAccept;
import io.quorumkv.store.ReplicaProtocol.Fenced;
import io.quorumkv.store.ReplicaProtocol.ForgetPaxos;
import io.quorumkv.store.ReplicaProtocol.PaxosHeld;
import io.quorumkv.store.ReplicaProtocol.Preempted;
import io.quorumkv.store.ReplicaProtocol.Prepare;
import io.quorumkv.store.ReplicaProtocol.Promised;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.ReadVersion;
import io.quorumkv.store.ReplicaProtocol.RecordAndProposal;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.StoreRequest;
import io.quorumkv.store.ReplicaProtocol.TombstoneHeld;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
import io.quorumkv.store.ReplicaProtocol.VersionHeld;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.Test;

/**
 * A replica's side of conditional writes (docs/conditional-writes.md, "Rules at a replica"),
 * through {@link StoreCore} on memory storage: promises, accepts and commits, the promise and
 * commit fences, what reads and version queries answer, tombstones held back, and forgetting.
 */
public class PaxosAcceptorTest {

  private static final long OWN_ID = 7L;
  private static final long PEER_ID = 9L;

  private final AtomicLong wallMillis = new AtomicLong(1_000_000L);
  private final HybridLogicalClock clock = new HybridLogicalClock(wallMillis::get, 0L);
  private final List<Answer> answers = new ArrayList<>();
  private final MemoryStorage storage = new MemoryStorage();
  private boolean flushRequested;
  private final Incarnation incarnation = new Incarnation(OWN_ID, Incarnation.State.READY, List.of("b", "c"),
      state -> {});
  private final StoreCore<String> core = core(incarnation);

  /** The store on {@link #storage} with {@code incarnation}: answers go to {@link #answers}. */
  private StoreCore<String> core(Incarnation incarnation) {
    return new StoreCore<>("a", OWN_ID, storage, clock, new ReplicaStats(), Duration.ofSeconds(15), incarnation,
        new StoreCore.PurgeRule(Duration.ofSeconds(30), Duration.ofSeconds(15), Duration.ofHours(1), () -> true),
        new StoreAdmission(100, 1 << 20), new StorageAlarm(StorageAlarm.NO_QUOTA), Set.of(), wallMillis::get,
        new StoreCore.Outbox<>() {
          @Override
          public void answer(String caller, Answer answer) {
            answers.add(answer);
          }

          @Override
          public void flushSoon() {
            flushRequested = true;
          }

          @Override
          public boolean startScan(java.util.function.Supplier<Runnable> prepare) {
            prepare.get().run();
            return true;
          }
        });
  }

  /** Handles {@code request}, writes the batch if one was asked for, and returns its answer. */
  private Answer ask(StoreRequest request) {
    answers.clear();
    core.handle("caller", request);
    if (flushRequested) {
      flushRequested = false;
      core.flush();
    }
    assertEquals(1, answers.size());
    return answers.get(0);
  }

  private Stamp stamp() {
    return new Stamp(PEER_ID, HybridLogicalClock.fromMillis(wallMillis.get()));
  }

  private static Version at(long millis, long replicaId) {
    return new Version(HybridLogicalClock.fromMillis(millis), replicaId);
  }

  private static Record value(Version version, String text) {
    return Record.of(version, Value.ofUtf8(text));
  }

  @Test
  public void aPromiseIsGrantedOnlyAboveEverythingHeldAndFencesOlderRecords() {
    Record old = value(at(999_000, PEER_ID), "old");
    assertTrue(ask(new Apply("k", old, stamp(), Cause.WRITE)) instanceof Applied);
    Promised promised = (Promised) ask(new Prepare("k", at(999_500, PEER_ID), stamp(), Cause.CONDITIONAL_WRITE));
    assertEquals(old.version(), promised.record().orElseThrow().version());
    assertTrue(promised.accepted().isEmpty());
    // Below the record, or at or below the promise: preempted, naming what is in the way.
    Preempted below = (Preempted) ask(new Prepare("k", at(998_000, PEER_ID), stamp(), Cause.CONDITIONAL_WRITE));
    assertEquals(at(999_500, PEER_ID), below.highest());
    assertTrue(ask(new Prepare("k", at(999_500, PEER_ID), stamp(), Cause.CONDITIONAL_WRITE)) instanceof Preempted);
    // A record from outside Paxos below the promise is fenced, and changes nothing...
    Fenced fenced = (Fenced) ask(new Apply("k", value(at(999_200, 3L), "late"), stamp(), Cause.WRITE));
    assertEquals(at(999_500, PEER_ID), fenced.fence());
    assertEquals(old, storage.get("k").orElseThrow());
    // ...but a copy identical to the record held is acknowledged, and one above the promise taken.
    assertTrue(ask(new Apply("k", old, stamp(), Cause.ANTI_ENTROPY)) instanceof Applied);
    Record newer = value(at(999_800, 3L), "newer");
    assertEquals(newer.version(), ((Applied) ask(new Apply("k", newer, stamp(), Cause.WRITE))).version());
    // A version query reports the promise when it is higher than the record.
    assertEquals(newer.version(), ((VersionHeld) ask(new ReadVersion("k", stamp()))).version());
    ask(new Prepare("k", at(999_900, PEER_ID), stamp(), Cause.CONDITIONAL_WRITE));
    assertEquals(at(999_900, PEER_ID), ((VersionHeld) ask(new ReadVersion("k", stamp()))).version());
  }

  @Test
  public void anAcceptedProposalIsReportedNotServedAndACommitPlacesItAndRaisesTheCommitFence() {
    Version ballot = at(999_500, PEER_ID);
    Record proposed = value(ballot, "cas");
    ask(new Prepare("k", ballot, stamp(), Cause.CONDITIONAL_WRITE));
    assertTrue(ask(new Accept("k", ballot, Optional.of(proposed), stamp(), Cause.CONDITIONAL_WRITE)) instanceof Accepted);
    assertTrue("a duplicate accept is taken again",
        ask(new Accept("k", ballot, Optional.of(proposed), stamp(), Cause.CONDITIONAL_WRITE)) instanceof Accepted);
    RecordAndProposal read = (RecordAndProposal) ask(new Read("k", stamp(), Cause.READ));
    assertTrue("the proposal is not the record yet", read.record().isEmpty());
    assertEquals(proposed, read.proposal().record().orElseThrow());
    // A later prepare reports the proposal; an accept at a lower ballot is refused.
    Version higher = at(999_700, 3L);
    assertEquals(proposed, ((Promised) ask(new Prepare("k", higher, stamp(), Cause.SETTLE))).accepted()
        .orElseThrow().record().orElseThrow());
    assertTrue(ask(new Accept("k", ballot, Optional.of(proposed), stamp(), Cause.CONDITIONAL_WRITE)) instanceof Preempted);
    assertTrue(ask(new Commit("k", higher, Optional.of(proposed), stamp(), Cause.SETTLE)) instanceof Applied);
    assertEquals(proposed, ((RecordHeld) ask(new Read("k", stamp(), Cause.READ))).record().orElseThrow());
    assertTrue(storage.paxos("k").accepted().isEmpty());
    assertEquals(higher, storage.paxos("k").committed());
    // The commit fence: a client write's apply below K is fenced; a copy above P is not.
    assertTrue(ask(new Apply("k", value(at(999_600, 3L), "w"), stamp(), Cause.WRITE)) instanceof Fenced);
    assertTrue(ask(new Apply("k", value(at(999_750, 3L), "w2"), stamp(), Cause.WRITE)) instanceof Applied);
    // Nothing older than the record is accepted, whatever the ballot.
    Version highest = at(999_950, PEER_ID);
    ask(new Prepare("k", highest, stamp(), Cause.CONDITIONAL_WRITE));
    assertTrue(ask(new Accept("k", highest, Optional.of(value(at(999_100, PEER_ID), "stale")), stamp(), Cause.SETTLE))
        instanceof Preempted);
  }

  @Test
  public void aFastAcceptIsTakenOnlyWithoutAProposalAboveEverythingHeldAndWhenTheConditionHolds() {
    Record current = value(at(999_000, PEER_ID), "current");
    ask(new Apply("k", current, stamp(), Cause.WRITE));
    // The condition false on this replica's record: refused, nothing changed.
    Record stale = value(at(999_500, PEER_ID), "stale");
    assertTrue(ask(new FastAccept("k", stale.version(), Optional.of(at(998_000, PEER_ID)), stale, stamp()))
        instanceof Preempted);
    assertTrue(ask(new FastAccept("k", stale.version(), Optional.empty(), stale, stamp())) instanceof Preempted);
    // A ballot not above the record: refused.
    Record low = value(at(998_500, PEER_ID), "low");
    assertTrue(ask(new FastAccept("k", low.version(), Optional.of(current.version()), low, stamp()))
        instanceof Preempted);
    assertTrue(storage.paxos("k").isNone());
    // Taken: stored as a fast proposal, promised at its ballot, reported with its mark, not served.
    assertTrue(ask(new FastAccept("k", stale.version(), Optional.of(current.version()), stale, stamp()))
        instanceof Accepted);
    Proposal fast = storage.paxos("k").accepted().orElseThrow();
    assertTrue(fast.fast());
    assertEquals(stale.version(), storage.paxos("k").promised());
    RecordAndProposal read = (RecordAndProposal) ask(new Read("k", stamp(), Cause.READ));
    assertEquals(current, read.record().orElseThrow());
    assertEquals(fast, read.proposal());
    // A plain write below the fast ballot is fenced by it.
    assertTrue(ask(new Apply("k", value(at(999_200, 3L), "w"), stamp(), Cause.WRITE)) instanceof Fenced);
    // Holding a proposal, it takes no other fast accept, even above everything.
    Record later = value(at(999_800, PEER_ID), "later");
    assertTrue(ask(new FastAccept("k", later.version(), Optional.of(current.version()), later, stamp()))
        instanceof Preempted);
    // A classic round above it sees the fast proposal with its mark and may replace it.
    Version ballot = at(999_900, 3L);
    assertEquals(fast, ((Promised) ask(new Prepare("k", ballot, stamp(), Cause.CONDITIONAL_WRITE))).accepted()
        .orElseThrow());
    assertTrue(ask(new Accept("k", ballot, Optional.of(stale), stamp(), Cause.CONDITIONAL_WRITE)) instanceof Accepted);
    assertFalse(storage.paxos("k").accepted().orElseThrow().fast());
  }

  @Test
  public void aFastAcceptTakesATombstoneAsAbsenceAndIsRefusedAtOrBelowTheFences() {
    Version deleted = at(999_000, PEER_ID);
    ask(new Apply("k", Record.tombstone(deleted), stamp(), Cause.WRITE));
    Version promised = at(999_400, 3L);
    ask(new Prepare("k", promised, stamp(), Cause.SETTLE));
    Record atPromise = value(promised, "at the promise");
    assertTrue(ask(new FastAccept("k", promised, Optional.empty(), atPromise, stamp())) instanceof Preempted);
    Record created = value(at(999_500, PEER_ID), "created");
    assertTrue("a tombstone is absence to If-None-Match",
        ask(new FastAccept("k", created.version(), Optional.empty(), created, stamp())) instanceof Accepted);
    // Committed: the record is placed, K raised, and the key takes a fast accept again above K.
    assertTrue(ask(new Commit("k", created.version(), Optional.of(created), stamp(), Cause.CONDITIONAL_WRITE))
        instanceof Applied);
    assertEquals(created, storage.get("k").orElseThrow());
    Record next = value(at(999_600, PEER_ID), "next");
    assertTrue(ask(new FastAccept("k", next.version(), Optional.of(created.version()), next, stamp()))
        instanceof Accepted);
  }

  @Test
  public void aFastAcceptIsRefusedByAReplicaNotReadyAndWhenTooOld() {
    StoreCore<String> fresh = core(new Incarnation(OWN_ID, Incarnation.State.REBUILDING, List.of("b", "c"),
        state -> {}));
    Record record = value(at(999_500, PEER_ID), "v");
    fresh.handle("caller", new FastAccept("k", record.version(), Optional.empty(), record, stamp()));
    assertTrue(answers.get(0) instanceof Unavailable);
    Record old = value(at(wallMillis.get() - 60_000, PEER_ID), "old");
    assertTrue(ask(new FastAccept("k", old.version(), Optional.empty(), old, stamp())) instanceof Unavailable);
    assertTrue(storage.paxos("k").isNone());
  }

  @Test
  public void theEmptyValueIsAcceptedAndItsCommitRaisesTheCommittedBallotWithoutARecord() {
    Record fast = value(at(999_300, PEER_ID), "fast");
    ask(new FastAccept("k", fast.version(), Optional.empty(), fast, stamp()));
    Version ballot = at(999_500, 3L);
    ask(new Prepare("k", ballot, stamp(), Cause.SETTLE));
    assertTrue(ask(new Accept("k", ballot, Optional.empty(), stamp(), Cause.SETTLE)) instanceof Accepted);
    assertEquals(Proposal.empty(ballot), storage.paxos("k").accepted().orElseThrow());
    assertEquals(Proposal.empty(ballot), ((RecordAndProposal) ask(new Read("k", stamp(), Cause.READ))).proposal());
    assertTrue(ask(new Commit("k", ballot, Optional.empty(), stamp(), Cause.SETTLE)) instanceof Applied);
    assertTrue(storage.get("k").isEmpty());
    assertTrue(storage.paxos("k").accepted().isEmpty());
    assertEquals(ballot, storage.paxos("k").committed());
    assertTrue(ask(new Read("k", stamp(), Cause.READ)) instanceof RecordHeld);
  }

  @Test
  public void paxosStatesOfEveryProposalKindSurviveTheirDiskFormat() {
    Version promised = at(999_900, 3L);
    Version committed = at(999_100, 3L);
    Record record = value(at(999_500, PEER_ID), "v");
    List<PaxosState> states = List.of(
        PaxosState.NONE,
        new PaxosState(promised, Optional.empty(), committed),
        new PaxosState(promised, Optional.of(new Proposal(at(999_600, 3L), record)), committed),
        new PaxosState(promised, Optional.of(new Proposal(record.version(), Optional.of(record), true)), committed),
        new PaxosState(promised, Optional.of(new Proposal(record.version(), Optional.of(Record.tombstone(
            record.version())), true)), committed),
        new PaxosState(promised, Optional.of(Proposal.empty(at(999_700, 3L))), committed));
    for (PaxosState state : states) {
      assertEquals(state, PaxosCodec.decode("k", PaxosCodec.encode(state)));
    }
    // An entry written before the fast round (kinds 0 and 1 only) reads as it did.
    byte[] older = PaxosCodec.encode(states.get(2));
    assertEquals(PaxosCodec.PROPOSAL, older[1 + 16 + 16]);
    // An unknown kind, or an empty proposal with trailing bytes, is corrupt, never read as none.
    byte[] unknown = older.clone();
    unknown[1 + 16 + 16] = 9;
    assertThrowsCorrupt(unknown);
    byte[] emptyWithTail = java.util.Arrays.copyOf(PaxosCodec.encode(states.get(5)), 1 + 16 + 16 + 1 + 16 + 1);
    assertThrowsCorrupt(emptyWithTail);
  }

  private static void assertThrowsCorrupt(byte[] bytes) {
    try {
      PaxosCodec.decode("k", bytes);
    } catch (CorruptRecordException expected) {
      return;
    }
    throw new AssertionError("decoded a corrupt Paxos entry");
  }

  @Test
  public void paxosMessagesOlderThanMaxMessageAgeChangeNothing() {
    Version old = at(wallMillis.get() - 60_000, PEER_ID);
    assertTrue(ask(new Prepare("k", old, stamp(), Cause.CONDITIONAL_WRITE)) instanceof Unavailable);
    assertTrue(storage.paxos("k").isNone());
  }

  @Test
  public void aReplicaNotReadyTakesNoPromiseButKeepsACommittedRecord() {
    StoreCore<String> fresh = core(new Incarnation(OWN_ID, Incarnation.State.REBUILDING, List.of("b", "c"),
        state -> {}));
    fresh.handle("caller", new Prepare("k", at(999_500, PEER_ID), stamp(), Cause.CONDITIONAL_WRITE));
    assertTrue(answers.get(0) instanceof Unavailable);
    Record chosen = value(at(999_500, PEER_ID), "chosen");
    fresh.handle("caller", new Commit("k", at(999_600, PEER_ID), Optional.of(chosen), stamp(), Cause.SETTLE));
    fresh.flush();
    assertEquals(chosen, storage.get("k").orElseThrow());
    assertTrue("no Paxos state on a replica not ready", storage.paxos("k").isNone());
  }

  @Test
  public void aTombstoneDoesNotSettleWhilePaxosStateIsHeldAndStateIsForgottenOnlyWhenOld() {
    Version deleted = at(999_000, PEER_ID);
    ask(new Apply("k", Record.tombstone(deleted), stamp(), Cause.WRITE));
    assertTrue(((TombstoneHeld) ask(new CheckTombstone("k", deleted, stamp()))).holds());
    Version ballot = at(999_500, PEER_ID);
    ask(new Prepare("k", ballot, stamp(), Cause.CONDITIONAL_WRITE));
    assertFalse(((TombstoneHeld) ask(new CheckTombstone("k", deleted, stamp()))).holds());
    assertFalse(((PaxosHeld) ask(new CheckPaxos("k", stamp()))).holds());
    // Too recent to forget: the promise stays.
    assertTrue(((PaxosHeld) ask(new ForgetPaxos("k", stamp()))).holds());
    assertTrue(core.keysToForget(10).isEmpty());
    ask(new Accept("k", ballot, Optional.of(Record.tombstone(ballot)), stamp(), Cause.CONDITIONAL_WRITE));
    assertTrue("a proposal is held", ((PaxosHeld) ask(new CheckPaxos("k", stamp()))).holds());
    ask(new Commit("k", ballot, Optional.of(Record.tombstone(ballot)), stamp(), Cause.CONDITIONAL_WRITE));
    wallMillis.addAndGet(Duration.ofMinutes(2).toMillis()); // past the grace
    clock.tick();
    assertEquals(List.of("k"), core.keysToForget(10));
    assertFalse(((PaxosHeld) ask(new ForgetPaxos("k", stamp()))).holds());
    assertTrue(storage.paxos("k").isNone());
    assertTrue(((TombstoneHeld) ask(new CheckTombstone("k", ballot, stamp()))).holds());
  }
}
