package io.quorumkv.security;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLSession;

/**
 * Who may make internal and admin calls (docs/operating.md, "Network access" and "TLS"): by the
 * TCP connection's remote address (never a forwarding header, which the caller writes itself),
 * and with TLS, internal calls by a peer's certificate ({@link PeerCertificates}) as well: a
 * stolen replica key is of no use from elsewhere, and a peer's address of no use without the
 * key. The public API is open: the discovery contract reaches a replica on port 7000 from other
 * hosts with nothing configured. What is not:
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
  public enum Refusal {
    INTERNAL_NOT_A_PEER, INTERNAL_NOT_A_PEER_CERTIFICATE, ADMIN_NOT_LOOPBACK, NO_REMOTE_ADDRESS, FORWARDED_BY_A_PROXY
  }

  private final PeerAddressBook peers;
  private final List<Cidr> internalAllow;
  private final Optional<PeerCertificates> tls;

  /** The address rules alone (no TLS). */
  public NetworkAccess(PeerAddressBook peers, List<Cidr> internalAllow) {
    this(peers, internalAllow, Optional.empty());
  }

  /** @param tls present with TLS: internal calls need a peer's certificate too */
  public NetworkAccess(PeerAddressBook peers, List<Cidr> internalAllow, Optional<PeerCertificates> tls) {
    this.peers = peers;
    this.internalAllow = List.copyOf(internalAllow);
    this.tls = tls;
  }

  /** Who a connection's certificate says the caller is ({@link CertificateCaller#NONE} without TLS). */
  public CertificateCaller caller(Optional<SSLSession> session) {
    return tls.map(certificates -> certificates.of(session, java.time.Instant.now())).orElse(CertificateCaller.NONE);
  }

  /**
   * Empty when the caller may make internal calls; else why not.
   *
   * @param forwarded whether the request carries a forwarding header
   */
  public Optional<Refusal> internal(Optional<InetAddress> remote, boolean forwarded, CertificateCaller caller) {
    if (tls.isPresent() && !caller.isPeer()) {
      return Optional.of(Refusal.INTERNAL_NOT_A_PEER_CERTIFICATE);
    }
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

  /**
   * Empty when the caller may make admin calls (an admin token is checked after this when tokens
   * exist); else why not. Loopback only, with or without TLS: admin calls are rare and made on
   * the replica's host, and a leaked token or client certificate should not be enough to retire
   * a live peer from elsewhere.
   */
  public Optional<Refusal> admin(Optional<InetAddress> remote, boolean forwarded, CertificateCaller caller) {
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
