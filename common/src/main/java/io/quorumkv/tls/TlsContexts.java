package io.quorumkv.tls;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * JSSE contexts from PEM material. Every client engine verifies the server's host name: a
 * certificate from the right CA for another host is refused.
 *
 * <p>Replicas speak TLS 1.2 with forward-secret AEAD suites only ({@link #restrictToReplicaTls}).
 * Not 1.3: Akka 2.6's TLS stage mishandles a TLS 1.3 client that sends its request together with
 * the end of the handshake (the request waits until the connection times out; akka issue 29111's
 * kind) and can show the first request the session from before client authentication (akka
 * issue 31419), which would hide a peer's certificate. 1.2 has neither problem, and with ECDHE and
 * AES-GCM or ChaCha20 it loses nothing that matters here.
 */
public final class TlsContexts {

  /**
   * Forward-secret (ECDHE) AEAD suites, no static-RSA key exchange, no CBC; in the server's order
   * of preference: AES-128-GCM first (AES-NI makes it the cheapest here: fewer rounds than
   * AES-256, and the JDK 17 has no ChaCha20 intrinsic).
   */
  private static final List<String> REPLICA_SUITES = List.of(
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

  private TlsContexts() {}

  /** Limits {@code engine} to what replicas speak: TLS 1.2, forward-secret AEAD suites (see the class comment). */
  public static SSLEngine restrictToReplicaTls(SSLEngine engine) {
    engine.setEnabledProtocols(new String[] {"TLSv1.2"});
    List<String> supported = List.of(engine.getSupportedCipherSuites());
    engine.setEnabledCipherSuites(REPLICA_SUITES.stream().filter(supported::contains).toArray(String[]::new));
    // The server's order decides (set through the parameters, which carry the client-auth
    // setting along unchanged).
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setUseCipherSuitesOrder(true);
    engine.setSSLParameters(parameters);
    return engine;
  }

  /**
   * A context that presents {@code identity} and trusts {@code authorities} to sign the other
   * side's certificate; no authorities: the JDK's default trust store (public CAs).
   */
  public static SSLContext create(Optional<KeyMaterial> identity, List<X509Certificate> authorities) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keyManagers(identity), authorities.isEmpty() ? null : trustManagers(authorities), null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new TlsFileException("cannot set up TLS: " + e.getMessage(), e);
    }
  }

  /** A client engine for {@code host:port} that checks the server's certificate names that host (RFC 2818). */
  public static SSLEngine clientEngine(SSLContext context, String host, int port) {
    SSLEngine engine = context.createSSLEngine(host, port);
    engine.setUseClientMode(true);
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setEndpointIdentificationAlgorithm("HTTPS");
    engine.setSSLParameters(parameters);
    return engine;
  }

  /** A server engine; {@code wantClientCertificates}: asks for one, and lets a client without one in. */
  public static SSLEngine serverEngine(SSLContext context, boolean wantClientCertificates) {
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(false);
    engine.setWantClientAuth(wantClientCertificates);
    return engine;
  }

  private static KeyManager[] keyManagers(Optional<KeyMaterial> identity) throws GeneralSecurityException, IOException {
    if (identity.isEmpty()) {
      return null;
    }
    char[] password = new char[0]; // an in-memory store: the password protects nothing
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, password);
    store.setKeyEntry("identity", identity.get().key(), password,
        identity.get().chain().toArray(new X509Certificate[0]));
    KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    factory.init(store, password);
    return factory.getKeyManagers();
  }

  private static TrustManager[] trustManagers(List<X509Certificate> authorities)
      throws GeneralSecurityException, IOException {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    int index = 0;
    for (X509Certificate authority : authorities) {
      store.setCertificateEntry("authority-" + index++, authority);
    }
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(store);
    return factory.getTrustManagers();
  }
}
