package io.quorumkv.security;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Tells a peer's certificate from a client's, once the TLS handshake has verified it against
 * the configured CAs (docs/operating.md, "TLS"). A peer certificate
 * <ul>
 *   <li>is valid now (checked on every request, so a resumed TLS session does not outlive its
 *       certificate; a replication stream is closed when its certificate expires);
 *   <li>carries the clientAuth extended key usage and names one of the configured peers
 *       ({@code PEER_*_HOST}) in its subject alternative names: the same DNS name (exactly; a
 *       wildcard names no peer) or the same IP address;
 *   <li>and, when {@code TLS_PEER_CA_FILE} is set, chains to that CA too.
 * </ul>
 * Any other verified certificate is a client's. Decided per request, never cached in the TLS
 * session: JSSE shares a session's values with the sessions resumed from it and does not
 * verify certificates again on resumption.
 */
public final class PeerCertificates {

  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  private static final int SAN_DNS = 2;
  private static final int SAN_IP = 7;

  private final Set<TrustAnchor> peerAuthorities;
  private final Set<String> peerNames;
  private final Set<InetAddress> peerAddresses;

  /**
   * @param peerAuthorities the {@code TLS_PEER_CA_FILE} certificates; empty: none beyond the names
   * @param peerHosts the {@code PEER_*_HOST} values as configured (names or address literals)
   */
  public PeerCertificates(List<X509Certificate> peerAuthorities, List<String> peerHosts) {
    this.peerAuthorities = peerAuthorities.stream().map(ca -> new TrustAnchor(ca, null)).collect(Collectors.toSet());
    this.peerNames = peerHosts.stream().filter(host -> !isAddressLiteral(host))
        .map(host -> host.toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
    this.peerAddresses = peerHosts.stream().filter(PeerCertificates::isAddressLiteral)
        .map(PeerCertificates::literal).collect(Collectors.toSet());
  }

  /** The caller of a connection: by its TLS session's verified certificates (none for plain TCP). */
  public CertificateCaller of(Optional<SSLSession> session, Instant now) {
    if (session.isEmpty()) {
      return CertificateCaller.NONE;
    }
    Certificate[] chain;
    try {
      chain = session.get().getPeerCertificates();
    } catch (SSLPeerUnverifiedException noCertificate) {
      return CertificateCaller.NONE; // wanted, not needed: a plain client
    }
    return classify(Arrays.stream(chain).map(X509Certificate.class::cast).toList(), now);
  }

  /** The verdict on a chain (leaf first) the handshake has verified. */
  public CertificateCaller classify(List<X509Certificate> chain, Instant now) {
    if (chain.isEmpty()) {
      return CertificateCaller.NONE;
    }
    X509Certificate leaf = chain.get(0);
    String subject = leaf.getSubjectX500Principal().getName();
    boolean peer = validAt(leaf, now) && namesAPeer(leaf)
        && (peerAuthorities.isEmpty() || chainsToPeerAuthority(chain, now));
    return new CertificateCaller(peer ? CertificateCaller.Kind.PEER : CertificateCaller.Kind.CLIENT, subject,
        leaf.getNotAfter().toInstant());
  }

  private static boolean validAt(X509Certificate certificate, Instant now) {
    return !now.isBefore(certificate.getNotBefore().toInstant()) && !now.isAfter(certificate.getNotAfter().toInstant());
  }

  private boolean chainsToPeerAuthority(List<X509Certificate> chain, Instant now) {
    try {
      PKIXParameters parameters = new PKIXParameters(peerAuthorities);
      parameters.setRevocationEnabled(false); // no CRL or OCSP: revoke by replacing the CA (docs)
      parameters.setDate(java.util.Date.from(now));
      // The path ends below the anchor: a chain that carries its root would not validate.
      List<X509Certificate> path = chain.stream()
          .filter(certificate -> peerAuthorities.stream().noneMatch(anchor -> anchor.getTrustedCert().equals(certificate)))
          .toList();
      CertPathValidator.getInstance("PKIX")
          .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), parameters);
      return true;
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }

  private boolean namesAPeer(X509Certificate leaf) {
    try {
      List<String> usages = leaf.getExtendedKeyUsage();
      if (usages == null || !usages.contains(CLIENT_AUTH)) {
        return false;
      }
      Collection<List<?>> names = leaf.getSubjectAlternativeNames();
      if (names == null) {
        return false;
      }
      for (List<?> name : names) {
        // Other kinds of name (otherName, x400Address, ediPartyName) come as encoded bytes: none
        // names a peer.
        if (!(name.get(0) instanceof Integer type) || !(name.get(1) instanceof String value)) {
          continue;
        }
        if (type == SAN_DNS && peerNames.contains(value.toLowerCase(Locale.ROOT))) {
          return true;
        }
        if (type == SAN_IP && isAddressLiteral(value) && peerAddresses.contains(literal(value))) {
          return true;
        }
      }
      return false;
    } catch (CertificateParsingException | IllegalArgumentException e) {
      return false; // a name that does not parse names no peer
    }
  }

  /** An IPv4 dotted quad or an IPv6 literal (with or without brackets): never looked up in DNS. */
  static boolean isAddressLiteral(String host) {
    return host.contains(":") || host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
  }

  private static InetAddress literal(String host) {
    try {
      String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
      return InetAddress.getByName(bare); // a literal: parsed, no lookup
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an address literal: " + host, e);
    }
  }
}
