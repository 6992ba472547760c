package io.quorumkv.coordinator;

import io.quorumkv.config.Fanout;
import io.quorumkv.coordinator.RoundEffect.Reply;
import io.quorumkv.coordinator.RoundEffect.Send;
import io.quorumkv.coordinator.RoundEffect.StartHedgeTimer;
import io.quorumkv.coordinator.RoundEvent.Answered;
import io.quorumkv.coordinator.RoundEvent.BackoffPassed;
import io.quorumkv.coordinator.RoundEvent.DeadlinePassed;
import io.quorumkv.coordinator.RoundEvent.HedgeDelayPassed;
import io.quorumkv.coordinator.RoundEvent.Started;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.Proposal;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.Commit;
import io.quorumkv.store.ReplicaProtocol.Fenced;
import io.quorumkv.store.ReplicaProtocol.RecordAndProposal;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaStats;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One read as pure code (docs/design.md, "Request flow"). {@link ReadCoordinator} drives it; the
 * scenario tests and the simulation drive it directly.
 *
 * <p>{@link State#READING}: {@link Read} to the replicas (all, or R first: see {@link Fanout});
 * after R answers the newest record among them is chosen. If W replicas already hold it (the
 * common case: the answers agree) the read replies at once. Otherwise, {@link State#WRITING_BACK}:
 * it writes the record back to the stale replicas (cause {@code write-back}, foreground: the
 * client waits for it) and replies only when W hold it, so no later read can return an older
 * record: that is what makes a quorum read linearizable. A holder holds exactly the chosen
 * record; a replica showing a newer one before the reply starts the read over, up to
 * {@link #ROUNDS_MAX} read rounds (docs/design.md, "When a newer record starts a read over": the
 * newer record may be a delete hidden as absence, or a conditional write chosen on a state
 * without the chosen record).
 * Answers arriving after the reply are repaired in the background (cause {@code repair});
 * the round ends when every replica asked has answered and no write-back is outstanding, or at
 * the deadline.
 *
 * <p>A replica holding an accepted Paxos proposal for the key answers it beside its record
 * ({@link RecordAndProposal}); a proposal is never served before it is known to be chosen
 * (docs/conditional-writes.md, "A plain read"). When a majority of the first R answers carry
 * the same proposal (every replica, for a fast proposal) and its record is newer than every
 * record among them, it is chosen: the read returns it (absent, for the empty value a settle
 * proposes) and commits it in the background. When a proposal is otherwise the newest thing
 * seen, or a write-back is {@link Fenced}, the read settles the key through a
 * {@link PaxosRound} and returns what that round chose.
 */
public final class ReadRound {

  public enum State { READING, CONFIRMING_FAST, WRITING_BACK, SETTLING, REPLIED, FINISHED }

  /** The round tag of the first read round's reads; read round {@code k} (from 0) adds {@code 10k}. */
  public static final long READ = 1;
  /** The tag of the first round's write-backs, sent before the reply (the client waits for them). */
  public static final long WRITE_BACK = 2;
  /** The tag of the first round's repairs, sent after the reply (nobody waits for them). */
  public static final long REPAIR = 3;
  /** Read rounds before a read that keeps seeing newer records fails (503, phase changing). */
  static final int ROUNDS_MAX = 3;
  private static final long TAGS_PER_ROUND = 10;

  private final String key;
  private final List<String> targets;
  private final HybridLogicalClock clock;
  private final long replicaId;
  private final ReplicaStats stats;
  private final Fanout fanout;
  private final boolean skipWriteBack; // DeliberateBug.NO_READ_WRITE_BACK
  private final Consistency consistency;
  private final java.util.random.RandomGenerator random;
  /** The proposals among the read answers, by replica. */
  private final Map<String, Proposal> proposals = new LinkedHashMap<>();
  /** The promises answers reported beside a value with a TTL (see {@link RecordHeld#promise}). */
  private final Map<String, Version> promisesAbove = new LinkedHashMap<>();
  /** The round settling the key before the reply, once started. */
  private PaxosRound settle;
  /** The fast proposal every answer carried, while the last replica is asked whether it does too. */
  private Proposal confirming;

  private QuorumTracker read;
  /** The read round under way, from 0: it sets the tags, so a late answer of an earlier one is ignored. */
  private int readRound;
  private final int holdersRequired;
  /** The admitted answers of the read round, in arrival order. */
  private final Map<String, Optional<Record>> held = new LinkedHashMap<>();
  private final Set<String> asked = new HashSet<>();
  private final Set<String> unreachable = new HashSet<>();
  /** Replicas a write-back or repair was sent to and has not answered. */
  private final Set<String> repairing = new HashSet<>();
  private State state = State.READING;
  /** The newest record among the first R answers (empty: absent); meaningful once not READING. */
  private Optional<Record> newest = Optional.empty();
  /** The stamp of the current read round's start: its write-backs and repairs carry it (see {@link #writeBack}). */
  private Stamp roundStamp;
  private QuorumTracker holders; // of the newest record, once chosen (null under NO_READ_WRITE_BACK)
  private boolean replied;

  /**
   * @param replicas the names of all N replicas of the key, the local one first; {@code ONE}
   *     reads only the local one
   * @param skipWriteBack {@code DeliberateBug.NO_READ_WRITE_BACK}
   */
  public ReadRound(
      String key, Consistency consistency, List<String> replicas, HybridLogicalClock clock, long replicaId,
      ReplicaStats stats, Fanout fanout, boolean skipWriteBack, java.util.random.RandomGenerator random) {
    this.key = key;
    this.consistency = consistency;
    this.random = random;
    this.targets = List.copyOf(consistency == Consistency.ONE ? replicas.subList(0, 1) : replicas);
    this.clock = clock;
    this.replicaId = replicaId;
    this.stats = stats;
    this.fanout = fanout;
    this.skipWriteBack = skipWriteBack;
    this.read = new QuorumTracker(targets.size(), consistency.required(targets.size()));
    this.holdersRequired = consistency.required(targets.size());
  }

  public State state() {
    return state;
  }

  /** Replied, and nothing is left to hear: the actor may stop. */
  public boolean finished() {
    return state == State.FINISHED;
  }

  public List<RoundEffect<ReadResult>> step(RoundEvent event) {
    List<RoundEffect<ReadResult>> effects = new ArrayList<>();
    if (state == State.FINISHED) {
      return effects;
    }
    if (settle != null) {
      if (event instanceof BackoffPassed || event instanceof DeadlinePassed
          || event instanceof Answered settling && PaxosRound.owns(settling.round())) {
        onSettleEvent(event, effects);
      }
      return effects; // the read's own answers no longer matter: the settle decides
    }
    if (event instanceof BackoffPassed) {
      return effects;
    }
    if (event instanceof Started) {
      askFirst(effects);
    } else if (event instanceof Answered answered) {
      if (answered.round() == tag(READ)) {
        onReadAnswer(answered, effects);
      } else if (answered.round() == tag(WRITE_BACK) || answered.round() == tag(REPAIR)) {
        onWriteBackAnswer(answered, effects);
      }
    } else if (event instanceof HedgeDelayPassed) {
      if (state == State.CONFIRMING_FAST) {
        startSettle(effects); // the last replica did not answer in time: settle instead
        return effects;
      }
      if (!replied) {
        askTheRest(effects);
      }
    } else if (event instanceof DeadlinePassed) {
      if (state == State.READING || state == State.CONFIRMING_FAST) {
        reply(new QuorumNotReached(Phase.READ, read.successes(), read.required(), read.replicas()), effects);
      } else if (holders != null) {
        reply(new QuorumNotReached(Phase.WRITE_BACK, holders.successes(), holders.required(), holders.replicas()),
            effects);
      }
      state = State.FINISHED;
      return effects;
    } else {
      throw new IllegalArgumentException("not a round event: " + event);
    }
    if (replied && everyAskedAnswered() && repairing.isEmpty()) {
      state = State.FINISHED;
    }
    return effects;
  }

  /** The first replicas of a read round (all, or R first: see {@link Fanout}). */
  private void askFirst(List<RoundEffect<ReadResult>> effects) {
    roundStamp = stamp();
    int first = fanout.firstAsked(targets.size(), read.required());
    targets.subList(0, first).forEach(replica -> ask(replica, effects));
    if (first < targets.size()) {
      effects.add(new StartHedgeTimer<>(fanout.hedgeDelay()));
    }
  }

  /** {@code first}'s tag ({@link #READ}, {@link #WRITE_BACK} or {@link #REPAIR}) in the current read round. */
  private long tag(long first) {
    return first + TAGS_PER_ROUND * readRound;
  }

  private void ask(String replica, List<RoundEffect<ReadResult>> effects) {
    asked.add(replica);
    effects.add(new Send<>(replica, new Read(key, stamp(), Cause.READ), tag(READ)));
  }

  /**
   * An answer showed a replica holding a record newer than the chosen one, before the reply. It
   * must not count as a holder of the chosen record: the newer one may be a settled tombstone the
   * read took for absence beside a stale answer, or a conditional write chosen on a state without
   * the chosen record (which a promise fenced out elsewhere). So the read starts again from
   * scratch; after {@link #ROUNDS_MAX} rounds it fails (the key keeps changing under it).
   */
  private void startOver(List<RoundEffect<ReadResult>> effects) {
    stats.readStartedOver();
    if (readRound + 1 >= ROUNDS_MAX) {
      reply(new QuorumNotReached(Phase.CHANGING, holders.successes(), holders.required(), holders.replicas()),
          effects);
      return;
    }
    readRound++;
    state = State.READING;
    read = new QuorumTracker(targets.size(), consistency.required(targets.size()));
    held.clear();
    proposals.clear();
    promisesAbove.clear();
    asked.clear();
    unreachable.clear();
    repairing.clear(); // their answers come under the old round's tag: ignored
    newest = Optional.empty();
    holders = null;
    askFirst(effects);
  }

  /** Asks the replicas not asked yet; their answers count like any other (late ones repair). */
  private void askTheRest(List<RoundEffect<ReadResult>> effects) {
    targets.stream().filter(replica -> !asked.contains(replica)).forEach(replica -> ask(replica, effects));
  }

  private void onReadAnswer(Answered answered, List<RoundEffect<ReadResult>> effects) {
    String replica = answered.replica();
    if (!asked.contains(replica) || held.containsKey(replica) || unreachable.contains(replica)) {
      return; // not asked, or a duplicate: changes nothing
    }
    Optional<Record> record;
    Optional<Proposal> proposal = Optional.empty();
    if (answered.answer() instanceof RecordHeld answer
        && clock.admit(replica, "read answer", answer.stamp().clock(), Record.versionOf(answer.record()).hlc(),
            answer.promise().map(Version::hlc).orElse(0L))) {
      record = answer.record();
      answer.promise().ifPresent(promise -> promisesAbove.put(replica, promise));
    } else if (answered.answer() instanceof RecordAndProposal answer
        && clock.admit(replica, "read answer", answer.stamp().clock(), Record.versionOf(answer.record()).hlc(),
            answer.proposal().ballot().hlc(), answer.promise().map(Version::hlc).orElse(0L))) {
      record = answer.record();
      proposal = Optional.of(answer.proposal());
      answer.promise().ifPresent(promise -> promisesAbove.put(replica, promise));
    } else {
      // Unavailable, not a record, or from further ahead than max-clock-offset: a failed answer.
      onFailed(replica, effects);
      return;
    }
    held.put(replica, record);
    proposal.ifPresent(accepted -> proposals.put(replica, accepted));
    Optional<Record> answerRecord = record;
    if (state == State.CONFIRMING_FAST) {
      confirmFast(record, proposal, effects);
    } else if (state == State.READING) {
      if (read.succeeded(replica) == QuorumTracker.Outcome.REACHED) {
        choose(effects);
      }
    } else if (holders != null) { // null only under NO_READ_WRITE_BACK: replied at once
      judgeLateAnswer(replica, answerRecord, effects);
    }
  }

  /** The first R answers are in: take the newest, reply if W hold it, else write it back. */
  private void choose(List<RoundEffect<ReadResult>> effects) {
    newest = newest(held.values());
    Optional<Proposal> newestProposal = proposals.values().stream()
        .filter(proposal -> proposal.record().map(Record::version).orElse(proposal.ballot())
            .isAfter(Record.versionOf(newest)))
        .max(java.util.Comparator.comparing(Proposal::ballot));
    if (newestProposal.isPresent() && consistency != Consistency.ONE) {
      Proposal proposal = newestProposal.get();
      long carrying = proposals.values().stream().filter(proposal::equals).count();
      // A fast proposal is chosen only if every replica took it; a classic one once a majority did.
      if (carrying >= (proposal.fast() ? targets.size() : targets.size() / 2 + 1)) {
        serveChosen(proposal, effects);
        return;
      }
      if (proposal.fast() && carrying == held.size() && held.size() < targets.size()) {
        // Every answer carries it: most likely a fast write whose commit is on its way. Chosen
        // if the last replica carries it too (or holds it committed): ask, briefly, before a
        // settle, which would cost two more round trips and duel with other readers.
        state = State.CONFIRMING_FAST;
        confirming = proposal;
        askTheRest(effects);
        effects.add(new StartHedgeTimer<>(
            fanout.quorumFirst() ? fanout.hedgeDelay() : FastRoundGate.WAIT_WITHOUT_HEDGE));
        return;
      }
      startSettle(effects);
      return;
    }
    if (expiredUnderAPromise(newest, clockMillis())) {
      startSettle(effects); // no write-back of a value that is to be settled
      return;
    }
    if (skipWriteBack) {
      state = State.REPLIED;
      serve(newest, effects);
      return;
    }
    state = State.WRITING_BACK;
    holders = new QuorumTracker(targets.size(), holdersRequired);
    for (Map.Entry<String, Optional<Record>> answer : held.entrySet()) {
      if (holdsNewest(answer.getValue())) { // none is newer: the newest was chosen among them
        holders.succeeded(answer.getKey());
      } else {
        writeBack(answer.getKey(), effects);
      }
    }
    if (!repairing.isEmpty()) {
      stats.readWroteBack();
    }
    replyIfHeld(effects);
  }

  /**
   * Whether serving {@code record} would observe a value's expiry while an answer reported a
   * promise above it: a conditional write on the value may be in flight, and this absence may be
   * observed only after a settle chose the key's state, so that write is chosen before it or
   * never (docs/listing-watch-ttl.md, "Conditions on an expiring value", revision 8).
   */
  private boolean expiredUnderAPromise(Optional<Record> record, long clockMillis) {
    if (consistency == Consistency.ONE || record.filter(Record::hasTtl).isEmpty()
        || !record.get().isAbsentAt(clockMillis)) {
      return false;
    }
    Version version = record.get().version();
    return promisesAbove.values().stream().anyMatch(promise -> promise.isAfter(version));
  }

  private long clockMillis() {
    return HybridLogicalClock.millisOf(clock.peek());
  }

  /**
   * Answers with {@code record}, judged by one reading of the clock: absent if expired, unless
   * that would observe the expiry under a promise, in which case the key is settled first (also
   * when the value expired while its write-backs were out).
   */
  private void serve(Optional<Record> record, List<RoundEffect<ReadResult>> effects) {
    if (replied) {
      return;
    }
    long now = clockMillis();
    if (expiredUnderAPromise(record, now)) {
      startSettle(effects);
      return;
    }
    reply(resultOf(record, now), effects);
  }

  /** Chosen, and no newer record is among the answers: served (the empty value: absent), committed after. */
  private void serveChosen(Proposal proposal, List<RoundEffect<ReadResult>> effects) {
    newest = proposal.record();
    state = State.REPLIED;
    serve(newest, effects);
    if (state == State.SETTLING) {
      return; // an expiry under a promise: settled first, nothing served
    }
    for (String replica : targets) {
      effects.add(new Send<>(replica, new Commit(key, proposal.ballot(), proposal.record(), stamp(), Cause.READ),
          tag(REPAIR)));
    }
    state = State.FINISHED;
  }

  /**
   * The last replica's answer while confirming a fast proposal: it carries the same proposal, or
   * holds its record (committed there: only a chosen record is committed), and nothing newer:
   * every replica took it, so it is chosen. Anything else: settle.
   */
  private void confirmFast(Optional<Record> record, Optional<Proposal> proposal,
      List<RoundEffect<ReadResult>> effects) {
    Record fast = confirming.record().orElseThrow();
    boolean carries = proposal.filter(confirming::equals).isPresent()
        && !Record.versionOf(record).isAfter(fast.version());
    boolean committed = record.filter(held -> held.version().equals(fast.version())
        && held.digest() == fast.digest()).isPresent();
    if (carries || committed) {
      serveChosen(confirming, effects);
    } else {
      startSettle(effects);
    }
  }

  private void judgeLateAnswer(String replica, Optional<Record> record, List<RoundEffect<ReadResult>> effects) {
    if (mustStartOver(Record.versionOf(record))) {
      startOver(effects);
    } else if (holdsNewestOrNewer(record)) {
      holders.succeeded(replica);
      replyIfHeld(effects);
    } else {
      stats.readRepaired();
      writeBack(replica, effects);
    }
  }

  private void onWriteBackAnswer(Answered answered, List<RoundEffect<ReadResult>> effects) {
    String replica = answered.replica();
    if (!repairing.contains(replica)) {
      return;
    }
    if (answered.answer() instanceof Fenced fence && !replied && consistency != Consistency.ONE
        && clock.admit(replica, "fenced answer", fence.stamp().clock(), fence.fence().hlc())) {
      // A Paxos round is placing a record where this write-back would go: settle first.
      repairing.remove(replica);
      startSettle(effects);
      return;
    }
    if (!(answered.answer() instanceof Applied applied)
        || !clock.admit(replica, "write-back answer", applied.stamp().clock(), applied.version().hlc())) {
      onFailed(replica, effects);
      return;
    }
    repairing.remove(replica);
    if (mustStartOver(applied.version())) {
      startOver(effects); // it holds something the read did not see (a settled tombstone, say)
      return;
    }
    if (holdsNewestOrNewer(applied.version(), applied.digest())) {
      holders.succeeded(replica);
    } else {
      holders.failed(replica);
    }
    replyIfHeld(effects);
  }

  /** {@code replica} did not answer usefully: as unreachable for this read. */
  private void onFailed(String replica, List<RoundEffect<ReadResult>> effects) {
    unreachable.add(replica);
    if (state == State.CONFIRMING_FAST) {
      startSettle(effects); // the last replica cannot confirm the fast proposal
      return;
    }
    if (!replied) {
      askTheRest(effects); // its answer may still be needed for R, or as a holder of the newest record
    }
    if (state == State.READING) {
      if (read.failed(replica) == QuorumTracker.Outcome.FAILED) {
        reply(new QuorumNotReached(Phase.READ, read.successes(), read.required(), read.replicas()), effects);
      }
    } else if (holders != null) {
      repairing.remove(replica);
      holders.failed(replica);
      if (holders.outcome() == QuorumTracker.Outcome.FAILED) {
        reply(new QuorumNotReached(Phase.WRITE_BACK, holders.successes(), holders.required(), holders.replicas()),
            effects);
      }
    }
  }

  private void writeBack(String replica, List<RoundEffect<ReadResult>> effects) {
    Record record = newest.orElseThrow(() -> new IllegalStateException(
        "nothing is older than absence, so an absent newest record needs no write-back"));
    repairing.add(replica);
    // Stamped when the round began, before its record was read: a replica takes no copy older
    // than max-message-age by its stamp, and a purge waits that long after a tombstone settled,
    // so a copy of a record read before the settle never lands after the purge.
    // Before the reply the client waits for it: foreground. After it, a background repair.
    effects.add(replied
        ? new Send<>(replica, new Apply(key, record, roundStamp, Cause.REPAIR), tag(REPAIR))
        : new Send<>(replica, new Apply(key, record, roundStamp, Cause.WRITE_BACK), tag(WRITE_BACK)));
  }

  private void startSettle(List<RoundEffect<ReadResult>> effects) {
    state = State.SETTLING;
    settle = new PaxosRound(key, new PaxosRound.Settle(), consistency, targets, clock, replicaId, random, Cause.READ);
    onSettleEvent(new Started(), effects);
  }

  /** While settling: what the settle chose is what the read returns. */
  private void onSettleEvent(RoundEvent event, List<RoundEffect<ReadResult>> effects) {
    effects.addAll(RoundEffect.map(settle.step(event), outcome -> {
      ReadResult result;
      if (outcome instanceof PaxosRound.Chosen chosen) {
        result = resultOf(Optional.of(chosen.record()));
      } else if (outcome instanceof PaxosRound.Absent) {
        result = new ReadResult.NotFound(key);
      } else {
        result = new QuorumNotReached(Phase.READ, read.successes(), read.required(), read.replicas());
      }
      replied = true;
      return List.of(new RoundEffect.Reply<>(result));
    }));
    if (settle.finished() || event instanceof DeadlinePassed) {
      state = State.FINISHED;
    }
  }

  private void replyIfHeld(List<RoundEffect<ReadResult>> effects) {
    if (holders.outcome() == QuorumTracker.Outcome.REACHED) {
      serve(newest, effects);
    }
  }

  /**
   * The answer for the chosen raw record: a tombstone, or a value whose TTL has passed by this
   * coordinator's clock, is not found (docs/listing-watch-ttl.md, "Expiring keys": expiry is
   * judged by one party per request, after the raw rules chose the record).
   */
  private ReadResult resultOf(Optional<Record> record) {
    return resultOf(record, clockMillis());
  }

  private ReadResult resultOf(Optional<Record> record, long clockMillis) {
    return record.filter(value -> !value.isAbsentAt(clockMillis))
        .<ReadResult>map(value -> new ReadResult.Found(key, value))
        .orElse(new ReadResult.NotFound(key));
  }

  private boolean holdsNewest(Optional<Record> record) {
    return holdsNewest(Record.versionOf(record), Record.digestOf(record));
  }

  private boolean holdsNewestOrNewer(Optional<Record> record) {
    return holdsNewestOrNewer(Record.versionOf(record), Record.digestOf(record));
  }

  /** A holder: exactly the newest record; after the reply, a newer one too (nobody waits on holders then). */
  private boolean holdsNewestOrNewer(Version version, long digest) {
    return holdsNewest(version, digest) || isNewer(version) && replied;
  }

  /** A newer record before the reply: read again. */
  private boolean mustStartOver(Version version) {
    return isNewer(version) && !replied;
  }

  /** Exactly the chosen record: its version and its digest (another digest at that version raises the alarm). */
  private boolean holdsNewest(Version version, long digest) {
    if (!version.equals(Record.versionOf(newest))) {
      return false;
    }
    if (digest != Record.digestOf(newest)) {
      stats.digestConflict(key, version, "read agreement");
      return false;
    }
    return true;
  }

  private boolean isNewer(Version version) {
    return version.isAfter(Record.versionOf(newest));
  }

  /**
   * The answer with the highest version. Of two at one version with different digests (an
   * alarm, see {@link ReplicaStats#digestConflict}), the higher digest wins so every
   * coordinator picks the same one.
   */
  private static Optional<Record> newest(Iterable<Optional<Record>> candidates) {
    Optional<Record> newest = Optional.empty();
    for (Optional<Record> candidate : candidates) {
      int order = Record.versionOf(candidate).compareTo(Record.versionOf(newest));
      if (order > 0 || (order == 0 && Record.digestOf(candidate) > Record.digestOf(newest))) {
        newest = candidate;
      }
    }
    return newest;
  }

  private boolean everyAskedAnswered() {
    for (String replica : asked) {
      if (!held.containsKey(replica) && !unreachable.contains(replica)) {
        return false;
      }
    }
    return true;
  }

  private void reply(ReadResult result, List<RoundEffect<ReadResult>> effects) {
    if (!replied) {
      replied = true;
      if (state != State.READING) {
        state = State.REPLIED;
      }
      effects.add(new Reply<>(result));
    }
  }

  private Stamp stamp() {
    return new Stamp(replicaId, clock.peek());
  }
}
