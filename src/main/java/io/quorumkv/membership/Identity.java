package io.quorumkv.membership;

import io.quorumkv.version.Version;
import io.quorumkv.store.ReplicaProtocol.TimeCall;
import io.quorumkv.store.ReplicaProtocol.TimeReply;
import io.quorumkv.store.Incarnation;
import java.security.SecureRandom;
import java.util.List;
import io.quorumkv.labels.Labels;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * This replica's identity rules (docs/identity.md), run on the time calls every peer monitor
 * makes and every peer's time call this replica answers: what a call says about this replica,
 * what an answer says back, and what this replica concludes from an answer. Only calls from a
 * peer address count for anything. Thread-safe (its parts are).
 */
public final class Identity {

  /** What to do when a peer shows that this replica's state went backwards. */
  public interface WentBackwards {
    void stop(String reason);
  }

  private final long replicaId;
  private final long bootNonce = new SecureRandom().nextLong();
  private final long startSequence;
  private final java.util.function.LongSupplier sequence;
  private final Incarnation incarnation;
  private final KnownPeerIds knownPeerIds;
  private final PeerSequences sequences;
  private final DuplicateDetector duplicates;
  private final IdentityAlarm alarm;
  private final WentBackwards wentBackwards;
  private final io.quorumkv.logging.RateLimitedLog alarmLog = new io.quorumkv.logging.RateLimitedLog(
      org.slf4j.LoggerFactory.getLogger(Identity.class), java.time.Duration.ofSeconds(10));

  /**
   * @param startSequence the storage's sequence number when this process opened it: at or
   *     above every number an earlier process of this replica id reported, unless the state went
   *     backwards
   * @param sequence the storage's sequence number now
   */
  public Identity(
      long replicaId, long startSequence, java.util.function.LongSupplier sequence, Incarnation incarnation,
      KnownPeerIds knownPeerIds, PeerSequences sequences, DuplicateDetector duplicates, IdentityAlarm alarm,
      WentBackwards wentBackwards) {
    this.replicaId = replicaId;
    this.startSequence = startSequence;
    this.sequence = sequence;
    this.incarnation = incarnation;
    this.knownPeerIds = knownPeerIds;
    this.sequences = sequences;
    this.duplicates = duplicates;
    this.alarm = alarm;
    this.wentBackwards = wentBackwards;
  }

  public IdentityAlarm alarm() {
    return alarm;
  }

  /** The time call to {@code peer}: who this replica is and what it saw in the peer's place. */
  public TimeCall callFor(String peer) {
    return new TimeCall(replicaId, bootNonce, sequence.getAsLong(), label(incarnation.state()),
        List.copyOf(incarnation.peerNames()),
        knownPeerIds.snapshot().getOrDefault(peer, List.of()));
  }

  /** Answers a peer's time call; {@code fromPeer}: it came from a peer address. */
  public TimeReply answer(TimeCall call, boolean fromPeer, long wallMillis) {
    if (!fromPeer) {
      return new TimeReply(wallMillis, replicaId, label(incarnation.state()), List.of(), 0L, false);
    }
    boolean duplicated = duplicates.sighted(call.replicaId(), call.bootNonce());
    long previous = sequences.reported(call.replicaId(), call.bootNonce(), call.sequence());
    if (duplicated) {
      alarmLog.error("ALARM: two live processes answer under replica id {} (a cloned data directory?); both are told"
          + " to coordinate no write", Version.hex(call.replicaId()));
    }
    Optional<String> place = Incarnation.placeIn(incarnation.peerNames(), Set.copyOf(call.peerNames()));
    List<Long> idsThere = List.of();
    if (place.isPresent()) {
      idsThere = knownPeerIds.snapshot().getOrDefault(place.get(), List.of());
      Optional<Incarnation.State> state = parse(call.state());
      if (state.isPresent()) {
        incarnation.heardFrom(place.get(), new Incarnation.PeerView(state.get(), call.idsInYourPlace()));
      }
    }
    return new TimeReply(wallMillis, replicaId, label(incarnation.state()), idsThere, previous, duplicated);
  }

  /**
   * What {@code peer}'s answer says: judged before the clock fence counts the answer as a
   * confirmation, so a replica whose state went backwards stops before it serves anything.
   *
   * @return false when this replica is stopping: the answer must confirm nothing
   */
  public boolean answered(String peer, TimeReply reply) {
    if (reply.previousSequence() > startSequence) {
      wentBackwards.stop("peer " + peer + " heard an earlier process of this replica id report its storage at"
          + " sequence " + reply.previousSequence() + ", beyond the " + startSequence + " this process found: its state"
          + " went backwards (a restored or copied data directory)");
      return false;
    }
    if (reply.duplicateOfYou()) {
      alarm.duplicateReported();
    }
    parse(reply.state()).ifPresent(state ->
        incarnation.heardFrom(peer, new Incarnation.PeerView(state, reply.idsInYourPlace())));
    return true;
  }

  /** {@code /cluster}'s view. */
  public Map<String, Object> render() {
    Map<String, Object> body = new java.util.LinkedHashMap<>();
    body.put("alarm", alarm.reason().orElse(null));
    body.put("duplicatedIds", duplicates.duplicatedIds().stream().map(Version::hex).toList());
    return body;
  }

  private static String label(Incarnation.State state) {
    return Labels.of(state);
  }

  private static Optional<Incarnation.State> parse(String label) {
    return Labels.parse(Incarnation.State.class, label);
  }
}
