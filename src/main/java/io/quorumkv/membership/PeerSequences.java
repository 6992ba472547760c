package io.quorumkv.membership;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The storage sequence number each peer process reported in its own time calls, by replica id
 * and boot nonce, with when it was first and last heard (docs/identity.md, rule 1). A storage's
 * sequence number only grows, and what a process reports is durable (fsync = always), so a
 * process that starts below what an earlier process of its id reported runs on state that went
 * backwards: a restored backup or a copied directory. "Earlier" means it was last heard before
 * this one was first heard, and has been silent for {@link #STOPPED_MILLIS} since: a clone
 * running alongside (heard again after the new one, within a ping interval) is rule 2's, not
 * this one's. Until that silence has lasted long enough the answer is undecided, and the caller
 * takes it as no confirmation: a process restarted on a restored backup right after its
 * predecessor stopped is judged against it a moment later, before it serves, instead of never.
 * Only the process itself reports its number, so nothing another replica forwards can feed
 * this. Bounded: {@link #IDS_MAX} ids, {@link #NONCES_MAX} processes each. Thread-safe.
 */
public final class PeerSequences {

  static final int IDS_MAX = 64;
  static final int NONCES_MAX = 4;
  static final long STOPPED_MILLIS = 2_000;

  private record Heard(long sequence, long firstMillis, long lastMillis) {}

  /**
   * What a process is told of its id's earlier processes: the highest sequence they reported
   * (0 for none), and whether some other process might be earlier or might still run alongside,
   * which a few more seconds will tell.
   */
  public record Judgement(long previousSequence, boolean undecided) {}

  private final LongSupplier wallMillis;
  private final Map<Long, Map<Long, Heard>> byId = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Map<Long, Heard>> eldest) {
      return size() > IDS_MAX;
    }
  };
  private boolean dirty;

  /** Starts from what {@link #saveIfChanged} saved (empty for none). */
  public PeerSequences(byte[] saved, LongSupplier wallMillis) {
    this.wallMillis = wallMillis;
    ByteBuffer buffer = ByteBuffer.wrap(saved);
    while (buffer.remaining() >= 40) {
      nonces(buffer.getLong()).put(buffer.getLong(), new Heard(buffer.getLong(), buffer.getLong(), buffer.getLong()));
    }
  }

  public PeerSequences(byte[] saved) {
    this(saved, System::currentTimeMillis);
  }

  private Map<Long, Heard> nonces(long replicaId) {
    return byId.computeIfAbsent(replicaId, id -> new LinkedHashMap<>(4, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, Heard> eldest) {
        return size() > NONCES_MAX;
      }
    });
  }

  /** Process {@code nonce} of {@code replicaId} reported its storage at {@code sequence}. */
  public synchronized Judgement reported(long replicaId, long nonce, long sequence) {
    long now = wallMillis.getAsLong();
    Map<Long, Heard> nonces = nonces(replicaId);
    Heard known = nonces.get(nonce);
    Heard heard = known == null
        ? new Heard(sequence, now, now) : new Heard(Math.max(sequence, known.sequence()), known.firstMillis(), now);
    nonces.put(nonce, heard);
    dirty = true;
    long previous = 0L;
    boolean undecided = false;
    for (Map.Entry<Long, Heard> entry : nonces.entrySet()) {
      Heard other = entry.getValue();
      if (entry.getKey() == nonce || other.lastMillis() >= heard.firstMillis()) {
        continue; // this process itself, or one heard since: it runs alongside
      }
      if (other.lastMillis() + STOPPED_MILLIS < now) {
        previous = Math.max(previous, other.sequence());
      } else {
        undecided = true;
      }
    }
    return new Judgement(previous, undecided);
  }

  /** Hands the state to {@code save} if it changed since the last call. */
  public synchronized void saveIfChanged(Consumer<byte[]> save) {
    if (!dirty) {
      return;
    }
    int entries = byId.values().stream().mapToInt(Map::size).sum();
    ByteBuffer buffer = ByteBuffer.allocate(40 * entries);
    byId.forEach((id, nonces) -> nonces.forEach((nonce, heard) -> buffer.putLong(id).putLong(nonce)
        .putLong(heard.sequence()).putLong(heard.firstMillis()).putLong(heard.lastMillis())));
    save.accept(buffer.array());
    dirty = false;
  }
}
