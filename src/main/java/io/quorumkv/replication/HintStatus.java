package io.quorumkv.replication;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Hinted-handoff counters for one peer, for {@code GET /cluster}. Written by the HintedHandoff
 * actor, read by the routes.
 */
public final class HintStatus {

  private final AtomicLong pending = new AtomicLong();
  private final AtomicLong pendingBytes = new AtomicLong();
  private final AtomicLong replayed = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong expired = new AtomicLong();

  /** A hint was stored; {@code refreshed} when it replaced one for the same key. */
  void stored(long keyBytes, boolean refreshed) {
    if (!refreshed) {
      pending.incrementAndGet();
      pendingBytes.addAndGet(keyBytes);
    }
  }

  void removed(long keyBytes) {
    pending.decrementAndGet();
    pendingBytes.addAndGet(-keyBytes);
  }

  void replayed() {
    replayed.incrementAndGet();
  }

  void dropped() {
    dropped.incrementAndGet();
  }

  void expired() {
    expired.incrementAndGet();
  }

  public long pending() {
    return pending.get();
  }

  long pendingBytes() {
    return pendingBytes.get();
  }

  public Map<String, Object> render() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("pending", pending.get());
    body.put("replayed", replayed.get());
    body.put("dropped", dropped.get());
    body.put("expired", expired.get());
    return body;
  }
}
