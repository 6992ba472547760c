package io.quorumkv.cluster;

import static io.quorumkv.cluster.ClusterFixture.send;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quorumkv.store.DataSnapshots;
import io.quorumkv.torture.LocalCluster;
import io.quorumkv.torture.ReplicaProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TestName;

/**
 * Goal: backups as an operator takes and uses them (docs/operating.md, "Backup and restore",
 * "Disaster recovery"). `kv snapshot` snapshots every replica; one replica restored from its
 * snapshot never answers from the snapshot's data but rebuilds from its peers (so a later write
 * and a later delete hold); when all three are lost, `recover` makes a new cluster of the three
 * snapshots, holding what they held (deletes included) and nothing written after them. Real
 * replica JVMs and the real client and replica jars; waits on readiness under generous caps.
 */
public class BackupIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration CAP = Duration.ofSeconds(90);

  @Rule
  public final TestName testName = new TestName();

  private Path logDir() {
    return Path.of("target", "cluster-it", testName.getMethodName()).toAbsolutePath();
  }

  private static void put(String address, String key, String value) throws Exception {
    assertEquals(200, send("PUT", address, "/kv/" + key, value).statusCode());
  }

  private static String replicaId(String address) throws Exception {
    return JSON.readTree(send("GET", address, "/cluster", null).body()).get("replicaId").asText();
  }

  /** Runs a jar with arguments, bounded in time; returns its exit status and output. */
  private static Map.Entry<Integer, String> runJar(Path jar, Path log, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(ReplicaProcess.javaBinary(), "-jar", jar.toString()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " did not end within 120 s");
    }
    return Map.entry(process.exitValue(), Files.readString(log));
  }

  /** `kv snapshot --name NAME` on all three; returns each replica's snapshot directory. */
  private List<Path> snapshotAll(LocalCluster cluster, String name) throws Exception {
    String endpoints = String.join(",", cluster.replicas().stream().map(ReplicaProcess::address).toList());
    Map.Entry<Integer, String> run = runJar(ClusterFixture.CLIENT_JAR, logDir().resolve("snapshot-" + name + ".out"),
        "snapshot", "--endpoints", endpoints, "--name", name, "-w", "json");
    assertEquals(run.getValue(), 0, (int) run.getKey());
    List<Path> paths = new ArrayList<>();
    for (JsonNode taken : JSON.readTree(run.getValue().lines().filter(line -> line.startsWith("[")).findFirst()
        .orElseThrow())) {
      assertEquals(taken.toString(), "ok", taken.get("outcome").asText());
      Path path = Path.of(taken.get("path").asText());
      assertTrue(path + " is marked", Files.exists(path.resolve(DataSnapshots.MARKER)));
      paths.add(path);
    }
    assertEquals(3, paths.size());
    return paths;
  }

  @Test(timeout = 300_000)
  public void aReplicaRestoredFromItsSnapshotRebuildsFromItsPeers() throws Exception {
    try (LocalCluster cluster = new LocalCluster(ClusterFixture.REPLICA_JAR, logDir(), ClusterFixture.FAST_REBUILD, Map.of())) {
      String a = cluster.replica(0).address();
      put(a, "k", "before the snapshot");
      put(a, "doomed", "old");
      List<Path> snapshots = snapshotAll(cluster, "nightly");
      // The default snapshot directory is beside each data directory: <data-dir>-snapshots/<name>.
      assertEquals(Path.of(cluster.dataDirectory(2) + "-snapshots", "nightly"), snapshots.get(2));
      put(a, "k", "after the snapshot");
      assertEquals(200, send("DELETE", a, "/kv/doomed", null).statusCode());

      String c = cluster.replica(2).address();
      String oldId = replicaId(c);
      cluster.replica(2).stop();
      ClusterFixture.replaceDirectory(snapshots.get(2), cluster.dataDirectory(2)); // the restore
      cluster.restart(2); // waits until it is ready again: rebuilt from its peers
      assertTrue(Files.readString(cluster.replica(2).log()).contains("is a restored snapshot"));
      assertNotEquals("a new incarnation", oldId, replicaId(c));
      // What C itself holds now (consistency=one answers from the first replica to reply; C is
      // asked through its own port, and the others hold the same): never the snapshot's state.
      for (String address : List.of(c, a)) {
        assertEquals("after the snapshot", send("GET", address, "/kv/k", null).body());
        assertEquals(404, send("GET", address, "/kv/doomed", null).statusCode());
      }
      assertEquals(200, send("GET", c, "/health/ready", null).statusCode());
    }
  }

  @Test(timeout = 300_000)
  public void threeSnapshotsRecoverIntoANewClusterWithWhatTheyHeld() throws Exception {
    try (LocalCluster cluster = new LocalCluster(ClusterFixture.REPLICA_JAR, logDir(), ClusterFixture.FAST_REBUILD, Map.of())) {
      String a = cluster.replica(0).address();
      for (int i = 0; i < 20; i++) {
        put(cluster.replica(i % 3).address(), "k" + i, "v" + i);
      }
      assertEquals(200, send("DELETE", a, "/kv/k5", null).statusCode());
      List<Path> snapshots = snapshotAll(cluster, "before-the-loss");
      put(a, "late", "written after the snapshots");
      List<String> oldIds = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        oldIds.add(replicaId(cluster.replica(i).address()));
        cluster.replica(i).stop(); // every replica is lost...
        LocalCluster.deleteRecursively(cluster.dataDirectory(i)); // ...with its data directory
      }

      Map.Entry<Integer, String> recover = runJar(ClusterFixture.REPLICA_JAR, logDir().resolve("recover.out"), "recover",
          "--from", String.join(",", snapshots.stream().map(Path::toString).toList()),
          "--to=" + String.join(",", List.of(0, 1, 2).stream().map(i -> cluster.dataDirectory(i).toString()).toList()));
      assertEquals(recover.getValue(), 0, (int) recover.getKey());
      assertTrue(recover.getValue(), recover.getValue().contains("recovered 20 keys (1 of them deleted) from 3 snapshot(s)"));

      for (int i = 0; i < 3; i++) {
        cluster.startAgain(i, Map.of());
      }
      for (ReplicaProcess replica : cluster.replicas()) {
        replica.awaitHealthy(CAP); // a new cluster: ready once all three have heard each other
      }
      for (int i = 0; i < 3; i++) {
        String address = cluster.replica(i).address();
        assertTrue("new replica ids", !oldIds.contains(replicaId(address)));
        assertEquals("v7", send("GET", address, "/kv/k7?consistency=one", null).body());
        assertEquals(404, send("GET", address, "/kv/k5?consistency=one", null).statusCode());
        assertEquals(404, send("GET", address, "/kv/late?consistency=one", null).statusCode());
      }
      for (int i = 0; i < 20; i++) {
        expectQuorumRead(a, "k" + i, i == 5 ? null : "v" + i);
      }
      put(a, "after-recovery", "the new cluster takes writes");
    }
  }

  @Test(timeout = 300_000)
  public void aRecoveredDirectoryStartedInARunningClusterDiscardsItsRecordsAndRebuilds() throws Exception {
    try (LocalCluster cluster = new LocalCluster(ClusterFixture.REPLICA_JAR, logDir(), ClusterFixture.FAST_REBUILD, Map.of())) {
      String a = cluster.replica(0).address();
      put(a, "k", "before the snapshot");
      put(a, "gone", "deleted after the snapshot");
      List<Path> snapshots = snapshotAll(cluster, "misused");
      put(a, "k", "after the snapshot");
      assertEquals(200, send("DELETE", a, "/kv/gone", null).statusCode());

      cluster.replica(2).stop();
      LocalCluster.deleteRecursively(cluster.dataDirectory(2));
      // The misuse: 'recover' (meant for a new cluster) to put one replica back into a running one.
      Map.Entry<Integer, String> recover = runJar(ClusterFixture.REPLICA_JAR, logDir().resolve("recover.out"), "recover",
          "--from", snapshots.get(2).toString(), "--to", cluster.dataDirectory(2).toString());
      assertEquals(recover.getValue(), 0, (int) recover.getKey());
      cluster.startAgain(2, Map.of());
      assertEquals("it stops on its own once a peer shows it is not a new cluster", 6, cluster.replica(2).awaitExit(CAP));
      assertTrue(Files.readString(cluster.replica(2).log()).contains("made by 'recover' for a new cluster"));

      cluster.restart(2); // as its supervisor would: it discards the recovered records and rebuilds
      String c = cluster.replica(2).address();
      assertEquals("after the snapshot", send("GET", c, "/kv/k", null).body());
      assertEquals(404, send("GET", c, "/kv/gone", null).statusCode());
    }
  }

  /** A quorum read through {@code address} answers {@code value}, or 404 for null. */
  private static void expectQuorumRead(String address, String key, String value) throws Exception {
    java.net.http.HttpResponse<String> response = send("GET", address, "/kv/" + key, null);
    if (value == null) {
      assertEquals(response.body(), 404, response.statusCode());
    } else {
      assertEquals(response.body(), 200, response.statusCode());
      assertEquals(value, response.body());
    }
  }
}
