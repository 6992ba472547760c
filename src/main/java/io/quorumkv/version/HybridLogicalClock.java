package io.quorumkv.version;

import java.util.function.LongSupplier;

/**
 * A hybrid logical clock in one 64-bit number: wall-clock milliseconds in the high 48 bits,
 * a logical counter in the low 16 (DESIGN.md section 5).
 *
 * <p>A tick is {@code max(wall << 16, last + 1)}: when the counter is full, {@code last + 1}
 * carries into the milliseconds, so the clock never wraps and never goes backwards, also
 * when the wall clock does. {@link #observe} moves it past every clock reading and version
 * this replica receives, which is what makes a write's version exceed every version its
 * query saw even when this replica's wall clock is behind.
 *
 * <p>A durable clock also never goes backwards across a crash: before its reading reaches the
 * durable mark it records a new mark ({@link #MARK_STEP} ahead) through its {@link MarkStore},
 * and a restarted replica starts at the last mark. That costs one synced metadata write per
 * {@link #MARK_STEP} of clock advance, taken on the calling thread (rare enough to accept).
 *
 * <p>Thread-safe: the store and every coordinator of a replica share one clock.
 */
public final class HybridLogicalClock {

  /** Bits of the logical counter. */
  public static final int COUNTER_BITS = 16;
  public static final long COUNTER_MAX = (1L << COUNTER_BITS) - 1;
  /** How far ahead of the reading a new durable mark is placed: 10 s of clock. */
  public static final long MARK_STEP = fromMillis(10_000L);

  /** Where a durable clock keeps its mark; {@link #persist} returns only once it is durable. */
  public interface MarkStore {
    void persist(long mark);
  }

  private final LongSupplier wallMillis;
  private final MarkStore markStore; // null: not durable
  private volatile long last;
  private long mark;

  private HybridLogicalClock(LongSupplier wallMillis, long floor, MarkStore markStore) {
    if (floor < 0) {
      throw new IllegalArgumentException("a clock floor is never negative: " + floor);
    }
    this.wallMillis = wallMillis;
    this.last = floor;
    this.mark = floor;
    this.markStore = markStore;
  }

  /**
   * A clock that forgets itself with the process (the memory engine, tests).
   *
   * @param wallMillis the physical clock; production passes {@code System::currentTimeMillis}
   *     (plus a configured test-only offset), tests a manual clock
   * @param floor a reading the clock must stay above (0 for a fresh replica)
   */
  public HybridLogicalClock(LongSupplier wallMillis, long floor) {
    this(wallMillis, floor, null);
  }

  /** A clock that starts above {@code mark} and records new marks in {@code markStore}. */
  public static HybridLogicalClock durable(LongSupplier wallMillis, long mark, MarkStore markStore) {
    return new HybridLogicalClock(wallMillis, mark, markStore);
  }

  public static HybridLogicalClock system() {
    return new HybridLogicalClock(System::currentTimeMillis, 0L);
  }

  public static long fromMillis(long millis) {
    return millis << COUNTER_BITS;
  }

  public static long millisOf(long hlc) {
    return hlc >>> COUNTER_BITS;
  }

  /** Issues a new reading, strictly above every reading issued or observed before. */
  public synchronized long tick() {
    long previous = last;
    if (previous == Long.MAX_VALUE) {
      // 2^47 ms is ~4,400 years past 1970: only a corrupt peer gets us here.
      throw new IllegalStateException("hybrid logical clock exhausted");
    }
    long next = Math.max(fromMillis(wallMillis.getAsLong()), previous + 1);
    advanceTo(next);
    return next;
  }

  /** The current reading without issuing a new one (for stamping messages). */
  public long peek() {
    return Math.max(last, fromMillis(wallMillis.getAsLong()));
  }

  /** Moves the clock to at least {@code received}, a clock reading or version from elsewhere. */
  public synchronized void observe(long received) {
    if (received < 0) {
      throw new IllegalArgumentException("clock readings are never negative: " + received);
    }
    if (received > last) {
      advanceTo(received);
    }
  }

  private void advanceTo(long reading) {
    if (markStore != null && reading >= mark) {
      long newMark = reading > Long.MAX_VALUE - MARK_STEP ? Long.MAX_VALUE : reading + MARK_STEP;
      markStore.persist(newMark);
      mark = newMark;
    }
    last = reading;
  }
}
