package io.quorumkv.version;

import io.quorumkv.logging.RateLimitedLog;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A hybrid logical clock in one 64-bit number: wall-clock milliseconds in the high 48 bits,
 * a logical counter in the low 16 (docs/design.md, "Versions").
 *
 * <p>A tick is {@code max(wall << 16, last + 1)}: when the counter is full, {@code last + 1}
 * carries into the milliseconds, so the clock never wraps and never goes backwards, also
 * when the wall clock does. {@link #admit} moves it past every clock reading and version
 * this replica receives, which is what makes a write's version exceed every version its
 * query saw even when this replica's wall clock is behind.
 *
 * <p>Bounded by {@code max-clock-offset} ({@code docs/clock-discipline.md}, rule 1): a reading
 * further ahead of this replica's wall clock than the offset is refused, never observed, and
 * counted by source. So no message can move the clock (and the versions it issues) further
 * ahead of real time than the offset, and its counter cannot be exhausted from outside.
 *
 * <p>A durable clock also never goes backwards across a crash: before its reading reaches the
 * durable mark it records a new mark ({@link #markStep()} ahead, a tenth of the offset, rule 2)
 * through its {@link MarkStore}, and a restarted replica starts at the last mark. That costs one
 * synced metadata write per mark step of clock advance, taken on the calling thread.
 *
 * <p>Thread-safe: the store and every coordinator of a replica share one clock.
 */
public final class HybridLogicalClock {

  private static final Logger LOG = LoggerFactory.getLogger(HybridLogicalClock.class);

  /** Bits of the logical counter. */
  public static final int COUNTER_BITS = 16;
  public static final long COUNTER_MAX = (1L << COUNTER_BITS) - 1;
  /** The default of {@code quorumkv.max-clock-offset}, for clocks built without settings (tests). */
  public static final Duration DEFAULT_MAX_OFFSET = Duration.ofSeconds(5);
  /** The source name of refusals of calls from outside (their senders are not trusted names). */
  public static final String INBOUND = "inbound";

  /** Where a durable clock keeps its mark; {@link #persist} returns only once it is durable. */
  public interface MarkStore {
    void persist(long mark);
  }

  private final LongSupplier wallMillis;
  private final long maxOffsetMillis;
  private final long markStep;
  private final MarkStore markStore; // null: not durable
  private final Map<String, AtomicLong> refusals = new ConcurrentHashMap<>();
  private final AtomicLong markFailures = new AtomicLong();
  private final RateLimitedLog refusalLog = new RateLimitedLog(LOG, Duration.ofSeconds(10));
  private volatile long last;
  private long mark;

  private HybridLogicalClock(LongSupplier wallMillis, long floor, MarkStore markStore, Duration maxOffset) {
    if (floor < 0) {
      throw new IllegalArgumentException("a clock floor is never negative: " + floor);
    }
    if (maxOffset.isNegative() || maxOffset.isZero()) {
      throw new IllegalArgumentException("the maximum clock offset must be positive");
    }
    this.wallMillis = wallMillis;
    this.maxOffsetMillis = maxOffset.toMillis();
    this.markStep = fromMillis(Math.max(1, maxOffsetMillis / 10));
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
   * @param maxOffset {@code max-clock-offset}: readings further ahead of the wall clock are refused
   */
  public HybridLogicalClock(LongSupplier wallMillis, long floor, Duration maxOffset) {
    this(wallMillis, floor, null, maxOffset);
  }

  /** A clock with the default maximum offset. */
  public HybridLogicalClock(LongSupplier wallMillis, long floor) {
    this(wallMillis, floor, null, DEFAULT_MAX_OFFSET);
  }

  /** A clock that starts above {@code mark} and records new marks in {@code markStore}. */
  public static HybridLogicalClock durable(
      LongSupplier wallMillis, long mark, MarkStore markStore, Duration maxOffset) {
    return new HybridLogicalClock(wallMillis, mark, markStore, maxOffset);
  }

  /** A durable clock with the default maximum offset. */
  public static HybridLogicalClock durable(LongSupplier wallMillis, long mark, MarkStore markStore) {
    return new HybridLogicalClock(wallMillis, mark, markStore, DEFAULT_MAX_OFFSET);
  }

  public static HybridLogicalClock system() {
    return new HybridLogicalClock(System::currentTimeMillis, 0L);
  }

  /**
   * Whether a durable mark found at start lies further ahead of the wall clock than the
   * offset plus a mark step: the clock once ran far ahead (or the wall clock is far behind),
   * and the mark must not be adopted (rule 2). A plain restart never gets here: the clock
   * admits nothing beyond the offset, and the mark is a step above the clock.
   */
  public static boolean markIsTooFarAhead(long mark, long wallMillis, Duration maxOffset) {
    return millisOf(mark) > wallMillis + maxOffset.toMillis() + Math.max(1, maxOffset.toMillis() / 10);
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
      // Unreachable through admit (bounded by the offset); a floor this high is corruption.
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

  /** The wall clock this clock follows, in milliseconds (the fence compares it with the peers'). */
  public long wallMillis() {
    return wallMillis.getAsLong();
  }

  public long maxOffsetMillis() {
    return maxOffsetMillis;
  }

  /** How far the durable mark is placed ahead of the reading that reaches it. */
  public long markStep() {
    return markStep;
  }

  /** How many milliseconds {@code reading} lies ahead of the wall clock (negative: behind). */
  public long aheadOfWallMillis(long reading) {
    return millisOf(reading) - wallMillis.getAsLong();
  }

  /** Whether {@code reading} (a clock reading or version from elsewhere) may be observed. */
  public boolean accepts(long reading) {
    return reading >= 0 && aheadOfWallMillis(reading) <= maxOffsetMillis;
  }

  /**
   * Checks every reading of one message from {@code source} and, when all are acceptable,
   * observes them; otherwise observes none, counts a refusal for {@code source} and logs it
   * (rate-limited). Callers treat a refused message as if it never came: a call is refused,
   * an answer counts as unavailable.
   *
   * @param source a name from a fixed set (a peer's configured name, {@link #INBOUND}, or
   *     the local node id): it becomes a metric label
   * @param detail what the message was, for the log line (never from a metric label)
   */
  public boolean admit(String source, String detail, long... readings) {
    return admit(source, () -> detail, readings);
  }

  /** As {@link #admit(String, String, long...)}, the detail built only for a refusal (hot paths). */
  public boolean admit(String source, java.util.function.Supplier<String> detail, long... readings) {
    for (long reading : readings) {
      if (!accepts(reading)) {
        refused(source, detail.get(), reading);
        return false;
      }
    }
    try {
      for (long reading : readings) {
        observe(reading);
      }
    } catch (RuntimeException e) {
      // The next mark could not be recorded (a full copy-on-write file system, an I/O error):
      // the clock stays below its last durable mark, and the message is refused like any other.
      markFailures.incrementAndGet();
      refusalLog.warn("Refused a message from {} ({}): the clock's next durable mark cannot be recorded: {}",
          source, detail.get(), e.getMessage());
      return false;
    }
    return true;
  }

  /** Messages refused because the clock's next mark could not be recorded. */
  public long markFailures() {
    return markFailures.get();
  }

  private void refused(String source, String detail, long reading) {
    refusals.computeIfAbsent(source, name -> new AtomicLong()).incrementAndGet();
    refusalLog.warn("Refused a clock reading from {} ({}): {} ms ahead of this replica's wall clock,"
        + " beyond max-clock-offset = {} ms", source, detail,
        reading < 0 ? "negative" : String.valueOf(aheadOfWallMillis(reading)), maxOffsetMillis);
  }

  /** Refusals so far by source. */
  public Map<String, Long> refusals() {
    Map<String, Long> counts = new java.util.TreeMap<>();
    refusals.forEach((source, count) -> counts.put(source, count.get()));
    return counts;
  }

  /**
   * Moves the clock to at least {@code received}, when it is acceptable; returns whether it
   * was. Prefer {@link #admit}, which counts and logs a refusal.
   */
  public synchronized boolean observe(long received) {
    if (received < 0) {
      throw new IllegalArgumentException("clock readings are never negative: " + received);
    }
    if (!accepts(received)) {
      return false;
    }
    if (received > last) {
      advanceTo(received);
    }
    return true;
  }

  private void advanceTo(long reading) {
    if (markStore != null && reading >= mark) {
      long newMark = reading > Long.MAX_VALUE - markStep ? Long.MAX_VALUE : reading + markStep;
      markStore.persist(newMark);
      mark = newMark;
    }
    last = reading;
  }
}
