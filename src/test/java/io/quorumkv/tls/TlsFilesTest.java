package io.quorumkv.tls;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Reading certificates and keys as operators write them, and refusing what would fail later. */
public class TlsFilesTest {

  @Rule
  public TemporaryFolder folder = new TemporaryFolder();

  private final TestPki ca = TestPki.create("files CA");

  @Test
  public void aChainAndItsKeyAreRead() throws Exception {
    Path dir = folder.getRoot().toPath();
    ca.issue("peer0", TestPki.Usage.REPLICA, List.of("127.0.0.1")).write(dir, "peer0");
    KeyMaterial material = KeyMaterial.load(dir.resolve("peer0.pem"), dir.resolve("peer0-key.pem"));
    assertEquals("CN=peer0", material.leaf().getSubjectX500Principal().getName());
    assertEquals("the chain carries its CA too", 2, material.chain().size());
  }

  @Test
  public void replicasSpeakTls12WithForwardSecretSuitesAndStillAskForClientCertificates() {
    javax.net.ssl.SSLContext context = TlsContexts.create(Optional.empty(), List.of(ca.certificate()));
    javax.net.ssl.SSLEngine server = TlsContexts.restrictToReplicaTls(TlsContexts.serverEngine(context, true));
    assertEquals(List.of("TLSv1.2"), List.of(server.getEnabledProtocols()));
    assertTrue(server.getEnabledCipherSuites().length > 0);
    for (String suite : server.getEnabledCipherSuites()) {
      assertTrue(suite, suite.startsWith("TLS_ECDHE_") && (suite.contains("_GCM_") || suite.contains("CHACHA20")));
    }
    assertTrue("client certificates still asked for", server.getWantClientAuth());
    assertTrue(server.getSSLParameters().getUseCipherSuitesOrder());
  }

  @Test
  public void aServerCertificateForAnotherHostIsRefused() throws Exception {
    KeyMaterial elsewhere = material(ca.issue("x", TestPki.Usage.REPLICA, List.of("other.example")));
    KeyMaterial here = material(ca.issue("y", TestPki.Usage.REPLICA, List.of("127.0.0.1")));
    javax.net.ssl.SSLContext client = TlsContexts.create(Optional.of(here), List.of(ca.certificate()));
    // The replicas' engines (peer calls) and a client's (kv, bench): the same host-name check.
    for (boolean replica : List.of(true, false)) {
      javax.net.ssl.SSLEngine refusing = TlsContexts.clientEngine(client, "127.0.0.1", 7000);
      javax.net.ssl.SSLEngine server = TlsContexts.serverEngine(
          TlsContexts.create(Optional.of(elsewhere), List.of(ca.certificate())), true);
      if (replica) {
        TlsContexts.restrictToReplicaTls(refusing);
        TlsContexts.restrictToReplicaTls(server);
      }
      assertThrows(javax.net.ssl.SSLHandshakeException.class, () -> handshake(refusing, server));
    }
    javax.net.ssl.SSLEngine accepting = TlsContexts.restrictToReplicaTls(TlsContexts.clientEngine(client, "127.0.0.1", 7000));
    javax.net.ssl.SSLEngine server = TlsContexts.restrictToReplicaTls(TlsContexts.serverEngine(
        TlsContexts.create(Optional.of(here), List.of(ca.certificate())), true));
    handshake(accepting, server);
    assertEquals("CN=y", server.getSession().getPeerPrincipal().getName()); // mutual: the client's certificate
  }

  private KeyMaterial material(TestPki.Issued issued) {
    return new KeyMaterial(issued.key().getPrivate(), List.of(issued.certificate(), issued.issuer()));
  }

  /** Drives two engines against each other in memory until both finish handshaking (bounded). */
  private static void handshake(javax.net.ssl.SSLEngine client, javax.net.ssl.SSLEngine server) throws Exception {
    java.nio.ByteBuffer toServer = java.nio.ByteBuffer.allocate(1 << 17);
    java.nio.ByteBuffer toClient = java.nio.ByteBuffer.allocate(1 << 17);
    java.nio.ByteBuffer clientIn = java.nio.ByteBuffer.allocate(1 << 17);
    java.nio.ByteBuffer serverIn = java.nio.ByteBuffer.allocate(1 << 17);
    java.nio.ByteBuffer nothing = java.nio.ByteBuffer.allocate(0);
    client.beginHandshake();
    server.beginHandshake();
    for (int step = 0; step < 200; step++) {
      for (javax.net.ssl.SSLEngine engine : List.of(client, server)) {
        for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) {
          task.run();
        }
      }
      client.wrap(nothing, toServer);
      server.wrap(nothing, toClient);
      toServer.flip();
      toClient.flip();
      server.unwrap(toServer, serverIn);
      client.unwrap(toClient, clientIn);
      toServer.compact();
      toClient.compact();
      if (client.getHandshakeStatus() == javax.net.ssl.SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING
          && server.getHandshakeStatus() == javax.net.ssl.SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING) {
        return;
      }
    }
    throw new AssertionError("the handshake did not finish in 200 steps");
  }

  @Test
  public void aKeyOfAnotherCertificateIsRefused() throws Exception {
    Path dir = folder.getRoot().toPath();
    ca.issue("peer0", TestPki.Usage.REPLICA, List.of("127.0.0.1")).write(dir, "peer0");
    ca.issue("peer1", TestPki.Usage.REPLICA, List.of("127.0.0.1")).write(dir, "peer1");
    TlsFileException e = assertThrows(TlsFileException.class,
        () -> KeyMaterial.load(dir.resolve("peer0.pem"), dir.resolve("peer1-key.pem")));
    assertTrue(e.getMessage(), e.getMessage().contains("is not the private key of the first certificate"));
  }

  @Test
  public void keysInOtherFormatsAreRefusedWithTheWayToConvertThem() throws Exception {
    Path key = folder.getRoot().toPath().resolve("old-key.pem");
    Files.writeString(key, TestPki.pem("RSA PRIVATE KEY", new byte[] {1, 2, 3}));
    TlsFileException e = assertThrows(TlsFileException.class, () -> PemFiles.privateKey(key));
    assertTrue(e.getMessage(), e.getMessage().contains("openssl pkcs8 -topk8 -nocrypt"));
    Files.writeString(key, TestPki.pem("ENCRYPTED PRIVATE KEY", new byte[] {1, 2, 3}));
    assertTrue(assertThrows(TlsFileException.class, () -> PemFiles.privateKey(key)).getMessage()
        .contains("ENCRYPTED PRIVATE KEY"));
  }

  @Test
  public void filesThatAreNotPemAreRefusedNamingTheFile() throws Exception {
    Path dir = folder.getRoot().toPath();
    Path text = dir.resolve("notes.txt");
    Files.writeString(text, "hello");
    for (Path file : List.of(text, dir.resolve("missing.pem"))) {
      TlsFileException e = assertThrows(TlsFileException.class, () -> PemFiles.certificates(file));
      assertTrue(e.getMessage(), e.getMessage().startsWith(file.toString()));
    }
    Path keyOnly = dir.resolve("key-only.pem");
    ca.issue("x", TestPki.Usage.CLIENT, List.of()).write(dir, "x");
    Files.copy(dir.resolve("x-key.pem"), keyOnly);
    assertTrue(assertThrows(TlsFileException.class, () -> PemFiles.certificates(keyOnly)).getMessage()
        .contains("holds no PEM certificate"));
    Path garbled = dir.resolve("garbled.pem");
    Files.writeString(garbled, TestPki.pem("CERTIFICATE", new byte[] {1, 2, 3}));
    assertTrue(assertThrows(TlsFileException.class, () -> PemFiles.certificates(garbled)).getMessage()
        .contains("not a valid X.509 certificate"));
  }
}
