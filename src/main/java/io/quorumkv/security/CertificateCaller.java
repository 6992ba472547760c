package io.quorumkv.security;

/**
 * What a connection's TLS session says about its caller: no verified client certificate, a
 * client certificate from the configured CA, or a peer's certificate ({@link PeerCertificates}).
 *
 * @param subject the certificate's subject, for logs ("no certificate" when there is none)
 * @param validUntil when the certificate expires ({@link java.time.Instant#MAX} when there is none)
 */
public record CertificateCaller(Kind kind, String subject, java.time.Instant validUntil) {

  public enum Kind { NONE, CLIENT, PEER }

  public static final CertificateCaller NONE =
      new CertificateCaller(Kind.NONE, "no certificate", java.time.Instant.MAX);

  public boolean isPeer() {
    return kind == Kind.PEER;
  }

  /** A certificate the TLS handshake verified against the configured CA, a peer's or a client's. */
  public boolean hasCertificate() {
    return kind != Kind.NONE;
  }
}
