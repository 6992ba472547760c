package io.quorumkv.logging;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * A log line that repeats at most once per interval, with the number of occurrences it stood
 * for: a peer or client that provokes a warning on every message must not be able to fill the
 * disk with logs. Thread-safe.
 */
public final class RateLimitedLog {

  private final Logger log;
  private final long intervalNanos;
  private final LongSupplier nanoTime;
  private final AtomicLong nextNanos;
  private final AtomicLong suppressed = new AtomicLong();

  public RateLimitedLog(Logger log, java.time.Duration interval) {
    this(log, interval, System::nanoTime);
  }

  RateLimitedLog(Logger log, java.time.Duration interval, LongSupplier nanoTime) {
    this.log = log;
    this.intervalNanos = interval.toNanos();
    this.nanoTime = nanoTime;
    this.nextNanos = new AtomicLong(nanoTime.getAsLong());
  }

  /** Logs {@code format} at WARN unless a line went out less than an interval ago. */
  public void warn(String format, Object... arguments) {
    write(false, format, arguments);
  }

  /** Logs {@code format} at ERROR unless a line went out less than an interval ago. */
  public void error(String format, Object... arguments) {
    write(true, format, arguments);
  }

  private void write(boolean error, String format, Object... arguments) {
    long now = nanoTime.getAsLong();
    long next = nextNanos.get();
    if (now - next < 0 || !nextNanos.compareAndSet(next, now + intervalNanos)) {
      suppressed.incrementAndGet();
      return;
    }
    long skipped = suppressed.getAndSet(0);
    String line = skipped == 0 ? format : format + " (" + skipped + " more like it since the last such line)";
    if (error) {
      log.error(line, arguments);
    } else {
      log.warn(line, arguments);
    }
  }
}
