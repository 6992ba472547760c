package io.quorumkv.security;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

/**
 * Who may call what, by the TCP connection's remote address (never a forwarding header, which
 * the caller writes itself), when no certificates or tokens say more (docs/operating.md,
 * "Network access"). The public API is open: the discovery contract reaches a replica on port
 * 7000 from other hosts with nothing configured. What is not:
 * <ul>
 *   <li>internal calls and the replication stream: only from loopback, the configured peers'
 *       addresses (re-resolved as they change), and the {@code INTERNAL_ALLOW_CIDRS} ranges (for
 *       peers reaching each other through NAT);
 *   <li>admin calls: only from loopback.
 * </ul>
 * Without these rules anyone who reaches the port could inject records or retire a live peer.
 *
 * <p>A proxy on the replica's own host (a TLS terminator, a sidecar, an SSH tunnel) makes every
 * caller it forwards look like loopback; a request from loopback that carries a forwarding header
 * ({@code X-Forwarded-For}, {@code Forwarded}, {@code X-Real-IP}) is therefore taken as forwarded
 * and refused here (replicas and local tools never send one). Proxies should forward the public
 * API only.
 */
public final class NetworkAccess {

  /** Why a call was refused; a fixed set, so it can label a metric. */
  public enum Refusal { INTERNAL_NOT_A_PEER, ADMIN_NOT_LOOPBACK, NO_REMOTE_ADDRESS, FORWARDED_BY_A_PROXY }

  private final PeerAddressBook peers;
  private final List<Cidr> internalAllow;

  public NetworkAccess(PeerAddressBook peers, List<Cidr> internalAllow) {
    this.peers = peers;
    this.internalAllow = List.copyOf(internalAllow);
  }

  /**
   * Empty when {@code remote} may make internal calls; else why not.
   *
   * @param forwarded whether the request carries a forwarding header
   */
  public Optional<Refusal> internal(Optional<InetAddress> remote, boolean forwarded) {
    if (remote.isEmpty()) {
      return Optional.of(Refusal.NO_REMOTE_ADDRESS);
    }
    InetAddress address = remote.get();
    if (address.isLoopbackAddress()) {
      return forwarded ? Optional.of(Refusal.FORWARDED_BY_A_PROXY) : Optional.empty();
    }
    if (internalAllow.stream().anyMatch(range -> range.contains(address)) || peers.isPeer(address)) {
      return Optional.empty();
    }
    return Optional.of(Refusal.INTERNAL_NOT_A_PEER);
  }

  /** Empty when {@code remote} may make admin calls; else why not. */
  public Optional<Refusal> admin(Optional<InetAddress> remote, boolean forwarded) {
    if (remote.isEmpty()) {
      return Optional.of(Refusal.NO_REMOTE_ADDRESS);
    }
    if (!remote.get().isLoopbackAddress()) {
      return Optional.of(Refusal.ADMIN_NOT_LOOPBACK);
    }
    return forwarded ? Optional.of(Refusal.FORWARDED_BY_A_PROXY) : Optional.empty();
  }

  public PeerAddressBook peers() {
    return peers;
  }
}
