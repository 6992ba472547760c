package io.quorumkv.store;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bound on the StoreActor's queue: requests from client coordinators and peers are
 * admitted only while fewer than {@code countMax} of them, and fewer than {@code bytesMax}
 * bytes of them, wait to be served (applies until their batch is written). Beyond it the
 * request is answered unavailable at once: the caller gets a 503 (or its peer an unavailable
 * answer), never a queue that grows until the heap is gone, as a disk stall would otherwise
 * cause. An actor mailbox cannot be bounded this way (a bounded mailbox drops to dead letters,
 * and the sender waits for its timeout). Thread-safe: admitted by the routes' and coordinators'
 * threads, released by the StoreActor.
 */
public final class StoreAdmission {

  /** Bytes a request weighs beyond its key and value: the envelope, the answer, the actor. */
  static final long OVERHEAD_BYTES = 256;

  private final long countMax;
  private final long bytesMax;
  private final AtomicLong count = new AtomicLong();
  private final AtomicLong bytes = new AtomicLong();
  private final AtomicLong refusals = new AtomicLong();

  public StoreAdmission(long countMax, long bytesMax) {
    if (countMax < 1 || bytesMax < 1) {
      throw new IllegalArgumentException("the store queue bounds must be positive");
    }
    this.countMax = countMax;
    this.bytesMax = bytesMax;
  }

  /** What a request weighs against the byte bound. */
  public static long weightOf(ReplicaProtocol.StoreRequest request) {
    String key = request instanceof ReplicaProtocol.KeyRequest keyed ? keyed.key() : "";
    return weightOf(key, recordOf(request).filter(record -> !record.isTombstone())
        .map(record -> record.value().length()).orElse(0));
  }

  /** The record a request carries (an apply, an accept, a fast accept, a commit), if any. */
  public static java.util.Optional<Record> recordOf(ReplicaProtocol.StoreRequest request) {
    if (request instanceof ReplicaProtocol.Apply apply) {
      return java.util.Optional.of(apply.record());
    }
    if (request instanceof ReplicaProtocol.Accept accept) {
      return accept.record();
    }
    if (request instanceof ReplicaProtocol.FastAccept fast) {
      return java.util.Optional.of(fast.record());
    }
    if (request instanceof ReplicaProtocol.Commit commit) {
      return commit.record();
    }
    return java.util.Optional.empty();
  }

  /** What a request for {@code key} carrying {@code valueBytes} weighs (a Java string: 2 bytes a char, and more). */
  public static long weightOf(String key, int valueBytes) {
    return OVERHEAD_BYTES + 3L * key.length() + valueBytes;
  }

  /** Admits {@code weight} more, or refuses (and counts the refusal) when a bound would be passed. */
  public boolean tryAdmit(long weight) {
    if (count.incrementAndGet() > countMax || bytes.addAndGet(weight) > bytesMax) {
      count.decrementAndGet();
      bytes.addAndGet(-weight);
      refusals.incrementAndGet();
      return false;
    }
    return true;
  }

  /** The StoreActor is done with an admitted request of {@code weight}. */
  void release(long weight) {
    count.decrementAndGet();
    bytes.addAndGet(-weight);
  }

  public long queued() {
    return count.get();
  }

  public long queuedBytes() {
    return Math.max(0, bytes.get());
  }

  public long refusals() {
    return refusals.get();
  }

  public long bytesMax() {
    return bytesMax;
  }

  /** The answer to a request that was not admitted. */
  public ReplicaProtocol.Unavailable refusal() {
    return new ReplicaProtocol.Unavailable("overloaded: the store's queue is full (" + countMax
        + " requests or " + bytesMax + " bytes wait already)");
  }
}
