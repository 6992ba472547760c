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
    assertTrue(TlsContexts.create(Optional.of(material), List.of(ca.certificate())).getProtocol().startsWith("TLS"));
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
