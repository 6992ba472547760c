package io.quorumkv.security;

import io.quorumkv.tls.KeyMaterial;
import io.quorumkv.tls.PemFiles;
import io.quorumkv.tls.TlsContexts;
import io.quorumkv.tls.TlsFileException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;

/**
 * A replica's TLS, read once at start from {@code TLS_CERT_FILE}, {@code TLS_KEY_FILE},
 * {@code TLS_CA_FILE} and {@code TLS_PEER_CA_FILE} (docs/operating.md, "TLS"):
 * <ul>
 *   <li>the server side: the port speaks TLS only (1.2: see {@link TlsContexts}), presenting the replica's
 *       certificate; it asks for a client certificate (wants, does not need: plain clients still
 *       connect) and the handshake refuses one the CAs did not sign or that is not valid now;
 *   <li>the peer side: calls to peers (HTTPS and the replication stream's WSS)
 *       present the replica's certificate and accept only a peer certificate signed by the peer
 *       CA (the CA file when no peer CA is set) that names the peer's configured host.
 * </ul>
 * Rotation is a rolling restart: the files are read at start only.
 */
public final class ReplicaTls {

  /**
   * How long a TLS session may be resumed: an hour, not the JDK's 24 (the routes check a peer
   * certificate's validity on every request regardless).
   */
  private static final int SESSION_SECONDS = 3600;

  private final KeyMaterial identity;
  private final SSLContext server;
  private final SSLContext peerClient;
  private final PeerCertificates certificates;

  private ReplicaTls(KeyMaterial identity, SSLContext server, SSLContext peerClient, PeerCertificates certificates) {
    this.identity = identity;
    this.server = server;
    this.peerClient = peerClient;
    this.certificates = certificates;
    server.getServerSessionContext().setSessionTimeout(SESSION_SECONDS);
    peerClient.getClientSessionContext().setSessionTimeout(SESSION_SECONDS);
  }

  /**
   * Empty when no certificate is configured (plain HTTP). Fails with a one-line reason naming the
   * file when one cannot be read, the key does not match the certificate, or the certificate is
   * not valid now.
   *
   * @param peerCaFile empty: peers' certificates chain to the CA file like clients'
   * @param peerHosts the {@code PEER_*_HOST} values as configured
   */
  public static Optional<ReplicaTls> load(
      String certFile, String keyFile, String caFile, String peerCaFile, List<String> peerHosts, Instant now) {
    if (certFile.isEmpty()) {
      return Optional.empty();
    }
    KeyMaterial identity = KeyMaterial.load(Path.of(certFile), Path.of(keyFile));
    X509Certificate leaf = identity.leaf();
    if (now.isAfter(leaf.getNotAfter().toInstant()) || now.isBefore(leaf.getNotBefore().toInstant())) {
      throw new TlsFileException(certFile + ": the certificate is valid from " + leaf.getNotBefore().toInstant()
          + " to " + leaf.getNotAfter().toInstant() + ", not now (" + now + "): peers and clients would refuse it");
    }
    List<X509Certificate> authorities = new ArrayList<>(PemFiles.certificates(Path.of(caFile)));
    List<X509Certificate> peerAuthorities = peerCaFile.isEmpty() ? List.of() : PemFiles.certificates(Path.of(peerCaFile));
    authorities.addAll(peerAuthorities);
    // Calls to peers trust the peer CA alone when there is one: a client's certificate (signed by
    // the other CA) for a peer's name must not pass for that peer.
    SSLContext peerClient = TlsContexts.create(Optional.of(identity),
        peerAuthorities.isEmpty() ? authorities : peerAuthorities);
    return Optional.of(new ReplicaTls(identity, TlsContexts.create(Optional.of(identity), authorities), peerClient,
        new PeerCertificates(peerAuthorities, peerHosts)));
  }

  /** A new server engine for one connection. */
  public SSLEngine serverEngine() {
    return TlsContexts.restrictToReplicaTls(TlsContexts.serverEngine(server, true));
  }

  /** The context of calls to peers (see the class comment). */
  public SSLContext peerClientContext() {
    return peerClient;
  }

  public PeerCertificates certificates() {
    return certificates;
  }

  /** This replica's own certificate (its expiry is exported as a metric). */
  public X509Certificate certificate() {
    return identity.leaf();
  }
}
