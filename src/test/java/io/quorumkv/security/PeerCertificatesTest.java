package io.quorumkv.security;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.quorumkv.tls.TestPki;
import io.quorumkv.tls.TestPki.Usage;
import io.quorumkv.tls.TlsFileException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Which verified certificates count as a peer's, and which only as a client's. */
public class PeerCertificatesTest {

  @Rule
  public TemporaryFolder folder = new TemporaryFolder();

  private final TestPki ca = TestPki.create("cluster CA");
  private final Instant now = Instant.now();

  private static List<X509Certificate> chain(TestPki.Issued issued) {
    return List.of(issued.certificate(), issued.issuer());
  }

  @Test
  public void aReplicaCertificateNamingAConfiguredPeerIsAPeers() {
    PeerCertificates peers = new PeerCertificates(List.of(), List.of("10.0.0.2", "Quorumkv-1.quorumkv.svc", "fd00::2"));
    assertEquals(CertificateCaller.Kind.PEER,
        peers.classify(chain(ca.issue("a", Usage.REPLICA, List.of("10.0.0.2"))), now).kind());
    assertEquals("DNS names compare without case", CertificateCaller.Kind.PEER,
        peers.classify(chain(ca.issue("b", Usage.REPLICA, List.of("quorumkv-1.QUORUMKV.svc"))), now).kind());
    assertEquals("IPv6 addresses compare as addresses", CertificateCaller.Kind.PEER,
        peers.classify(chain(ca.issue("c", Usage.REPLICA, List.of("fd00:0:0:0:0:0:0:2"))), now).kind());
  }

  @Test
  public void everyOtherVerifiedCertificateIsAClients() {
    PeerCertificates peers = new PeerCertificates(List.of(), List.of("10.0.0.2", "quorumkv-1.quorumkv.svc"));
    List<TestPki.Issued> clients = List.of(
        ca.issue("app", Usage.CLIENT, List.of()),                                          // no names
        ca.issue("other", Usage.REPLICA, List.of("10.0.0.3", "quorumkv-9.quorumkv.svc")),  // another host
        ca.issue("server-only", Usage.REPLICA_WITHOUT_CLIENT_AUTH, List.of("10.0.0.2")),   // no clientAuth
        ca.issue("wildcard", Usage.REPLICA, List.of("*.quorumkv.svc")),                    // wildcards name no peer
        ca.issue("10.0.0.2", Usage.CLIENT, List.of()));                                   // a common name is not a SAN
    for (TestPki.Issued client : clients) {
      CertificateCaller caller = peers.classify(chain(client), now);
      assertEquals(caller.subject(), CertificateCaller.Kind.CLIENT, caller.kind());
    }
    assertEquals(CertificateCaller.Kind.NONE, peers.classify(List.of(), now).kind());
  }

  @Test
  public void namesOfOtherKindsAreSkippedNotFatal() {
    PeerCertificates peers = new PeerCertificates(List.of(), List.of("10.0.0.2"));
    assertEquals(CertificateCaller.Kind.PEER, peers.classify(
        chain(ca.issue("a", Usage.REPLICA, List.of("otherName:ops@example.com", "10.0.0.2"))), now).kind());
    assertEquals(CertificateCaller.Kind.CLIENT, peers.classify(
        chain(ca.issue("b", Usage.REPLICA, List.of("otherName:ops@example.com"))), now).kind());
    assertEquals(CertificateCaller.Kind.NONE, peers.of(java.util.Optional.empty(), now).kind());
  }

  @Test
  public void aPeerCertificateOutsideItsValidityIsAClients() {
    PeerCertificates peers = new PeerCertificates(List.of(), List.of("10.0.0.2"));
    TestPki.Issued issued = ca.issue("a", Usage.REPLICA, List.of("10.0.0.2"));
    assertEquals(CertificateCaller.Kind.PEER, peers.classify(chain(issued), now).kind());
    assertEquals("expired since (a resumed session or an old connection)", CertificateCaller.Kind.CLIENT,
        peers.classify(chain(issued), now.plus(Duration.ofDays(2))).kind());
    assertEquals(CertificateCaller.Kind.CLIENT, peers.classify(chain(issued), now.minus(Duration.ofDays(1))).kind());
  }

  @Test
  public void withAPeerCaAPeerCertificateMustChainToIt() {
    TestPki peerCa = TestPki.create("replica CA");
    PeerCertificates peers = new PeerCertificates(List.of(peerCa.certificate()), List.of("10.0.0.2"));
    assertEquals(CertificateCaller.Kind.PEER,
        peers.classify(chain(peerCa.issue("a", Usage.REPLICA, List.of("10.0.0.2"))), now).kind());
    assertEquals("the clients' CA cannot make peers, whatever the names", CertificateCaller.Kind.CLIENT,
        peers.classify(chain(ca.issue("a", Usage.REPLICA, List.of("10.0.0.2"))), now).kind());
    assertEquals("the peer CA still needs a peer's name", CertificateCaller.Kind.CLIENT,
        peers.classify(chain(peerCa.issue("b", Usage.REPLICA, List.of("10.0.0.9"))), now).kind());
    assertEquals("the leaf alone chains as well", CertificateCaller.Kind.PEER,
        peers.classify(List.of(peerCa.issue("a", Usage.REPLICA, List.of("10.0.0.2")).certificate()), now).kind());
  }

  @Test
  public void aReplicaRefusesToStartWithACertificateThatIsNotValidNow() throws Exception {
    Path dir = folder.getRoot().toPath();
    ca.writeCertificate(dir.resolve("ca.pem"));
    ca.issue("old", Usage.REPLICA, List.of("127.0.0.1"), now.minus(Duration.ofDays(3)), now.minus(Duration.ofDays(1)))
        .write(dir, "old");
    TlsFileException e = assertThrows(TlsFileException.class, () -> ReplicaTls.load(dir.resolve("old.pem").toString(),
        dir.resolve("old-key.pem").toString(), dir.resolve("ca.pem").toString(), "", List.of("127.0.0.1"), now));
    assertTrue(e.getMessage(), e.getMessage().contains("not now"));
    ca.issue("fresh", Usage.REPLICA, List.of("127.0.0.1")).write(dir, "fresh");
    assertTrue(ReplicaTls.load(dir.resolve("fresh.pem").toString(), dir.resolve("fresh-key.pem").toString(),
        dir.resolve("ca.pem").toString(), "", List.of("127.0.0.1"), now).isPresent());
  }
}
