package io.quorumkv.cluster;

import static io.quorumkv.cluster.ClusterFixture.send;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quorumkv.config.FsyncMode;
import io.quorumkv.store.Record;
import io.quorumkv.store.RocksDbStorage;
import io.quorumkv.store.Storage;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TestName;
import io.quorumkv.torture.LocalCluster;
import io.quorumkv.torture.ReplicaProcess;

/**
 * Goal: with {@code fsync = always}, no acknowledged write is lost to {@code kill -9}, of one
 * replica or of all three at once; the replica id and the clock survive restarts. Method: real
 * replica JVMs on RocksDB; concurrent clients record what was acknowledged or read; replicas
 * are killed and restarted; then every replica's RocksDB directory is read directly and the
 * cluster is read back. Each run prints its seed.
 */
public class DurabilityIT {

  /** These tests run one replica alone (N=1), which a replica refuses unless told so. */
  private static final String ALLOW_SINGLE_REPLICA = "ALLOW_SINGLE_REPLICA";
  private static final Map<String, String> SOLO = Map.of(ALLOW_SINGLE_REPLICA, "true");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int CLIENTS = 8;
  private static final List<String> SHARED_KEYS = List.of("shared-0", "shared-1", "shared-2");
  private static final List<String> JVM_OPTIONS = List.of("-Dquorumkv.storage.fsync=always");

  @Rule
  public final TestName testName = new TestName();

  private Path logDir() {
    return Path.of("target", "cluster-it", testName.getMethodName());
  }

  /** What one client saw: writes acknowledged, and values returned by quorum reads. */
  private record Seen(String key, String value, Version version, boolean acknowledgedWrite) {}

  private static final class Client implements Runnable {
    private final int id;
    private final LocalCluster cluster;
    private final Random random;
    private final AtomicBoolean stop;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    final List<Seen> seen = new ArrayList<>();
    int failures;

    Client(int id, LocalCluster cluster, long seed, AtomicBoolean stop) {
      this.id = id;
      this.cluster = cluster;
      this.random = new Random(seed + id);
      this.stop = stop;
    }

    @Override
    public void run() {
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos(); // a bound, never reached
      for (int sequence = 0; sequence < 100_000 && !stop.get() && System.nanoTime() < deadline; sequence++) {
        String node = cluster.replica(random.nextInt(3)).address();
        int choice = random.nextInt(4);
        try {
          if (choice < 2) {
            write(node, "c" + id + "-" + sequence, "c" + id + "-" + sequence + "-value");
          } else if (choice == 2) {
            write(node, SHARED_KEYS.get(random.nextInt(SHARED_KEYS.size())), "c" + id + "-w" + sequence);
          } else {
            read(node, SHARED_KEYS.get(random.nextInt(SHARED_KEYS.size())));
          }
        } catch (IOException e) {
          failures++; // refused or cut while a replica is down: not acknowledged, nothing promised
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }

    private void write(String node, String key, String value) throws IOException, InterruptedException {
      HttpResponse<String> response = http.send(request(node, key).PUT(HttpRequest.BodyPublishers.ofString(value)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() == 200) {
        Version version = Version.parse(JSON.readTree(response.body()).get("version").asText());
        seen.add(new Seen(key, value, version, true));
      } else {
        failures++;
      }
    }

    private void read(String node, String key) throws IOException, InterruptedException {
      HttpResponse<String> response = http.send(request(node, key).GET().build(), HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() == 200) {
        seen.add(new Seen(key, response.body(), etag(response), false));
      } else if (response.statusCode() != 404) {
        failures++;
      }
    }

    private static HttpRequest.Builder request(String node, String key) {
      return HttpRequest.newBuilder(URI.create("http://" + node + "/kv/" + key)).timeout(Duration.ofSeconds(5));
    }
  }

  private static Version etag(HttpResponse<String> response) {
    return Version.parse(response.headers().firstValue("ETag").orElseThrow().replace("\"", ""));
  }

  @Test
  public void acknowledgedWritesSurviveKillingOneReplicaAndThenAllThree() throws Exception {
    // The seed fixes the clients' choices of keys and operations; the timing of real processes
    // is not replayable, so a replay runs the same workload, not the same interleaving.
    long seed = Long.getLong("quorumkv.test.seed", System.nanoTime());
    System.out.println("DurabilityIT seed " + seed + " (the same workload again with -Dquorumkv.test.seed=" + seed + ")");
    try (LocalCluster cluster = new LocalCluster(ClusterFixture.REPLICA_JAR, logDir(), JVM_OPTIONS, Map.of())) {
      AtomicBoolean stop = new AtomicBoolean();
      List<Client> clients = new ArrayList<>();
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < CLIENTS; i++) {
        Client client = new Client(i, cluster, seed, stop);
        clients.add(client);
        Thread thread = new Thread(client, "client-" + i);
        threads.add(thread);
        thread.start();
      }
      Thread.sleep(2_000);
      cluster.replica(1).kill(); // kill -9 mid-way...
      Thread.sleep(1_000);
      cluster.restart(1); // ...and back on its own data
      Thread.sleep(2_000);
      stop.set(true);
      for (Thread thread : threads) {
        thread.join(30_000);
        assertTrue("client finished", !thread.isAlive());
      }
      List<Seen> seen = new ArrayList<>();
      int failures = 0;
      for (Client client : clients) {
        seen.addAll(client.seen);
        failures += client.failures;
      }
      List<Seen> acknowledged = seen.stream().filter(Seen::acknowledgedWrite).toList();
      System.out.println("acknowledged writes " + acknowledged.size() + ", quorum reads "
          + (seen.size() - acknowledged.size()) + ", failed or refused " + failures);
      assertTrue("the workload acknowledged writes", acknowledged.size() > 100);

      for (ReplicaProcess replica : cluster.replicas()) {
        replica.kill(); // all three at once, no shutdown hook
      }
      assertEveryAcknowledgedWriteIsOnWReplicasDisks(cluster, acknowledged);

      // All started before any is waited for: a replica's clock needs a peer to confirm it.
      for (int i = 0; i < 3; i++) {
        cluster.restartLive(i);
      }
      for (int i = 0; i < 3; i++) {
        cluster.replica(i).awaitHealthy(LocalCluster.START_LIMIT);
      }
      assertClusterReturnsWhatWasSeen(cluster, seen);
    }
  }

  /** Opens each killed replica's RocksDB directory and counts who durably holds each write. */
  private static void assertEveryAcknowledgedWriteIsOnWReplicasDisks(LocalCluster cluster, List<Seen> acknowledged) {
    List<Storage> storages = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        storages.add(RocksDbStorage.open(cluster.dataDirectory(i), FsyncMode.ALWAYS));
      }
      for (Seen write : acknowledged) {
        int holders = 0;
        for (Storage storage : storages) {
          Optional<Record> held = storage.get(write.key());
          if (held.isPresent() && held.get().version().compareTo(write.version()) >= 0) {
            holders++;
          }
        }
        assertTrue(write + " is durably held by only " + holders + " replicas", holders >= 2);
      }
    } finally {
      storages.forEach(Storage::close);
    }
  }

  private static void assertClusterReturnsWhatWasSeen(LocalCluster cluster, List<Seen> seen) throws Exception {
    Map<String, Version> newestSeen = new HashMap<>();
    for (Seen entry : seen) {
      if (SHARED_KEYS.contains(entry.key())) {
        newestSeen.merge(entry.key(), entry.version(), Version::max);
      } else {
        HttpResponse<String> read = send("GET", cluster.replica(entry.hashCode() & 1).address(), "/kv/" + entry.key(), null);
        assertEquals(entry.key(), 200, read.statusCode());
        assertEquals(entry.value(), read.body());
      }
    }
    for (Map.Entry<String, Version> shared : newestSeen.entrySet()) {
      HttpResponse<String> read = send("GET", cluster.replica(2).address(), "/kv/" + shared.getKey(), null);
      assertEquals(200, read.statusCode());
      Version fin = etag(read);
      assertTrue(shared.getKey() + " went back from " + shared.getValue() + " to " + fin,
          fin.compareTo(shared.getValue()) >= 0);
    }
  }

  @Test
  public void replicaKeepsItsIdAndItsClockNeverGoesBackAcrossKillAndWallClockSetBack() throws Exception {
    Path logDir = logDir();
    LocalCluster.deleteRecursively(logDir);
    int port = ReplicaProcess.freePort();
    String address = "127.0.0.1:" + port;
    // A single replica (N=1) isolates its own clock: no peer can carry it forward.
    ReplicaProcess replica = ReplicaProcess.start(ClusterFixture.REPLICA_JAR, "solo", port, SOLO, List.of(), logDir);
    String replicaId;
    Version issued;
    try {
      replica.awaitHealthy(LocalCluster.START_LIMIT);
      replicaId = JSON.readTree(send("GET", address, "/health", null).body()).get("replicaId").asText();
      HttpResponse<String> first = send("PUT", address, "/kv/k", "before");
      assertEquals(200, first.statusCode());
      issued = etag(first);
      replica.kill(); // right after issuing a version
    } finally {
      replica.close();
    }
    // Set back by less than max-clock-offset (5 s): a plain restart, the mark is adopted.
    replica = ReplicaProcess.start(ClusterFixture.REPLICA_JAR, "solo", port, Map.of("CLOCK_OFFSET", "-3s", ALLOW_SINGLE_REPLICA, "true"),
        List.of(),
        logDir);
    Version next;
    try {
      replica.awaitHealthy(LocalCluster.START_LIMIT);
      String replicaIdAfter = JSON.readTree(send("GET", address, "/health", null).body()).get("replicaId").asText();
      HttpResponse<String> second = send("PUT", address, "/kv/other", "after");
      assertEquals(200, second.statusCode());
      next = etag(second);
      assertTrue(next + " must be above " + issued + ", issued before the crash", next.isAfter(issued));
      assertEquals(replicaId, replicaIdAfter);
      assertEquals(Long.parseUnsignedLong(replicaId, 16), next.replicaId());
      assertEquals("before", send("GET", address, "/kv/k", null).body());
      replica.kill();
    } finally {
      replica.close();
    }
    // Set back by ten minutes: the mark is never adopted (docs/clock-discipline.md, rule 2). A
    // new replica id with a fresh clock: its versions follow the wall clock and cannot collide.
    replica = ReplicaProcess.start(ClusterFixture.REPLICA_JAR, "solo", port, Map.of("CLOCK_OFFSET", "-10m", ALLOW_SINGLE_REPLICA, "true"),
        List.of(),
        logDir);
    try {
      replica.awaitHealthy(LocalCluster.START_LIMIT);
      String freshId = JSON.readTree(send("GET", address, "/health", null).body()).get("replicaId").asText();
      assertTrue("a new replica id, not " + replicaId, !freshId.equals(replicaId));
      HttpResponse<String> third = send("PUT", address, "/kv/third", "fresh");
      assertEquals(200, third.statusCode());
      Version fresh = etag(third);
      assertEquals(Long.parseUnsignedLong(freshId, 16), fresh.replicaId());
      long skewedWall = System.currentTimeMillis() - Duration.ofMinutes(10).toMillis();
      assertTrue(fresh + " follows the (set back) wall clock",
          Math.abs(HybridLogicalClock.millisOf(fresh.hlc()) - skewedWall) < Duration.ofMinutes(1).toMillis());
      // "k" was written ten minutes ahead of this clock: refused, never served as absent.
      assertEquals(503, send("GET", address, "/kv/k", null).statusCode());
      assertTrue(Files.readString(logDir.resolve("solo.log")).contains("Not adopting it"));
    } finally {
      replica.close();
    }
  }

  @Test
  public void secondReplicaOnTheSameDataDirectoryExitsWithAClearMessageAndTheOwnerStopsCleanly() throws Exception {
    Path logDir = logDir();
    LocalCluster.deleteRecursively(logDir);
    int port = ReplicaProcess.freePort();
    ReplicaProcess owner = ReplicaProcess.start(ClusterFixture.REPLICA_JAR, "owner", port, SOLO, List.of(), logDir);
    try {
      owner.awaitHealthy(LocalCluster.START_LIMIT);
      assertEquals(200, send("PUT", owner.address(), "/kv/k", "v").statusCode());
      ReplicaProcess intruder = ReplicaProcess.start(ClusterFixture.REPLICA_JAR, "intruder", ReplicaProcess.freePort(),
          Map.of("DATA_DIR", logDir.resolve("owner-data").toString(), ALLOW_SINGLE_REPLICA, "true"), List.of(), logDir);
      try {
        assertEquals(4, intruder.awaitExit(Duration.ofSeconds(60)));
      } finally {
        intruder.close();
      }
      String output = java.nio.file.Files.readString(intruder.log());
      assertTrue(output, output.contains("is locked by another process (is another replica using it?)"));
      assertEquals("the owner keeps serving its data", "v", send("GET", owner.address(), "/kv/k", null).body());
      assertEquals(200, send("PUT", owner.address(), "/kv/k2", "v2").statusCode());

      // 143 = 128 + SIGTERM: the JVM's status after its shutdown hooks (Akka's coordinated
      // shutdown) ran to the end; a crash or a forced kill would not log "Storage closed".
      assertEquals("a clean stop on SIGTERM", 143, owner.stop());
      String ownerLog = java.nio.file.Files.readString(owner.log());
      assertTrue(ownerLog, ownerLog.contains("Storage closed"));
      try (Storage storage = RocksDbStorage.open(logDir.resolve("owner-data"), FsyncMode.ALWAYS)) {
        assertTrue(storage.get("k").isPresent());
        assertTrue(storage.get("k2").isPresent());
      }
    } finally {
      owner.close();
    }
  }
}
