package io.quorumkv.version;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Rule 3 of the clock discipline (docs/clock-discipline.md): this replica fences itself — it
 * coordinates nothing, answers its peers' calls with 503 (but for ping and time) and pauses its
 * background work — while its clock cannot be trusted:
 * <ul>
 *   <li>a strict majority of its peers have wall clocks measured off from its own by more than
 *       {@link #FENCE_FRACTION} of {@code max-clock-offset}, beyond the measurement's uncertainty;
 *   <li>or it has peers and none of them has confirmed its clock since it started (until the
 *       first measurement: a replica that boots with its clock far behind must not take an old
 *       message for a fresh one). A confirmation stays: a replica cut off from its peers later
 *       keeps serving what reaches it, and its first measurements after healing judge it;
 *   <li>or its hybrid clock runs further ahead of its own wall clock than the offset plus a mark
 *       step, which only a wall clock stepped back can cause.
 * </ul>
 * The fence sits well below the refusal threshold because readings propagate: two unfenced
 * replicas can be two fences apart, and a restart adds a mark step; 2 x 0.35 + 0.1 < 1.
 *
 * <p>Fed by the peer monitors (their {@code time} calls measure each peer's <em>wall</em> clock,
 * never its hybrid clock, which propagates); read by the coordinators and {@code /cluster}. A
 * measurement older than the freshness bound counts for nothing, so an unreachable peer neither
 * fences nor vouches. Thread-safe.
 */
public final class ClockFence {

  /** The fence, as a fraction of max-clock-offset: 0.35 + the mark step of 0.1 stays well below 1. */
  public static final double FENCE_FRACTION = 0.35;

  /** One measurement of a peer's wall clock against ours. */
  public record Measurement(long offsetMillis, long uncertaintyMillis, long atNanos) {}

  private final int peers;
  private final HybridLogicalClock clock;
  private final long fenceMillis;
  private final long freshNanos;
  private final LongSupplier nanoTime;
  private final Map<String, Measurement> measurements = new ConcurrentHashMap<>();
  private volatile boolean confirmed;
  private volatile String halted;

  /**
   * @param peers how many peers this replica has (N - 1)
   * @param fresh how long a measurement counts (a few ping intervals)
   */
  public ClockFence(int peers, HybridLogicalClock clock, Duration fresh, LongSupplier nanoTime) {
    this.peers = peers;
    this.clock = clock;
    this.fenceMillis = (long) (clock.maxOffsetMillis() * FENCE_FRACTION);
    this.freshNanos = fresh.toNanos();
    this.nanoTime = nanoTime;
  }

  public ClockFence(int peers, HybridLogicalClock clock, Duration fresh) {
    this(peers, clock, fresh, System::nanoTime);
  }

  /**
   * A measurement of {@code peer}'s wall clock: {@code peerWallMillis} as it answered, asked at
   * our wall time {@code sentWallMillis}, answered {@code roundTripMillis} later. The peer read
   * its clock somewhere in that window: the estimate is the middle, uncertain by half of it.
   */
  public void measured(String peer, long peerWallMillis, long sentWallMillis, long roundTripMillis) {
    long half = Math.max(0, roundTripMillis) / 2;
    measurements.put(peer, new Measurement(peerWallMillis - (sentWallMillis + half), half + 1, nanoTime.getAsLong()));
  }

  /** The peer could not be measured (unreachable, or a release without the time call). */
  public void unmeasured(String peer) {
    measurements.remove(peer);
  }

  /**
   * Holds the fence for good: the replica is stopping (its identity rules found its state went
   * backwards) and must serve nothing meanwhile.
   */
  public void halt(String reason) {
    halted = reason;
  }

  /** Why this replica is fenced, or empty while it may coordinate. */
  public Optional<String> reason() {
    if (halted != null) {
      return Optional.of(halted);
    }
    long lead = clock.aheadOfWallMillis(clock.peek());
    if (lead > clock.maxOffsetMillis() + HybridLogicalClock.millisOf(clock.markStep())) {
      return Optional.of("this replica's hybrid clock runs " + lead + " ms ahead of its wall clock (was the wall"
          + " clock set back?): it coordinates nothing until the wall clock has caught up");
    }
    if (peers == 0) {
      return Optional.empty();
    }
    Map<String, Long> off = new TreeMap<>();
    int agreeing = 0;
    long now = nanoTime.getAsLong();
    for (Map.Entry<String, Measurement> entry : measurements.entrySet()) {
      Measurement measurement = entry.getValue();
      if (now - measurement.atNanos() > freshNanos) {
        continue;
      }
      // Off only when provably off; agreeing otherwise, so a slow link to a correct peer still
      // confirms (a clock hours behind is never within a round trip of the fence).
      if (Math.abs(measurement.offsetMillis()) - measurement.uncertaintyMillis() > fenceMillis) {
        off.put(entry.getKey(), measurement.offsetMillis());
      } else {
        agreeing++;
      }
    }
    if (off.size() * 2 > peers) {
      return Optional.of("this replica's clock is off from its peers' by more than " + fenceMillis
          + " ms (" + off + " ms): it coordinates nothing until its clock agrees with theirs again");
    }
    if (agreeing > 0) {
      confirmed = true;
    }
    if (!confirmed) {
      return Optional.of("no peer has confirmed this replica's clock yet (within " + fenceMillis
          + " ms): it coordinates nothing until one has");
    }
    return Optional.empty();
  }

  /** Whether {@code peer}'s wall clock is freshly measured beyond the fence: its readings are not observed. */
  public boolean isOff(String peer) {
    Measurement measurement = measurements.get(peer);
    return measurement != null && nanoTime.getAsLong() - measurement.atNanos() <= freshNanos
        && Math.abs(measurement.offsetMillis()) - measurement.uncertaintyMillis() > fenceMillis;
  }

  public long fenceMillis() {
    return fenceMillis;
  }

  /** Fresh measurements by peer: how far its wall clock is ahead of ours (negative: behind). */
  public Map<String, Long> offsetsMillis() {
    Map<String, Long> offsets = new TreeMap<>();
    long now = nanoTime.getAsLong();
    measurements.forEach((peer, measurement) -> {
      if (now - measurement.atNanos() <= freshNanos) {
        offsets.put(peer, measurement.offsetMillis());
      }
    });
    return offsets;
  }

  /** {@code /cluster}'s view; {@code refusals} come from the clock. */
  public Map<String, Object> render() {
    Map<String, Object> body = new LinkedHashMap<>();
    Optional<String> reason = reason();
    body.put("status", reason.isPresent() ? "fenced" : "ok");
    body.put("reason", reason.orElse(null));
    body.put("maxClockOffsetMillis", clock.maxOffsetMillis());
    body.put("fenceMillis", fenceMillis);
    body.put("peerOffsetsMillis", offsetsMillis());
    body.put("refusals", clock.refusals());
    return body;
  }
}
