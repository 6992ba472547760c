package io.quorumkv.security;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The addresses the configured peers' host names resolve to, kept current. Peers start in any
 * order, their DNS names may appear late, and a restarted pod comes back at a new address, so a
 * resolution made once at start would lock a peer out. The book is refreshed periodically and,
 * at most once per {@code minInterval}, when a connection from an unknown address asks; lookups
 * run on {@code executor}, never on the caller's thread (a slow DNS server must not stall
 * request handling). A call from a peer's new address is refused until the refresh completes,
 * and the peer's retry succeeds.
 */
public final class PeerAddressBook {

  private static final Logger log = LoggerFactory.getLogger(PeerAddressBook.class);

  /** Resolves a host name to its addresses (the JDK's resolver in production). */
  @FunctionalInterface
  public interface Resolver {
    List<InetAddress> resolve(String host) throws UnknownHostException;
  }

  private final List<String> hosts;
  private final Resolver resolver;
  private final Executor executor;
  private final LongSupplier nanoTime;
  private final long minIntervalNanos;
  private final AtomicLong lastRefresh;
  private final AtomicBoolean refreshing = new AtomicBoolean();
  private volatile Set<InetAddress> known = Set.of();
  /** The last addresses each host resolved to: a failed lookup keeps them (a DNS outage must not lock peers out). */
  private final java.util.Map<String, List<InetAddress>> lastGood = new java.util.HashMap<>(); // guarded by this

  public PeerAddressBook(
      List<String> hosts, Resolver resolver, Executor executor, LongSupplier nanoTime, java.time.Duration minInterval) {
    this.hosts = List.copyOf(hosts);
    this.resolver = resolver;
    this.executor = executor;
    this.nanoTime = nanoTime;
    this.minIntervalNanos = minInterval.toNanos();
    this.lastRefresh = new AtomicLong(nanoTime.getAsLong() - minIntervalNanos);
  }

  /** The JDK's resolver, lookups on {@code executor}, at most one miss-driven refresh per second. */
  public static PeerAddressBook of(List<String> hosts, Executor executor) {
    return new PeerAddressBook(hosts, host -> List.of(InetAddress.getAllByName(host)), executor, System::nanoTime,
        java.time.Duration.ofSeconds(1));
  }

  /** Whether {@code address} is one the peers resolved to, as known now (no refresh). */
  public boolean knows(InetAddress address) {
    return known.contains(address);
  }

  /** Whether {@code address} is one the peers resolved to; a miss asks for a refresh. */
  public boolean isPeer(InetAddress address) {
    if (known.contains(address)) {
      return true;
    }
    refreshSoon();
    return false;
  }

  public Set<InetAddress> addresses() {
    return known;
  }

  /** Starts a refresh unless one runs or the last started less than the minimum interval ago. */
  public void refreshSoon() {
    long now = nanoTime.getAsLong();
    long last = lastRefresh.get();
    if (now - last < minIntervalNanos || !lastRefresh.compareAndSet(last, now)) {
      return;
    }
    if (refreshing.compareAndSet(false, true)) {
      try {
        executor.execute(this::refreshNow);
      } catch (RuntimeException rejected) {
        refreshing.set(false);
      }
    }
  }

  /**
   * Resolves every peer host now, on the calling thread (refreshes never overlap, so an older
   * lookup cannot overwrite a newer one). A host that does not resolve keeps the addresses it
   * last resolved to, if any: a failed lookup (a DNS restart) says nothing about a peer's address.
   */
  public synchronized void refreshNow() {
    try {
      Set<InetAddress> resolved = new HashSet<>();
      for (String host : hosts) {
        try {
          lastGood.put(host, List.copyOf(resolver.resolve(host)));
        } catch (UnknownHostException e) {
          log.debug("Peer host {} does not resolve now; keeping its last addresses {}", host, lastGood.get(host));
        }
        resolved.addAll(lastGood.getOrDefault(host, List.of()));
      }
      Set<InetAddress> before = known;
      known = Set.copyOf(resolved);
      if (!resolved.equals(before)) {
        log.info("Peer addresses now {}", resolved.stream().map(InetAddress::getHostAddress).sorted().toList());
      }
    } finally {
      refreshing.set(false);
    }
  }
}
