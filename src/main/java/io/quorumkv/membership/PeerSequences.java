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
 * backwards: a restored backup or a copied directory. "Earlier" means it had stopped calling
 * {@link #STOPPED_MILLIS} before this one was first heard: a clone running alongside is rule
 * 2's, not this one's. Only the process itself reports its number, so nothing another replica
 * forwards can feed this. Bounded: {@link #IDS_MAX} ids, {@link #NONCES_MAX} processes each.
 * Thread-safe.
 */
public final class PeerSequences {

  static final int IDS_MAX = 64;
  static final int NONCES_MAX = 4;
  /** How long a process must have been silent before another is first heard to count as earlier. */
  public static final long STOPPED_MILLIS = 2_000;

  private record Heard(long sequence, long firstMillis, long lastMillis) {}

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

  /**
   * Process {@code nonce} of {@code replicaId} reported its storage at {@code sequence}; returns
   * the highest number an earlier process of that id reported (0 for none).
   */
  public synchronized long reported(long replicaId, long nonce, long sequence) {
    long now = wallMillis.getAsLong();
    Map<Long, Heard> nonces = nonces(replicaId);
    Heard known = nonces.get(nonce);
    Heard heard = known == null
        ? new Heard(sequence, now, now) : new Heard(Math.max(sequence, known.sequence()), known.firstMillis(), now);
    nonces.put(nonce, heard);
    dirty = true;
    long previous = 0L;
    for (Map.Entry<Long, Heard> entry : nonces.entrySet()) {
      if (entry.getKey() != nonce && entry.getValue().lastMillis() + STOPPED_MILLIS < heard.firstMillis()) {
        previous = Math.max(previous, entry.getValue().sequence());
      }
    }
    return previous;
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
