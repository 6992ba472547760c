package io.quorumkv.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.Value;
import io.quorumkv.tls.KeyMaterial;
import io.quorumkv.tls.TestPki;
import io.quorumkv.tls.TlsContexts;
import io.quorumkv.torture.ClusterTls;
import io.quorumkv.torture.LocalCluster;
import io.quorumkv.torture.ReplicaProcess;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import io.quorumkv.wire.WireCodec;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * Goal: three real replica processes with mutual TLS between them serve the client scenario over
 * HTTPS; an internal call without a peer's certificate (none, a client's, another CA's, an expired
 * one) is refused and changes nothing; plain HTTP to the TLS port gets no answer. Certificates are
 * made by the test ({@link TestPki}).
 */
public class TlsIT {

  private static final Path WORK = Path.of("target", "cluster-it", "tls").toAbsolutePath();
  private static final Path CERTS = WORK.resolve("certs");
  private static LocalCluster cluster;
  private static TestPki ca;

  @BeforeClass
  public static void startCluster() throws Exception {
    LocalCluster.deleteRecursively(WORK);
    ca = TestPki.writeClusterDirectory(CERTS);
    cluster = new LocalCluster(ClusterFixture.REPLICA_JAR, WORK.resolve("cluster"), List.of(), Map.of(),
        new int[] {ReplicaProcess.freePort(), ReplicaProcess.freePort(), ReplicaProcess.freePort()},
        Optional.of(new ClusterTls(CERTS)));
  }

  @AfterClass
  public static void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test(timeout = 120_000)
  public void theScenarioRunsOverHttps() throws Exception {
    Path directory = Files.createDirectories(WORK.resolve("scenario"));
    List<String> command = List.of(ReplicaProcess.javaBinary(), "-jar", ClusterFixture.CLIENT_JAR.toAbsolutePath().toString());
    ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true)
        .redirectOutput(directory.resolve("client.log").toFile());
    builder.environment().keySet().removeIf(key -> key.startsWith("PEER_") || key.startsWith("QUORUMKV_"));
    builder.environment().putAll(cluster.peerEnvironment(-1));
    builder.environment().put("QUORUMKV_CACERT", CERTS.resolve("ca.pem").toString());
    Process client = builder.start();
    assertTrue("the client finished in time", client.waitFor(90, TimeUnit.SECONDS));
    String output = Files.readString(directory.resolve("client.log"));
    assertEquals(output, 0, client.exitValue());
    assertEquals("k1=alpha\nk2=beta\n", Files.readString(directory.resolve("result.txt"), StandardCharsets.UTF_8));

    // kv with an https:// endpoint, the CA and a client certificate.
    List<String> kv = List.of(ReplicaProcess.javaBinary(), "-jar", ClusterFixture.CLIENT_JAR.toAbsolutePath().toString());
    List<String> tls = List.of("--endpoints", "https://" + cluster.replica(1).address(), "--cacert",
        CERTS.resolve("ca.pem").toString(), "--cert", CERTS.resolve("client.pem").toString(), "--key",
        CERTS.resolve("client-key.pem").toString());
    assertEquals(0, runKv(directory, kv, List.of("put", "via-kv", "gamma"), tls).getKey().intValue());
    Map.Entry<Integer, String> got = runKv(directory, kv, List.of("get", "via-kv"), tls);
    assertEquals(got.getValue(), 0, got.getKey().intValue());
    assertEquals("gamma", got.getValue());
  }

  /** Runs kv to its end (at most 60 s): its exit status and standard output. */
  private static Map.Entry<Integer, String> runKv(Path directory, List<String> kv, List<String> command,
      List<String> options) throws Exception {
    List<String> args = new java.util.ArrayList<>(kv);
    args.addAll(command);
    args.addAll(options);
    Process process = new ProcessBuilder(args).directory(directory.toFile())
        .redirectError(directory.resolve("kv.err").toFile()).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue("kv finished in time", process.waitFor(60, TimeUnit.SECONDS));
    return Map.entry(process.exitValue(), out);
  }

  @Test(timeout = 120_000)
  public void internalCallsWithoutAPeerCertificateAreRefusedAndChangeNothing() throws Exception {
    String target = "https://" + cluster.replica(0).address();
    byte[] injection = WireCodec.encode(new Apply("injected", Record.of(
        new Version(HybridLogicalClock.fromMillis(System.currentTimeMillis()), 77L), Value.ofUtf8("evil")),
        new Stamp(77L, HybridLogicalClock.fromMillis(System.currentTimeMillis())), Cause.WRITE));

    // Through TLS, but with no certificate, or a client's: 403, for calls and the stream alike.
    for (Optional<String> identity : List.of(Optional.<String>empty(), Optional.of("client"))) {
      HttpClient http = client(identity.map(name -> material(CERTS, name)), false);
      HttpResponse<String> call = post(http, target + "/internal/v2/call", injection);
      assertEquals(call.body(), 403, call.statusCode());
      assertTrue(call.body(), call.body().contains("peer's TLS client certificate"));
      HttpResponse<String> stream = http.send(HttpRequest.newBuilder(URI.create(target + "/internal/v2/stream"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(stream.body(), 403, stream.statusCode());
    }

    // A certificate from another CA, or an expired one from the right CA, presented whatever the
    // server asks for: the handshake fails, nothing is served.
    Path strangers = WORK.resolve("strangers");
    TestPki.create("another CA").issue("peer1", TestPki.Usage.REPLICA, List.of("127.0.0.1")).write(strangers, "other");
    Instant now = Instant.now();
    ca.issue("peer1", TestPki.Usage.REPLICA, List.of("127.0.0.1"), now.minus(Duration.ofDays(3)),
        now.minus(Duration.ofDays(1))).write(strangers, "expired");
    for (String name : List.of("other", "expired")) {
      HttpClient http = client(Optional.of(material(strangers, name)), true);
      IOException refused = assertThrows(name, IOException.class, () -> post(http, target + "/internal/v2/call", injection));
      boolean handshakeFailed = false; // not a timeout, nor a refused connection: the handshake
      for (Throwable cause = refused; cause != null; cause = cause.getCause()) {
        handshakeFailed |= cause instanceof javax.net.ssl.SSLException;
      }
      assertTrue(name + ": " + refused, handshakeFailed && !(refused instanceof java.net.http.HttpTimeoutException));
    }

    // Plain HTTP on the TLS port: no HTTP answer at all (no downgrade).
    try (Socket socket = new Socket("127.0.0.1", cluster.replica(0).port())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      byte[] answer = socket.getInputStream().readNBytes(64);
      assertTrue("an HTTP answer came back: " + new String(answer, StandardCharsets.ISO_8859_1),
          !new String(answer, StandardCharsets.ISO_8859_1).startsWith("HTTP/"));
    }

    // A peer's certificate from loopback gets through the checks (a malformed body: 400, not 403).
    HttpResponse<String> fromPeer = post(client(Optional.of(material(CERTS, "peer1")), false),
        target + "/internal/v2/call", new byte[] {1, 2, 3});
    assertEquals(fromPeer.body(), 400, fromPeer.statusCode());

    // Nothing was injected: a quorum read finds no such key.
    HttpClient reader = client(Optional.empty(), false);
    HttpResponse<String> read = reader.send(HttpRequest.newBuilder(URI.create(target + "/kv/injected"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(read.body(), 404, read.statusCode());
    String metrics = reader.send(HttpRequest.newBuilder(URI.create(target + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    assertTrue(metrics, metric(metrics, "quorumkv_access_refused_total{reason=\"internal-not-a-peer-certificate\"}") >= 4);
    assertTrue(metrics, metric(metrics, "quorumkv_tls_handshakes_failed_total") >= 3);
    assertTrue(metrics, metric(metrics, "quorumkv_tls_certificate_expiry_timestamp_seconds") > now.getEpochSecond());
  }

  private static double metric(String metrics, String name) {
    return metrics.lines().filter(line -> line.startsWith(name + " ")).findFirst()
        .map(line -> Double.parseDouble(line.substring(name.length() + 1).trim())).orElse(-1.0);
  }

  private static HttpResponse<String> post(HttpClient http, String uri, byte[] body)
      throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(10))
        .header("Content-Type", WireCodec.CONTENT_TYPE).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static KeyMaterial material(Path dir, String name) {
    return KeyMaterial.load(dir.resolve(name + ".pem"), dir.resolve(name + "-key.pem"));
  }

  /**
   * A client trusting the cluster's CA; presenting {@code identity} when given, and with
   * {@code forced}, even when the server names CAs that did not sign it (as an attacker would).
   */
  private static HttpClient client(Optional<KeyMaterial> identity, boolean forced) throws Exception {
    SSLContext context = TlsContexts.create(identity, List.of(ca.certificate()));
    if (forced) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, new char[0]);
      store.setKeyEntry("identity", identity.get().key(), new char[0],
          identity.get().chain().toArray(new X509Certificate[0]));
      KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      factory.init(store, new char[0]);
      X509ExtendedKeyManager inner = (X509ExtendedKeyManager) factory.getKeyManagers()[0];
      context = SSLContext.getInstance("TLS");
      context.init(new javax.net.ssl.KeyManager[] {new AlwaysPresent(inner)}, trustManagers(), null);
    }
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(context)
        .connectTimeout(Duration.ofSeconds(5)).build();
  }

  private static javax.net.ssl.TrustManager[] trustManagers() throws Exception {
    KeyStore trusted = KeyStore.getInstance("PKCS12");
    trusted.load(null, null);
    trusted.setCertificateEntry("ca", ca.certificate());
    javax.net.ssl.TrustManagerFactory factory =
        javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trusted);
    return factory.getTrustManagers();
  }

  /** Presents its one certificate whatever issuers the server asks for. */
  private static final class AlwaysPresent extends X509ExtendedKeyManager {
    private final X509ExtendedKeyManager inner;

    AlwaysPresent(X509ExtendedKeyManager inner) {
      this.inner = inner;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
      return "identity";
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return "identity";
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return new String[] {"identity"};
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return inner.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return inner.getPrivateKey(alias);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return null;
    }
  }
}
