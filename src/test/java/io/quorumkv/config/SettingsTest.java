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
    Settings settings = Settings.load(config(""), Map.of());
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
  public void badValuesStopWithAOneLineReason() {
    Map<String, String> cases = Map.of(
        "quorumkv.http.port = 0", "PORT",
        "quorumkv.write-timeout = 0s", "write-timeout",
        "quorumkv.storage.engine = cassandra", "storage.engine",
        "quorumkv.limits.key-bytes-max = 0", "key-bytes-max",
        "quorumkv.read-timeout = soon", "read-timeout",
        "quorumkv.storage.fsync = sometimes", "storage.fsync",
        "quorumkv.fanout.mode = everyone", "fanout.mode",
        "quorumkv.fanout.hedge-delay = 0s", "fanout.hedge-delay",
        "quorumkv.peer-request-timeout = 2s", "must be shorter than quorumkv.read-timeout",
        "quorumkv.fanout.hedge-delay = 1500ms", "must be shorter than quorumkv.peer-request-timeout");
    cases.forEach((override, mentioned) -> {
      IllegalArgumentException e = assertThrows(override, IllegalArgumentException.class,
          () -> Settings.load(config(override), Map.of()));
      assertTrue(e.getMessage(), e.getMessage().contains(mentioned));
      assertTrue(e.getMessage(), !e.getMessage().contains("\n"));
    });
  }
}
