package io.quorumkv.coordinator;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.quorumkv.config.Fanout;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Prepare;
import io.quorumkv.store.ReplicaProtocol.Promised;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaStats;
import io.quorumkv.store.Value;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.Test;

/**
 * Goal: revision 8 of "Conditions on an expiring value" (docs/listing-watch-ttl.md): an
 * observation that a value with a TTL expired, made while a replica reports a Paxos promise or
 * commit above it (a conditional write on it may be in flight), is made only after a Paxos round
 * chose the key's state: a read settles before it answers 404, and a conditional write that finds
 * the value expired settles before it answers 412. Without such a promise, or for a value still
 * live, nothing changes. Method: the pure rounds, driven by hand.
 */
public class ExpiryOrderTest {

  private static final List<String> REPLICAS = List.of("a", "b", "c");
  private static final long OWN_ID = 7L;
  private final long[] wall = {1_000_000L};
  private final HybridLogicalClock clock = new HybridLogicalClock(() -> wall[0], 0L);

  /** A value written at 990,000 ms that expires 5 s later: expired by the wall clock of 1,000,000 ms. */
  private final Version written = new Version(HybridLogicalClock.fromMillis(990_000L), 2L);
  private final Record expired = new Record(written, Value.ofUtf8("lease"), 5_000L);
  private final Record live = new Record(written, Value.ofUtf8("lease"), 60_000L);
  /** A promise a conditional write on the value left, above its version. */
  private final Version promise = new Version(HybridLogicalClock.fromMillis(995_000L), 3L);

  private Stamp stamp(long replicaId) {
    return new Stamp(replicaId, HybridLogicalClock.fromMillis(wall[0]));
  }

  private ReadRound read() {
    return new ReadRound("k", Consistency.QUORUM, REPLICAS, clock, OWN_ID, new ReplicaStats(), Fanout.ALL, false,
        new SplittableRandom(1));
  }

  private static boolean prepares(List<? extends RoundEffect<?>> effects) {
    return effects.stream().anyMatch(effect -> effect instanceof RoundEffect.Send<?> send
        && send.request() instanceof Prepare);
  }

  private static Optional<Object> reply(List<? extends RoundEffect<?>> effects) {
    return effects.stream().filter(RoundEffect.Reply.class::isInstance)
        .map(effect -> (Object) ((RoundEffect.Reply<?>) effect).result()).findFirst();
  }

  @Test
  public void aReadThatFindsTheValueExpiredUnderAPromiseSettlesBeforeItAnswersAbsent() {
    ReadRound round = read();
    round.step(new RoundEvent.Started());
    round.step(new RoundEvent.Answered("a", 1, new RecordHeld(stamp(OWN_ID), Optional.of(expired))));
    List<RoundEffect<ReadResult>> effects = round.step(new RoundEvent.Answered("b", 1,
        new RecordHeld(stamp(2L), Optional.of(expired), Optional.of(promise))));
    assertTrue("a settle's prepare, no 404: " + effects, prepares(effects) && reply(effects).isEmpty());
  }

  /** The value expires while the read's write-back is out: the reply, judged then, settles first too. */
  @Test
  public void aValueThatExpiresDuringTheWriteBackIsSettledBeforeTheReply() {
    Record soon = new Record(written, Value.ofUtf8("lease"), 10_500L); // expires at 1,000,500 ms
    Record older = Record.of(new Version(HybridLogicalClock.fromMillis(980_000L), 3L), Value.ofUtf8("old"));
    ReadRound round = read();
    round.step(new RoundEvent.Started());
    round.step(new RoundEvent.Answered("a", 1, new RecordHeld(stamp(OWN_ID), Optional.of(soon), Optional.of(promise))));
    List<RoundEffect<ReadResult>> chosen = round.step(new RoundEvent.Answered("b", 1,
        new RecordHeld(stamp(3L), Optional.of(older))));
    assertTrue("live: written back to b, no reply yet: " + chosen, reply(chosen).isEmpty() && !prepares(chosen));
    wall[0] = 1_001_000L;
    List<RoundEffect<ReadResult>> applied = round.step(new RoundEvent.Answered("b", 2,
        new io.quorumkv.store.ReplicaProtocol.Applied(stamp(3L), soon.version(), soon.digest())));
    assertTrue("expired by the reply: a settle, no 404: " + applied, prepares(applied) && reply(applied).isEmpty());
  }

  /** H-A of the revision's review: the shortcut that serves a proposal two answers carry settles too. */
  @Test
  public void aReadServingAnExpiredProposalTwoAnswersCarrySettlesUnderAPromise() {
    io.quorumkv.store.Proposal carried = new io.quorumkv.store.Proposal(written, expired);
    ReadRound round = read();
    round.step(new RoundEvent.Started());
    round.step(new RoundEvent.Answered("a", 1, new io.quorumkv.store.ReplicaProtocol.RecordAndProposal(
        stamp(OWN_ID), Optional.empty(), carried, Optional.of(promise))));
    List<RoundEffect<ReadResult>> effects = round.step(new RoundEvent.Answered("b", 1,
        new io.quorumkv.store.ReplicaProtocol.RecordAndProposal(stamp(2L), Optional.empty(), carried)));
    assertTrue("a settle's prepare, no 404: " + effects, prepares(effects) && reply(effects).isEmpty());

    ReadRound unpromised = read();
    unpromised.step(new RoundEvent.Started());
    unpromised.step(new RoundEvent.Answered("a", 1, new io.quorumkv.store.ReplicaProtocol.RecordAndProposal(
        stamp(OWN_ID), Optional.empty(), carried)));
    effects = unpromised.step(new RoundEvent.Answered("b", 1,
        new io.quorumkv.store.ReplicaProtocol.RecordAndProposal(stamp(2L), Optional.empty(), carried)));
    assertEquals("chosen and expired, no promise above it: 404 at once", Optional.of(new ReadResult.NotFound("k")),
        reply(effects));
  }

  @Test
  public void withoutAPromiseOrWhileTheValueLivesAReadAnswersAsBefore() {
    ReadRound unpromised = read();
    unpromised.step(new RoundEvent.Started());
    unpromised.step(new RoundEvent.Answered("a", 1, new RecordHeld(stamp(OWN_ID), Optional.of(expired))));
    List<RoundEffect<ReadResult>> effects = unpromised.step(new RoundEvent.Answered("b", 1,
        new RecordHeld(stamp(2L), Optional.of(expired))));
    assertEquals(Optional.of(new ReadResult.NotFound("k")), reply(effects));

    ReadRound living = read();
    living.step(new RoundEvent.Started());
    living.step(new RoundEvent.Answered("a", 1, new RecordHeld(stamp(OWN_ID), Optional.of(live))));
    effects = living.step(new RoundEvent.Answered("b", 1,
        new RecordHeld(stamp(2L), Optional.of(live), Optional.of(promise))));
    assertTrue(effects.toString(), reply(effects).filter(ReadResult.Found.class::isInstance).isPresent());
    assertTrue(!prepares(effects));
  }

  @Test
  public void aConditionalWriteThatFindsTheValueExpiredSettlesItBefore412() {
    ConditionalWriteRound cas = new ConditionalWriteRound("k",
        new PaxosRound.Conditional(new Condition.IfMatch(written), Optional.of(Value.ofUtf8("renewed")), 5_000L),
        Consistency.QUORUM, REPLICAS, clock, OWN_ID, new SplittableRandom(1), null, false);
    List<RoundEffect<WriteResult>> started = cas.step(new RoundEvent.Started());
    long prepareTag = started.stream().filter(RoundEffect.Send.class::isInstance)
        .map(effect -> ((RoundEffect.Send<?>) effect).round()).findFirst().orElseThrow();
    Version ballot = started.stream().filter(RoundEffect.Send.class::isInstance)
        .map(effect -> ((Prepare) ((RoundEffect.Send<?>) effect).request()).ballot()).findFirst().orElseThrow();
    // Both promises report the expired value as their record: known chosen, yet not answered 412 at once.
    cas.step(new RoundEvent.Answered("a", prepareTag,
        new Promised(stamp(OWN_ID), Optional.of(expired), Version.ZERO, Optional.empty())));
    List<RoundEffect<WriteResult>> decided = cas.step(new RoundEvent.Answered("b", prepareTag,
        new Promised(stamp(2L), Optional.of(expired), Version.ZERO, Optional.empty())));
    assertTrue("no 412 before the state is chosen under this ballot: " + decided, reply(decided).isEmpty());
    assertTrue(decided.toString(), decided.stream().anyMatch(effect -> effect instanceof RoundEffect.Send<?> send
        && send.request() instanceof io.quorumkv.store.ReplicaProtocol.Accept accept
        && accept.ballot().equals(ballot) && accept.record().equals(Optional.of(expired))));
    cas.step(new RoundEvent.Answered("a", prepareTag + 1,
        new io.quorumkv.store.ReplicaProtocol.Accepted(stamp(OWN_ID), ballot)));
    List<RoundEffect<WriteResult>> answered = cas.step(new RoundEvent.Answered("b", prepareTag + 1,
        new io.quorumkv.store.ReplicaProtocol.Accepted(stamp(2L), ballot)));
    assertEquals("then 412, naming no current version", Optional.of(new WriteResult.PreconditionFailed("k",
        Optional.empty())), reply(answered));
  }
}
