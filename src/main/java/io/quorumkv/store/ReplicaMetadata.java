package io.quorumkv.store;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Optional;

/**
 * The replica's identity and clock mark, kept by the storage so they survive restarts: a random
 * 64-bit replica id created with the data directory and never reused (in the metadata), and the
 * durable clock mark no version may reach without a new mark ({@link Storage#putClockMark}).
 */
public final class ReplicaMetadata {

  static final String REPLICA_ID = "replica-id";
  static final String UNPROVEN = "incarnation-unproven";
  static final String STOPPED_CLEANLY = "stopped-cleanly";
  static final String PEER_ID_PREFIX = "peer-id/";
  static final String RETIRED_PREFIX = "retired/";
  static final String PEER_SEQUENCES = "peer-sequences";
  static final String DISCARD_RECORDS = "discard-records";
  static final String RECOVERED_CLUSTER = "recovered-cluster";

  private ReplicaMetadata() {}

  /** The replica id held in {@code storage}, created (and stored durably) on first use. */
  public static long replicaId(Storage storage) {
    Optional<byte[]> stored = storage.getMeta(REPLICA_ID);
    if (stored.isPresent()) {
      return decode(stored.get(), REPLICA_ID);
    }
    return newIncarnation(storage);
  }

  /**
   * Starts a new incarnation: a new random replica id, and the data marked unproven until the
   * peers vouch for it or it has pulled everything from them (see {@link Incarnation}).
   */
  public static long newIncarnation(Storage storage) {
    storage.putMeta(UNPROVEN, new byte[] {1});
    long id = new SecureRandom().nextLong();
    storage.putMeta(REPLICA_ID, encode(id));
    return id;
  }

  /**
   * A new random replica id for this data directory, its incarnation state unchanged: for a
   * replica whose data are intact but whose clock mark cannot be adopted
   * (docs/clock-discipline.md, rule 2). Versions are unique by (hlc, replica id), so a fresh
   * clock under a fresh id can never issue a version issued before.
   */
  public static long newReplicaId(Storage storage) {
    long id = new SecureRandom().nextLong();
    storage.putMeta(REPLICA_ID, encode(id));
    return id;
  }

  /**
   * This data directory's state went backwards (docs/identity.md, rule 1): a new incarnation
   * (new replica id, unproven) whose start first discards the old records. Durable before the
   * replica stops, so the next start cannot serve the old state under either id.
   */
  public static void markStateWentBackwards(Storage storage) {
    storage.putMeta(DISCARD_RECORDS, new byte[] {1});
    newIncarnation(storage);
  }

  /** Whether the records are to be discarded at this start (see {@link #markStateWentBackwards}). */
  public static boolean discardRequested(Storage storage) {
    return storage.getMeta(DISCARD_RECORDS).filter(bytes -> bytes.length == 1 && bytes[0] == 1).isPresent();
  }

  public static void discardDone(Storage storage) {
    storage.putMeta(DISCARD_RECORDS, new byte[] {0});
  }

  /**
   * Forgets what this data directory knew of its peers (which are retired, the ids and storage
   * sequences heard from them), as a fresh directory knows nothing: a restored snapshot's
   * knowledge is stale, and a stale "retired" would let tombstones settle without a peer that
   * has since come back.
   */
  public static void forgetPeers(Storage storage, Iterable<String> peerNames) {
    for (String name : peerNames) {
      saveRetired(storage, name, false);
      saveKnownPeerIds(storage, name, java.util.List.of());
    }
    savePeerSequences(storage, new byte[0]);
  }

  /**
   * Marks a data directory made by disaster recovery (DisasterRecovery): it may only join a
   * brand-new cluster of such directories. Keeping its records is safe there, and only there.
   */
  public static void markRecoveredCluster(Storage storage) {
    storage.putMeta(RECOVERED_CLUSTER, new byte[] {1});
  }

  public static boolean isRecoveredCluster(Storage storage) {
    return storage.getMeta(RECOVERED_CLUSTER).filter(bytes -> bytes.length == 1 && bytes[0] == 1).isPresent();
  }

  /** Once it is ready, a recovered replica is an ordinary one. */
  public static void clearRecoveredCluster(Storage storage) {
    storage.putMeta(RECOVERED_CLUSTER, new byte[] {0});
  }

  /** What {@code PeerSequences} saved; empty when nothing was. */
  public static byte[] peerSequences(Storage storage) {
    return storage.getMeta(PEER_SEQUENCES).orElse(new byte[0]);
  }

  public static void savePeerSequences(Storage storage, byte[] saved) {
    storage.putMeta(PEER_SEQUENCES, saved);
  }

  /** Where this data directory stands (see {@link Incarnation}); READY unless told otherwise. */
  public static Incarnation.State incarnationState(Storage storage) {
    byte state = storage.getMeta(UNPROVEN).filter(bytes -> bytes.length == 1).map(bytes -> bytes[0]).orElse((byte) 0);
    return switch (state) {
      case 1 -> Incarnation.State.UNPROVEN;
      case 2 -> Incarnation.State.REBUILDING;
      default -> Incarnation.State.READY;
    };
  }

  /** Persists a change of the incarnation state, so a restart resumes it (never skips a rebuild). */
  public static void saveIncarnationState(Storage storage, Incarnation.State state) {
    byte value = switch (state) {
      case UNPROVEN -> 1;
      case REBUILDING -> 2;
      case READY -> 0;
    };
    storage.putMeta(UNPROVEN, new byte[] {value});
  }

  /**
   * Records that the replica is running; returns whether its previous run stopped cleanly
   * (true for a new data directory).
   */
  public static boolean markRunning(Storage storage) {
    boolean clean = storage.getMeta(STOPPED_CLEANLY).map(bytes -> bytes.length == 1 && bytes[0] == 1).orElse(true);
    storage.putMeta(STOPPED_CLEANLY, new byte[] {0});
    return clean;
  }

  /** Called after everything was synced, just before the storage closes. */
  public static void markStoppedCleanly(Storage storage) {
    storage.putMeta(STOPPED_CLEANLY, new byte[] {1});
  }

  /** Every replica id seen for each peer name, oldest first (empty when never seen). */
  public static Map<String, java.util.List<Long>> knownPeerIds(Storage storage, Iterable<String> peerNames) {
    Map<String, java.util.List<Long>> known = new java.util.HashMap<>();
    for (String name : peerNames) {
      java.util.List<Long> ids = new java.util.ArrayList<>();
      storage.getMeta(PEER_ID_PREFIX + name).ifPresent(bytes -> {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.remaining() >= Long.BYTES) {
          ids.add(buffer.getLong());
        }
      });
      known.put(name, java.util.List.copyOf(ids));
    }
    return known;
  }

  /** The peers among {@code peerNames} an operator retired. */
  public static java.util.Set<String> retiredPeers(Storage storage, Iterable<String> peerNames) {
    java.util.Set<String> retired = new java.util.HashSet<>();
    for (String name : peerNames) {
      if (storage.getMeta(RETIRED_PREFIX + name).map(bytes -> bytes.length == 1 && bytes[0] == 1).orElse(false)) {
        retired.add(name);
      }
    }
    return retired;
  }

  public static void saveRetired(Storage storage, String peerName, boolean retired) {
    storage.putMeta(RETIRED_PREFIX + peerName, new byte[] {(byte) (retired ? 1 : 0)});
  }

  public static void saveKnownPeerIds(Storage storage, String peerName, java.util.List<Long> replicaIds) {
    ByteBuffer buffer = ByteBuffer.allocate(Long.BYTES * replicaIds.size());
    replicaIds.forEach(buffer::putLong);
    storage.putMeta(PEER_ID_PREFIX + peerName, buffer.array());
  }

  /** The last durable clock mark, 0 for a new data directory. */
  public static long clockMark(Storage storage) {
    return storage.clockMark();
  }

  public static void saveClockMark(Storage storage, long mark) {
    storage.putClockMark(mark);
  }

  private static byte[] encode(long value) {
    return ByteBuffer.allocate(Long.BYTES).putLong(value).array();
  }

  private static long decode(byte[] bytes, String name) {
    if (bytes.length != Long.BYTES) {
      throw new StorageUnusableException("metadata " + name + " is corrupt", null);
    }
    return ByteBuffer.wrap(bytes).getLong();
  }
}
