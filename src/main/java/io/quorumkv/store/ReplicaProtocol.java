package io.quorumkv.store;

import akka.actor.typed.ActorRef;
import io.quorumkv.version.Version;
import java.util.Optional;

/**
 * The one protocol coordinators use to reach a replica, local ({@link StoreActor}) or remote
 * ({@code RemoteReplica}, which carries it over HTTP). In protocol tests a TestProbe plays the
 * replica.
 *
 * <p>Every message carries a {@link Stamp}: the sender's replica id and clock, so each
 * replica's hybrid logical clock moves past every clock it hears from (DESIGN.md section 5).
 */
public final class ReplicaProtocol {

  private ReplicaProtocol() {}

  /** Who sent a message and its clock reading at sending. */
  public record Stamp(long replicaId, long clock) {}

  /** A request to one replica (also the public part of the StoreActor's protocol). */
  public sealed interface Request extends StoreActor.Command permits ReadVersion, Read, Apply {
    String key();

    Stamp stamp();

    ActorRef<Answer> replyTo();
  }

  /** Asks which version the replica holds for a key (the first phase of a write). */
  public record ReadVersion(String key, Stamp stamp, ActorRef<Answer> replyTo) implements Request {}

  /** Asks for the record the replica holds for a key. */
  public record Read(String key, Stamp stamp, ActorRef<Answer> replyTo) implements Request {}

  /**
   * Stores a record if it is newer than the one the replica holds (idempotent, commutative).
   * {@code cause} says which mechanism sent it; it changes nothing in how it is applied, but it
   * travels with the request so traffic can be told apart (metrics, targeted fault injection).
   */
  public record Apply(String key, Record record, Stamp stamp, ActorRef<Answer> replyTo, Cause cause)
      implements Request {}

  /** Why a record is being applied. */
  public enum Cause {
    /** The second round of a client write. */
    WRITE("write"),
    /** A read's write-back or background repair of a replica that answered an older record. */
    REPAIR("repair"),
    /** Hinted handoff replaying a record to a replica that missed it. */
    HINT("hint"),
    /** Anti-entropy copying a record between two replicas. */
    ANTI_ENTROPY("anti-entropy");

    private final String label;

    Cause(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }

    /** The cause with this label; {@link #WRITE} for an unknown or missing one. */
    public static Cause parse(String label) {
      for (Cause cause : values()) {
        if (cause.label.equals(label)) {
          return cause;
        }
      }
      return WRITE;
    }
  }

  /**
   * A replica's answer. {@code replica} is the name under which the coordinator knows the
   * replica (its peer name, or the local node id), so the coordinator counts each replica once.
   */
  public sealed interface Answer permits VersionHeld, RecordHeld, Applied, Unavailable {
    String replica();
  }

  /** Answers {@link ReadVersion}: the version held ({@link Version#ZERO} when absent) and its digest. */
  public record VersionHeld(String replica, Stamp stamp, Version version, long digest)
      implements Answer {}

  /** Answers {@link Read}: the record held, tombstones included; empty when absent. */
  public record RecordHeld(String replica, Stamp stamp, Optional<Record> record) implements Answer {}

  /** Answers {@link Apply}: the version the replica durably holds now, and its digest. */
  public record Applied(String replica, Stamp stamp, Version version, long digest)
      implements Answer {}

  /** The replica could not be asked or did not answer in time: a failed answer. */
  public record Unavailable(String replica, String reason) implements Answer {}
}
