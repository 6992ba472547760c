package io.quorumkv.config;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.quorumkv.config.FsyncMode;
import java.time.Duration;
import java.util.Map;
import org.junit.Test;

/** Goal: application.conf's defaults load, overrides apply, and bad values stop with a reason. */
public class SettingsTest {

  private static Config config(String overrides) {
    ConfigFactory.invalidateCaches();
    return ConfigFactory.parseString(overrides).withFallback(ConfigFactory.load());
  }

  @Test
  public void defaultsMatchTheDocumentedValues() {
    Settings settings = Settings.load(config("quorumkv.allow-single-replica = true"), Map.of());
    assertEquals(Duration.ofSeconds(2), settings.writeTimeout());
    assertEquals(Duration.ofSeconds(2), settings.readTimeout());
    assertEquals(1024, settings.keyBytesMax());
    assertEquals(1024 * 1024, settings.valueBytesMax());
    assertEquals("rocksdb", settings.storageEngine());
    assertEquals(FsyncMode.ALWAYS, settings.fsync());
    assertEquals(1, settings.replicas());
    assertEquals(io.quorumkv.config.Fanout.quorumFirst(Duration.ofMillis(50)), settings.fanout());
  }

  @Test
  public void peersComeFromTheEnvironment() {
    Settings settings = Settings.load(config("quorumkv.node-id = peer0"), Map.of(
        "PEER_PEER1_HOST", "h1", "PEER_PEER1_PORT", "7001", "PEER_PEER2_HOST", "h2", "PEER_PEER2_PORT", "7002"));
    assertEquals(3, settings.replicas());
  }

  @Test
  public void noPeersStopsTheStartUnlessASingleReplicaIsAllowed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Settings.load(config(""), Map.of()));
    assertTrue(e.getMessage(), e.getMessage().startsWith("no peers configured")
        && e.getMessage().contains("ALLOW_SINGLE_REPLICA=true"));
    assertEquals(1, Settings.load(config("quorumkv.allow-single-replica = true"), Map.of()).replicas());
  }

  @Test
  public void aPeerEntryAtThisReplicasOwnAddressIsNotCountedAsAPeer() {
    // The deployed contract: one file for all three, NODE_ID naming none of them, port 7000 everywhere.
    Settings settings = Settings.load(config("quorumkv.node-id = db-0\nquorumkv.http.host = 127.0.0.1"), Map.of(
        "PEER_PEER0_HOST", "127.0.0.1", "PEER_PEER0_PORT", "7000",
        "PEER_PEER1_HOST", "127.0.0.2", "PEER_PEER1_PORT", "7000",
        "PEER_PEER2_HOST", "127.0.0.3", "PEER_PEER2_PORT", "7000"));
    assertEquals(3, settings.replicas());
    assertEquals(java.util.List.of("peer1", "peer2"), settings.peers().stream().map(PeerAddress::name).toList());
    assertEquals("db-0", settings.nodeId());
    // Without NODE_ID the replica takes the name of the entry at its own address.
    Settings unnamed = Settings.load(config("quorumkv.http.host = 127.0.0.2"), Map.of(
        "PEER_PEER0_HOST", "127.0.0.1", "PEER_PEER0_PORT", "7000",
        "PEER_PEER1_HOST", "127.0.0.2", "PEER_PEER1_PORT", "7000"));
    assertEquals("peer1", unnamed.nodeId());
    assertEquals(java.util.List.of("peer0"), unnamed.peers().stream().map(PeerAddress::name).toList());
    assertEquals("local", Settings.load(config("quorumkv.allow-single-replica = true"), Map.of()).nodeId());
  }

  @Test
  public void anUnknownSettingStopsTheStartNamingTheNearestKnownOne() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Settings.load(config("quorumkv.allow-single-replica = true\nquorumkv.write-timout = 3s"), Map.of()));
    assertEquals("unknown setting quorumkv.write-timout (did you mean quorumkv.write-timeout?); the settings are"
        + " listed in docs/operating.md, \"Configuration\"", e.getMessage());
    IllegalArgumentException far = assertThrows(IllegalArgumentException.class, () -> Settings.load(
        config("quorumkv.allow-single-replica = true\nquorumkv.color = blue\nquorumkv.hints.nope = 1"), Map.of()));
    assertTrue(far.getMessage(), far.getMessage().startsWith("unknown setting quorumkv.color and 1 more;"));
    // Akka's dispatcher settings are Akka's, and the test harness's properties its own: any key goes there.
    Settings.load(config("quorumkv.allow-single-replica = true\nquorumkv.storage-dispatcher.throughput-deadline-time = 1s\n"
        + "quorumkv.test.seed = 42\nquorumkv.test.fuzz.iterations = 9\nquorumkv.sim.seed = 7\nquorumkv.replicaJar = x.jar"),
        Map.of());
  }

  @Test
  public void theNativeLibraryGoesInsideTheDataDirectoryUnlessSet() {
    assertEquals(java.nio.file.Path.of("/srv/q", "native").toString(), Settings.load(
        config("quorumkv.allow-single-replica = true\nquorumkv.data-dir = /srv/q"), Map.of()).nativeLibraryDir());
    assertEquals("/opt/q/lib", Settings.load(config("quorumkv.allow-single-replica = true\n"
        + "quorumkv.storage.native-library-dir = /opt/q/lib"), Map.of()).nativeLibraryDir());
  }

  @Test
  public void badValuesStopWithAOneLineReason() {
    Map<String, String> cases = Map.ofEntries(
        Map.entry("quorumkv.http.port = 0", "PORT"),
        Map.entry("quorumkv.write-timeout = 0s", "write-timeout"),
        Map.entry("quorumkv.storage.engine = cassandra", "storage.engine"),
        Map.entry("quorumkv.limits.key-bytes-max = 0", "key-bytes-max"),
        Map.entry("quorumkv.read-timeout = soon", "read-timeout"),
        Map.entry("quorumkv.storage.fsync = sometimes", "storage.fsync"),
        Map.entry("quorumkv.fanout.mode = everyone", "fanout.mode"),
        Map.entry("quorumkv.fanout.hedge-delay = 0s", "fanout.hedge-delay"),
        Map.entry("quorumkv.peer-request-timeout = 2s", "must be shorter than quorumkv.read-timeout"),
        Map.entry("quorumkv.fanout.hedge-delay = 1500ms", "must be shorter than quorumkv.peer-request-timeout"),
        Map.entry("quorumkv.auth.metrics = true", "METRICS_AUTH) needs quorumkv.auth.tokens-file"),
        Map.entry("quorumkv.internal-allow-cidrs = \"10.1/16\"", "INTERNAL_ALLOW_CIDRS"),
        Map.entry("quorumkv.tls.cert-file = c.pem", "TLS_CERT_FILE) and quorumkv.tls.key-file (TLS_KEY_FILE) go"),
        Map.entry("quorumkv.tls { cert-file = c.pem, key-file = k.pem }", "and quorumkv.tls.ca-file (TLS_CA_FILE) go"),
        Map.entry("quorumkv.tls.ca-file = ca.pem", "and quorumkv.tls.ca-file (TLS_CA_FILE) go"),
        Map.entry("quorumkv.tls.peer-ca-file = p.pem", "TLS_PEER_CA_FILE) needs"),
        Map.entry("quorumkv.require-auth = true",
            "REQUIRE_AUTH=true needs TLS_CERT_FILE, TLS_KEY_FILE, TLS_CA_FILE and AUTH_TOKENS_FILE; missing: TLS_CERT_FILE,"
                + " TLS_KEY_FILE, TLS_CA_FILE, AUTH_TOKENS_FILE"),
        Map.entry("quorumkv.require-auth = true\nquorumkv.auth.tokens-file = t",
            "missing: TLS_CERT_FILE, TLS_KEY_FILE, TLS_CA_FILE"),
        Map.entry("quorumkv.require-auth = true\nquorumkv.tls { cert-file = c.pem, key-file = k.pem, ca-file = ca.pem }",
            "missing: AUTH_TOKENS_FILE"));
    assertTrue(Settings.load(config("quorumkv.allow-single-replica = true\nquorumkv.require-auth = true\n"
        + "quorumkv.auth.tokens-file = t\nquorumkv.tls { cert-file = c.pem, key-file = k.pem, ca-file = ca.pem }"),
        Map.of()).requireAuth());
    cases.forEach((override, mentioned) -> {
      IllegalArgumentException e = assertThrows(override, IllegalArgumentException.class,
          () -> Settings.load(config("quorumkv.allow-single-replica = true\n" + override), Map.of()));
      assertTrue(e.getMessage(), e.getMessage().contains(mentioned));
      assertTrue(e.getMessage(), !e.getMessage().contains("\n"));
    });
  }
}
