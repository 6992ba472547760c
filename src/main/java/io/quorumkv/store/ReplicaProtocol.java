package io.quorumkv.store;

import akka.actor.typed.ActorRef;
import io.quorumkv.version.Version;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Every replica-to-replica message, as one sealed family of records: what a coordinator, hinted
 * handoff, anti-entropy, the tombstone sweeper or the peer monitor asks a replica, and every
 * answer. The same records travel to the local {@link StoreActor} in a {@link Call} and to a peer
 * through the wire codec ({@code io.quorumkv.wire.WireCodec}), which encodes the family once and
 * decodes it on the peer into these records: a new message is a record here, its handler (in
 * {@link StoreCore}), and its sender, with nothing in the transport (docs/design.md, "Replica protocol").
 *
 * <p>The records validate themselves in their constructors, so a decoded peer message that breaks
 * a rule is malformed (a 400) before anything reads it. They hold no actor references: the
 * {@link Call} envelope carries who waits for the answer and which round asked.
 */
public final class ReplicaProtocol {

  private ReplicaProtocol() {}

  /** Who sent a message and its clock reading at sending. */
  public record Stamp(long replicaId, long clock) {
    public Stamp {
      if (clock < 0) {
        throw new IllegalArgumentException("a clock reading is never negative");
      }
    }
  }

  /**
   * How a message travels to a peer: {@code FOREGROUND} on the replication stream (a client waits
   * for it), {@code BACKGROUND} over plain HTTP, so it never queues ahead of client requests on the
   * stream's one connection, and a proxy can see its cause.
   */
  public enum Lane { FOREGROUND, BACKGROUND }

  /**
   * Why a message is sent. It changes nothing in how the message is answered; it picks the lane
   * and travels with the message (the {@code cause} query parameter over HTTP), so metrics and
   * targeted fault injection can tell traffic apart.
   */
  public enum Cause {
    /** A client write: its version query and its apply round. */
    WRITE(Lane.FOREGROUND),
    /** A client read's first round. */
    READ(Lane.FOREGROUND),
    /** A read's write-back of the newest record to W replicas: the client waits for it. */
    WRITE_BACK(Lane.FOREGROUND),
    /** A read repairing a replica that answered an older record after the read was decided. */
    REPAIR(Lane.BACKGROUND),
    /** Hinted handoff replaying a record to a replica that missed it. */
    HINT(Lane.BACKGROUND),
    /** Anti-entropy comparing and copying records between two replicas. */
    ANTI_ENTROPY(Lane.BACKGROUND),
    /** The tombstone sweeper asking whether every replica holds a tombstone, and settling it. */
    SWEEP(Lane.BACKGROUND),
    /** The peer monitor's pings and clock and identity exchange. */
    MEMBERSHIP(Lane.BACKGROUND),
    /** A client's conditional write: its prepare, accept and commit (docs/conditional-writes.md). */
    CONDITIONAL_WRITE(Lane.FOREGROUND),
    /** A Paxos round nobody waits for: settling a proposal left behind, or a key whose copies were fenced. */
    SETTLE(Lane.BACKGROUND),
    /** A client's listing: the pages of the replicas (docs/listing-watch-ttl.md). */
    LIST(Lane.FOREGROUND);

    private final Lane lane;

    Cause(Lane lane) {
      this.lane = lane;
    }

    /** {@code write-back} and so on: as the {@code cause} query parameter and the metrics name it. */
    public String label() {
      return io.quorumkv.labels.Labels.of(this);
    }

    public Lane lane() {
      return lane;
    }
  }

  // ---------------------------------------------------------------- requests

  /** A message to a replica. */
  public sealed interface Request permits StoreRequest, MembershipRequest {
    Cause cause();

    /** Declared by the message (through its cause): where it travels. */
    default Lane lane() {
      return cause().lane();
    }
  }

  /**
   * A request the replica's {@link StoreCore} answers (driven by its {@link StoreActor}). {@link #clockReadings} are the readings the
   * receiver must admit before it acts (clock rule 1, docs/clock-discipline.md).
   */
  public sealed interface StoreRequest extends Request
      permits KeyRequest, GetBuckets, ListEntries, HoldsProposalsBefore, ListPage {
    Stamp stamp();

    default long[] clockReadings() {
      return new long[] {stamp().clock()};
    }
  }

  /** A store request about one key: the receiver checks the key as it checks a client's. */
  public sealed interface KeyRequest extends StoreRequest
      permits ReadVersion, Read, Apply, TombstoneRequest, PaxosRequest, CheckPaxos, ForgetPaxos {
    String key();
  }

  /**
   * A message of a Paxos round on one key (docs/conditional-writes.md): its ballot is a version,
   * a clock reading too, and every one is refused when older than max-message-age.
   */
  public sealed interface PaxosRequest extends KeyRequest permits Prepare, Accept, Commit, FastAccept {
    Version ballot();

    @Override
    default long[] clockReadings() {
      return new long[] {stamp().clock(), ballot().hlc()};
    }
  }

  /**
   * Promise {@code ballot}: granted only above the record, the promise, the accepted proposal and
   * the committed ballot held. Answered {@link Promised} once the promise is durable, else
   * {@link Preempted}.
   */
  public record Prepare(String key, Version ballot, Stamp stamp, Cause cause) implements PaxosRequest {
    public Prepare {
      requireKeyAndStamp(key, stamp);
      requireBallot(ballot);
      Objects.requireNonNull(cause, "cause");
    }
  }

  /**
   * Accept {@code record} under {@code ballot}; an empty {@code record} is the empty value a settle
   * proposes when it found the key absent. Answered {@link Accepted} once the proposal is durable,
   * else {@link Preempted}.
   */
  public record Accept(String key, Version ballot, Optional<Record> record, Stamp stamp, Cause cause)
      implements PaxosRequest {
    public Accept {
      requireKeyAndStamp(key, stamp);
      requireBallot(ballot);
      Objects.requireNonNull(cause, "cause");
      new Proposal(ballot, record, false); // the same rules: a record not newer than its ballot, or none
    }
  }

  /**
   * {@code record} was chosen under {@code ballot}: applied if newer (past the fences: it is
   * chosen), the committed ballot raised, a proposal at or below it dropped. An empty
   * {@code record} (the empty value was chosen) applies nothing. Answered {@link Applied}.
   */
  public record Commit(String key, Version ballot, Optional<Record> record, Stamp stamp, Cause cause)
      implements PaxosRequest {
    public Commit {
      requireKeyAndStamp(key, stamp);
      requireBallot(ballot);
      Objects.requireNonNull(cause, "cause");
      new Proposal(ballot, record, false);
    }

    @Override
    public long[] clockReadings() {
      return new long[] {stamp.clock(), ballot.hlc(), Record.versionOf(record).hlc()};
    }
  }

  /**
   * The fast round (docs/conditional-writes.md, revision 8): accept {@code record}, a conditional
   * write's new record at version {@code ballot}, as a fast proposal, without a prepare, if this
   * replica holds no proposal at all, {@code ballot} exceeds everything it holds, and the
   * condition holds on its record ({@code expected}: the version the client named, empty for
   * {@code If-None-Match: *}). Chosen only when every replica takes it. Answered {@link Accepted},
   * else {@link Preempted} (changing nothing, never a promise).
   */
  public record FastAccept(String key, Version ballot, Optional<Version> expected, Record record, Stamp stamp)
      implements PaxosRequest {
    public FastAccept {
      requireKeyAndStamp(key, stamp);
      requireBallot(ballot);
      Objects.requireNonNull(expected, "expected");
      new Proposal(ballot, Optional.of(record), true); // a new record at its ballot
    }

    /** Only a conditional write sends one. */
    @Override
    public Cause cause() {
      return Cause.CONDITIONAL_WRITE;
    }

    @Override
    public long[] clockReadings() {
      // The expected version is the client's word, never a clock reading: it is not admitted.
      return new long[] {stamp.clock(), ballot.hlc()};
    }
  }

  /** A tombstone sweeper's request about one tombstone: its version is a clock reading too. */
  public sealed interface TombstoneRequest extends KeyRequest permits CheckTombstone, SettleTombstone {
    Version version();

    @Override
    default Cause cause() {
      return Cause.SWEEP;
    }

    @Override
    default long[] clockReadings() {
      return new long[] {stamp().clock(), version().hlc()};
    }
  }

  /** A request the receiving replica's membership answers (never stamped: these lift the clock fence). */
  public sealed interface MembershipRequest extends Request permits Ping, TimeCall, Capabilities {
    @Override
    default Cause cause() {
      return Cause.MEMBERSHIP;
    }
  }

  /** Which version the replica holds for a key: a write's first round. Answered {@link VersionHeld}. */
  public record ReadVersion(String key, Stamp stamp) implements KeyRequest {
    public ReadVersion {
      requireKeyAndStamp(key, stamp);
    }

    @Override
    public Cause cause() {
      return Cause.WRITE;
    }
  }

  /** The record the replica holds for a key, tombstones included. Answered {@link RecordHeld}. */
  public record Read(String key, Stamp stamp, Cause cause) implements KeyRequest {
    public Read {
      requireKeyAndStamp(key, stamp);
      Objects.requireNonNull(cause, "cause");
    }
  }

  /**
   * Stores a record if it is newer than the one the replica holds (idempotent, commutative).
   * Answered {@link Applied} once the record is durable.
   */
  public record Apply(String key, Record record, Stamp stamp, Cause cause) implements KeyRequest {
    public Apply {
      requireKeyAndStamp(key, stamp);
      Objects.requireNonNull(record, "record");
      Objects.requireNonNull(cause, "cause");
    }

    @Override
    public long[] clockReadings() {
      return new long[] {stamp.clock(), record.version().hlc()};
    }
  }

  /** The anti-entropy bucket hashes. Answered {@link Buckets}. */
  public record GetBuckets(Stamp stamp) implements StoreRequest {
    public GetBuckets {
      Objects.requireNonNull(stamp, "stamp");
    }

    @Override
    public Cause cause() {
      return Cause.ANTI_ENTROPY;
    }
  }

  /**
   * {@code (key, version, digest)} of every record in {@code buckets}, at most {@code limit}.
   * Settled tombstones count as absence and are left out, unless {@code includeSettled}: a
   * rebuilding replica must learn of them, or an older value it still holds would outlive the
   * delete. Answered {@link Entries}.
   */
  public record ListEntries(List<Integer> buckets, int limit, boolean includeSettled, Stamp stamp)
      implements StoreRequest {
    public ListEntries {
      Objects.requireNonNull(stamp, "stamp");
      if (buckets == null || buckets.size() > BucketHashes.BUCKETS || limit < 1) {
        throw new IllegalArgumentException("an entries listing names at most every bucket and a positive limit");
      }
      for (Integer bucket : buckets) {
        if (bucket == null || bucket < 0 || bucket >= BucketHashes.BUCKETS) {
          throw new IllegalArgumentException("no bucket " + bucket);
        }
      }
      buckets = List.copyOf(buckets);
    }

    @Override
    public Cause cause() {
      return Cause.ANTI_ENTROPY;
    }
  }

  /**
   * Up to {@code limit} keys starting with {@code prefix}, from {@code start} on (inclusive), in
   * ascending order of their UTF-8 bytes, as this replica holds them, from one storage snapshot
   * (docs/listing-watch-ttl.md, "Listing"): every key with a record (tombstones included, settled
   * or not) or an accepted Paxos proposal, and every key whose record or Paxos state is
   * unreadable here (as unknown). With {@code values} each value comes too; only the local
   * replica is asked for values (a peer that asks is refused: the answer would not fit a stream
   * frame). Answered {@link Page}.
   */
  public record ListPage(String prefix, String start, int limit, boolean values, Stamp stamp) implements StoreRequest {
    /** Keys a page lists at most. */
    public static final int LIMIT_MAX = 1000;

    public ListPage {
      Objects.requireNonNull(prefix, "prefix");
      Objects.requireNonNull(start, "start");
      Objects.requireNonNull(stamp, "stamp");
      if (limit < 1 || limit > LIMIT_MAX) {
        throw new IllegalArgumentException("a page lists 1 to " + LIMIT_MAX + " keys");
      }
    }

    @Override
    public Cause cause() {
      return Cause.LIST;
    }
  }

  /** Whether the replica holds the tombstone of {@code key} at {@code version}. Answered {@link TombstoneHeld}. */
  public record CheckTombstone(String key, Version version, Stamp stamp) implements TombstoneRequest {
    public CheckTombstone {
      requireKeyAndStamp(key, stamp);
      requireTombstoneVersion(version);
    }
  }

  /**
   * Every replica was seen holding this tombstone: it counts as absence from now on. Answered
   * {@link TombstoneHeld}: whether it is settled here now.
   */
  public record SettleTombstone(String key, Version version, Stamp stamp) implements TombstoneRequest {
    public SettleTombstone {
      requireKeyAndStamp(key, stamp);
      requireTombstoneVersion(version);
    }
  }

  /**
   * Whether the replica holds an accepted proposal for {@code key} (a replica not ready says it
   * may: it cannot tell). The settle sweeper forgets a key's Paxos state only once every replica
   * said no (docs/conditional-writes.md, "Bounded state"). Answered {@link PaxosHeld}.
   */
  public record CheckPaxos(String key, Stamp stamp) implements KeyRequest {
    public CheckPaxos {
      requireKeyAndStamp(key, stamp);
    }

    @Override
    public Cause cause() {
      return Cause.SWEEP;
    }
  }

  /**
   * Every replica said it holds no proposal for {@code key}: drop its promise and committed ballot
   * if it still holds no proposal and both are older than the tombstone grace (no message that
   * carries a lower ballot, and no apply below them, can still arrive). Answered {@link PaxosHeld}:
   * whether it still holds Paxos state for the key.
   */
  public record ForgetPaxos(String key, Stamp stamp) implements KeyRequest {
    public ForgetPaxos {
      requireKeyAndStamp(key, stamp);
    }

    @Override
    public Cause cause() {
      return Cause.SWEEP;
    }
  }

  /**
   * Whether the replica holds any accepted proposal (of any key) under a ballot below
   * {@code ballotHlc}, or Paxos state it cannot read: a rebuilding peer becomes ready only once
   * every replica says no (docs/conditional-writes.md, "Replaced replicas"). Answered
   * {@link PaxosHeld}.
   */
  public record HoldsProposalsBefore(long ballotHlc, Stamp stamp) implements StoreRequest {
    public HoldsProposalsBefore {
      Objects.requireNonNull(stamp, "stamp");
      if (ballotHlc < 0) {
        throw new IllegalArgumentException("a ballot bound is never negative");
      }
    }

    @Override
    public Cause cause() {
      return Cause.ANTI_ENTROPY;
    }
  }

  /** Is the replica up, who is it, what is its clock. Answered {@link PingReply}. */
  public record Ping() implements MembershipRequest {}

  /**
   * Which record kinds and requests the replica's build supports, so a feature that peers of an
   * older build could not store is offered only once every peer has one (docs/operating.md,
   * "Upgrading"). An older build answers it 400, which counts as supporting nothing new.
   * Answered {@link CapabilitiesHeld}.
   */
  public record Capabilities() implements MembershipRequest {
    /**
     * Records with a TTL, and the promises reported beside them (docs/listing-watch-ttl.md,
     * "Expiring keys" and "Conditions on an expiring value", revision 8). The "2": unreleased
     * builds of 2026-12-07 stored TTL records without reporting those promises, and must not take
     * TTL writes beside this one.
     */
    public static final String TTL_RECORDS = "ttl-records-2";
    /** What this build supports. */
    public static final List<String> OF_THIS_BUILD = List.of(TTL_RECORDS);
  }

  /**
   * The clock and identity exchange: who calls (replica id, the nonce of its process, its
   * storage's sequence number, its incarnation state, its peer names, from which the receiver
   * finds the caller's place) and the replica ids the caller has seen in the receiver's place
   * (docs/identity.md). Answered {@link TimeReply}.
   */
  public record TimeCall(long replicaId, long bootNonce, long sequence, String state, List<String> peerNames,
      List<Long> idsInYourPlace) implements MembershipRequest {
    public TimeCall {
      if (state == null || peerNames == null || peerNames.size() > 64 || idsInYourPlace == null
          || idsInYourPlace.size() > 64) {
        throw new IllegalArgumentException("malformed time call");
      }
      peerNames = List.copyOf(peerNames); // throws on a null element
      idsInYourPlace = List.copyOf(idsInYourPlace);
    }
  }

  // ---------------------------------------------------------------- answers

  /** A replica's answer. */
  public sealed interface Answer
      permits Stamped, Unavailable, PingReply, TimeReply, CapabilitiesHeld {}

  /** An answer stamped by the replica that gives it: the asker's clock moves past it. */
  public sealed interface Stamped extends Answer
      permits VersionHeld, RecordHeld, Applied, Buckets, Entries, TombstoneHeld, RecordAndProposal, Promised,
      Preempted, Accepted, Fenced, PaxosHeld, Page {
    Stamp stamp();
  }

  /** Answers {@link ReadVersion}: the version held ({@link Version#ZERO} when absent) and its digest. */
  public record VersionHeld(Stamp stamp, Version version, long digest) implements Stamped {
    public VersionHeld {
      Objects.requireNonNull(stamp, "stamp");
      Objects.requireNonNull(version, "version");
    }
  }

  /** Answers {@link Read}: the record held, tombstones included; empty when absent. */
  /**
   * @param promise the key's promise here when it is above both its committed ballot and the
   *     record's version, reported only beside a value with a TTL: a conditional write on the
   *     value may be in flight, so a read that finds it expired settles before it answers absent
   *     (docs/listing-watch-ttl.md, "Conditions on an expiring value", revision 8). Left out of
   *     the wire when empty, so answers about keys without TTLs read as on the build before.
   */
  public record RecordHeld(Stamp stamp, Optional<Record> record, Optional<Version> promise) implements Stamped {
    public RecordHeld {
      Objects.requireNonNull(stamp, "stamp");
      record = record == null ? Optional.empty() : record;
      promise = promise == null ? Optional.empty() : promise;
    }

    public RecordHeld(Stamp stamp, Optional<Record> record) {
      this(stamp, record, Optional.empty());
    }
  }

  /**
   * Answers {@link Read} instead of {@link RecordHeld} when the replica holds an accepted proposal
   * for the key: the record it holds (as {@link RecordHeld}) and that proposal, which a read must
   * not serve before it is known to be chosen (docs/conditional-writes.md, "A plain read").
   */
  /** @param promise as {@link RecordHeld#promise}, beside a record or proposal with a TTL */
  public record RecordAndProposal(Stamp stamp, Optional<Record> record, Proposal proposal, Optional<Version> promise)
      implements Stamped {
    public RecordAndProposal {
      Objects.requireNonNull(stamp, "stamp");
      Objects.requireNonNull(proposal, "proposal");
      record = record == null ? Optional.empty() : record;
      promise = promise == null ? Optional.empty() : promise;
    }

    public RecordAndProposal(Stamp stamp, Optional<Record> record, Proposal proposal) {
      this(stamp, record, proposal, Optional.empty());
    }
  }

  /**
   * Answers {@link Prepare}: promised. The record held (settled tombstones included: Paxos counts
   * them by version), the committed ballot ({@link Version#ZERO}: none) and the accepted proposal.
   */
  public record Promised(Stamp stamp, Optional<Record> record, Version committed, Optional<Proposal> accepted)
      implements Stamped {
    public Promised {
      Objects.requireNonNull(stamp, "stamp");
      Objects.requireNonNull(committed, "committed");
      record = record == null ? Optional.empty() : record;
      accepted = accepted == null ? Optional.empty() : accepted;
    }
  }

  /** Answers {@link Prepare} or {@link Accept}: refused; {@code highest} is the ballot or version in the way. */
  public record Preempted(Stamp stamp, Version highest) implements Stamped {
    public Preempted {
      Objects.requireNonNull(stamp, "stamp");
      Objects.requireNonNull(highest, "highest");
    }
  }

  /** Answers {@link Accept}: the proposal at {@code ballot} is durable here. */
  public record Accepted(Stamp stamp, Version ballot) implements Stamped {
    public Accepted {
      Objects.requireNonNull(stamp, "stamp");
      requireBallot(ballot);
    }
  }

  /**
   * Answers {@link Apply}: refused, nothing changed, because the record lies below this replica's
   * promise (or, for a client write, its committed ballot) {@code fence}: a Paxos round that did
   * not see it is, or was, in progress (docs/conditional-writes.md, "The promise fence").
   */
  public record Fenced(Stamp stamp, Version fence) implements Stamped {
    public Fenced {
      Objects.requireNonNull(stamp, "stamp");
      requireBallot(fence);
    }
  }

  /** Answers {@link CheckPaxos} (holds a proposal) and {@link ForgetPaxos} (still holds Paxos state). */
  public record PaxosHeld(Stamp stamp, boolean holds) implements Stamped {
    public PaxosHeld {
      Objects.requireNonNull(stamp, "stamp");
    }
  }

  /** Answers {@link Apply}: the version the replica durably holds now, and its digest. */
  public record Applied(Stamp stamp, Version version, long digest) implements Stamped {
    public Applied {
      Objects.requireNonNull(stamp, "stamp");
      Objects.requireNonNull(version, "version");
    }
  }

  /** The replica could not answer, or (made by the sender's side) was not reached in time. */
  public record Unavailable(String reason) implements Answer {
    public Unavailable {
      Objects.requireNonNull(reason, "reason");
    }
  }

  /** Answers {@link GetBuckets}: 2 longs per bucket, see {@link BucketHashes#snapshot()}. */
  public record Buckets(Stamp stamp, long[] hashes) implements Stamped {
    public Buckets {
      Objects.requireNonNull(stamp, "stamp");
      if (hashes == null || hashes.length != BucketHashes.BUCKETS * 2) {
        throw new IllegalArgumentException("malformed bucket hashes");
      }
    }
  }

  /** One record as anti-entropy compares it. */
  public record Entry(String key, Version version, long digest) {
    public Entry {
      if (key == null || version == null || version.hlc() <= 0) {
        throw new IllegalArgumentException("malformed entry");
      }
    }
  }

  /**
   * One key of a {@link Page}: the version and digest of its record ({@link Version#ZERO} and the
   * tombstone digest when it has none), whether an accepted proposal is held for it, whether its
   * record or Paxos state is unreadable here ({@code unknown}: it may hold anything), its value
   * when the page was asked for values and the record is a value, and the record's TTL (0: none;
   * left out on the wire when 0, so pages without TTLs read the same on the build before them),
   * and whether the key's promise here lies above its committed ballot and record beside a value
   * with a TTL ({@code promised}, as {@link RecordHeld#promise}; left out when false): an expired
   * value is then read on its own, which settles first.
   */
  public record PageEntry(String key, Version version, long digest, boolean proposal, boolean unknown,
      Optional<Value> value, long ttlMillis, boolean promised) {
    public PageEntry {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(version, "version");
      value = value == null ? Optional.empty() : value;
      // As a record's TTL (a peer's page is untrusted input): none, or 1 s to 10 years, on a value.
      if (ttlMillis != 0 && (ttlMillis < Record.TTL_MIN_MILLIS || ttlMillis > Record.TTL_MAX_MILLIS
          || digest == Record.TOMBSTONE_DIGEST)) {
        throw new IllegalArgumentException("a page entry's ttl must be 0, or from 1 s to 10 years on a value");
      }
    }

    /** An entry of a record without TTL. */
    public PageEntry(String key, Version version, long digest, boolean proposal, boolean unknown, Optional<Value> value) {
      this(key, version, digest, proposal, unknown, value, 0L, false);
    }

    /** Whether this replica holds a record that is a tombstone, or none at all. */
    public boolean holdsNoValue() {
      return digest == Record.TOMBSTONE_DIGEST;
    }
  }

  /**
   * Answers {@link ListPage}: entries in key order; {@code end}, the last key covered when the page
   * stopped early (at its limit or its byte bound), empty when it reached the end of the prefix.
   */
  public record Page(Stamp stamp, List<PageEntry> entries, Optional<String> end) implements Stamped {
    public Page {
      Objects.requireNonNull(stamp, "stamp");
      entries = List.copyOf(Objects.requireNonNull(entries, "entries"));
      end = end == null ? Optional.empty() : end;
    }
  }

  /** Answers {@link ListEntries}: in key order; {@code truncated} when a limit cut them. */
  public record Entries(Stamp stamp, List<Entry> entries, boolean truncated) implements Stamped {
    public Entries {
      Objects.requireNonNull(stamp, "stamp");
      entries = List.copyOf(Objects.requireNonNull(entries, "entries"));
    }
  }

  /**
   * Answers {@link CheckTombstone}: this replica (ready, in its current incarnation) durably holds
   * that very tombstone, settled or not; answers {@link SettleTombstone}: it is settled here now.
   */
  public record TombstoneHeld(Stamp stamp, boolean holds) implements Stamped {
    public TombstoneHeld {
      Objects.requireNonNull(stamp, "stamp");
    }
  }

  /**
   * Answers {@link Ping}: who answers, its replica id and clock, and every replica id it has seen
   * for each of its peers (empty: never reached).
   */
  /** What a replica's build supports; see {@link Capabilities}. At most 64 names of at most 64 characters. */
  public record CapabilitiesHeld(List<String> capabilities) implements Answer {
    public CapabilitiesHeld {
      Objects.requireNonNull(capabilities, "capabilities");
      if (capabilities.size() > 64 || capabilities.stream().anyMatch(name -> name == null || name.length() > 64)) {
        throw new IllegalArgumentException("at most 64 capabilities of at most 64 characters");
      }
      capabilities = List.copyOf(capabilities);
    }
  }

  public record PingReply(String nodeId, long replicaId, long clock, Map<String, List<Long>> knownIds)
      implements Answer {
    public PingReply {
      if (nodeId == null || clock < 0 || knownIds == null || knownIds.size() > 64) {
        throw new IllegalArgumentException("malformed ping answer");
      }
      Map<String, List<Long>> copy = new java.util.LinkedHashMap<>();
      knownIds.forEach((peer, ids) -> copy.put(Objects.requireNonNull(peer), List.copyOf(ids)));
      knownIds = java.util.Collections.unmodifiableMap(copy);
    }
  }

  /**
   * Answers {@link TimeCall}: the answering replica's wall clock (not its hybrid clock), its
   * replica id and state, the ids it has seen in the caller's place, the highest storage sequence
   * number an earlier process of the caller's id reported, and whether another live process
   * answers under the caller's id.
   */
  public record TimeReply(long wallMillis, long replicaId, String state, List<Long> idsInYourPlace,
      long previousSequence, boolean duplicateOfYou) implements Answer {
    public TimeReply {
      if (state == null || idsInYourPlace == null) {
        throw new IllegalArgumentException("malformed time answer");
      }
      idsInYourPlace = List.copyOf(idsInYourPlace);
    }
  }

  // ---------------------------------------------------------------- envelope

  /**
   * A store request on its way to a replica (the local {@link StoreActor}, or a peer through its
   * {@code RemoteReplica}), with the round that asked and who waits for the {@link Reply}.
   *
   * @param round chosen by the asker and echoed in the reply, so an answer is never mistaken for
   *     another round's
   */
  public record Call(StoreRequest request, long round, ActorRef<Reply> replyTo) implements StoreActor.Command {
    public Call {
      Objects.requireNonNull(request, "request");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /**
   * The answer to a {@link Call}. {@code replica} is the name under which the asker knows the
   * replica (its peer name, or the local node id), so each replica counts once.
   */
  public record Reply(String replica, long round, Answer answer) {}

  private static void requireKeyAndStamp(String key, Stamp stamp) {
    if (key == null) {
      throw new IllegalArgumentException("the key is missing");
    }
    Objects.requireNonNull(stamp, "stamp");
  }

  private static void requireBallot(Version ballot) {
    if (ballot == null || ballot.hlc() <= 0) {
      throw new IllegalArgumentException("a ballot is a version above zero");
    }
  }

  private static void requireTombstoneVersion(Version version) {
    if (version == null || version.hlc() <= 0) {
      throw new IllegalArgumentException("a tombstone's version is above zero");
    }
  }
}
