package io.quorumkv.version;

import java.util.concurrent.atomic.AtomicLong;
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
 * <p>Thread-safe: the store and every coordinator of a replica share one clock.
 */
public final class HybridLogicalClock {

  /** Bits of the logical counter. */
  public static final int COUNTER_BITS = 16;
  public static final long COUNTER_MAX = (1L << COUNTER_BITS) - 1;

  private final LongSupplier wallMillis;
  private final AtomicLong last;

  /**
   * @param wallMillis the physical clock; production passes {@code System::currentTimeMillis}
   *     (plus a configured test-only offset), tests a manual clock
   * @param floor a reading the clock must stay above (0 for a fresh replica)
   */
  public HybridLogicalClock(LongSupplier wallMillis, long floor) {
    this.wallMillis = wallMillis;
    this.last = new AtomicLong(floor);
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
  public long tick() {
    long physical = fromMillis(wallMillis.getAsLong());
    return last.updateAndGet(previous -> {
      checkRoom(previous);
      return Math.max(physical, previous + 1);
    });
  }

  /** The current reading without issuing a new one (for stamping messages). */
  public long peek() {
    return Math.max(last.get(), fromMillis(wallMillis.getAsLong()));
  }

  /** Moves the clock to at least {@code received}, a clock reading or version from elsewhere. */
  public void observe(long received) {
    if (received < 0) {
      throw new IllegalArgumentException("clock readings are never negative: " + received);
    }
    last.accumulateAndGet(received, Math::max);
  }

  private static void checkRoom(long previous) {
    if (previous == Long.MAX_VALUE) {
      // 2^47 ms is ~4,400 years past 1970: only a corrupt peer gets us here.
      throw new IllegalStateException("hybrid logical clock exhausted");
    }
  }
}
