package io.quorumkv.cluster;

import static io.quorumkv.cluster.ClusterFixture.send;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TestName;
import io.quorumkv.torture.LocalCluster;
import io.quorumkv.torture.ReplicaProcess;

/**
 * Goal: the mission end to end, with real replica JVMs from the built jar talking real HTTP on
 * loopback, configured only through the environment contract. Method: each test starts its own
 * three-replica cluster on free ports, injects its fault (a cut link, kill -9), checks what
 * clients see and what each replica holds, and stops every process by PID.
 */
public class ClusterIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(1);
  private static final List<String> JVM_OPTIONS = List.of(
      "-Dquorumkv.write-timeout=" + WRITE_TIMEOUT.toMillis() + "ms",
      "-Dquorumkv.read-timeout=" + WRITE_TIMEOUT.toMillis() + "ms",
      "-Dquorumkv.peer-request-timeout=800ms");

  @Rule
  public final TestName testName = new TestName();

  private Path logDir() {
    return Path.of("target", "cluster-it", testName.getMethodName());
  }

  private static JsonNode json(HttpResponse<String> response) throws IOException {
    assertTrue("JSON body expected: " + response.headers().map(),
        response.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
    return JSON.readTree(response.body());
  }

  /** Polls {@code path} on {@code address} until it answers {@code status}, bounded in time. */
  private static HttpResponse<String> awaitStatus(String address, String path, int status, Duration limit)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    HttpResponse<String> response;
    do {
      response = send("GET", address, path, null);
      if (response.statusCode() == status) {
        return response;
      }
      Thread.sleep(100);
    } while (System.nanoTime() < deadline);
    throw new AssertionError(address + path + " answered " + response.statusCode() + " " + response.body()
        + ", not " + status + ", for " + limit);
  }

  @Test
  public void clientScenarioReadsBothKeysThroughAReplicaThatMissedBothWrites() throws Exception {
    // peer0 and peer1 know peer2 only at a port where nothing listens: every connection they
    // open to it is refused, for the whole test. peer2 knows both of them correctly.
    int refused = ReplicaProcess.freePort();
    Map<String, String> cutToPeer2 = Map.of("PEER_PEER2_HOST", "127.0.0.1", "PEER_PEER2_PORT", Integer.toString(refused));
    try (LocalCluster cluster = new LocalCluster(ClusterFixture.REPLICA_JAR, logDir(), JVM_OPTIONS, Map.of(0, cutToPeer2, 1, cutToPeer2))) {
      String peer2 = cluster.replica(2).address();
      // Unconfigured, a replica serves the public API to anyone, and says so at start.
      String startLog = Files.readString(cluster.replica(2).log());
      assertTrue(startLog, startLog.contains("answers anyone who reaches it (no AUTH_TOKENS_FILE)")
          && startLog.contains("Plain HTTP on port"));

      Path workDir = Files.createDirectories(logDir().resolve("client"));
      Files.deleteIfExists(workDir.resolve("result.txt"));
      ProcessBuilder client = new ProcessBuilder(ReplicaProcess.javaBinary(), "-jar", ClusterFixture.CLIENT_JAR.toString())
          .directory(workDir.toFile())
          .redirectErrorStream(true)
          .redirectOutput(workDir.resolve("client.log").toFile());
      client.environment().keySet().removeIf(key -> key.startsWith("PEER_"));
      client.environment().putAll(cluster.peerEnvironment(-1));
      Process process = client.start();
      try {
        assertTrue("client scenario finished in time", process.waitFor(90, TimeUnit.SECONDS));
        assertEquals("client exit status; output: " + Files.readString(workDir.resolve("client.log")),
            0, process.exitValue());
      } finally {
        process.destroyForcibly();
      }
      assertEquals("k1=alpha\nk2=beta\n", Files.readString(workDir.resolve("result.txt"), StandardCharsets.UTF_8));

      // peer2 really misses what peer0 and peer1 replicate among themselves...
      assertEquals(200, send("PUT", cluster.replica(0).address(), "/kv/k3", "gamma").statusCode());
      assertEquals(404, send("GET", peer2, "/kv/k3?consistency=one", null).statusCode());
      // ...and its quorum read still answers the acknowledged value, then holds it itself.
      HttpResponse<String> read = send("GET", peer2, "/kv/k3", null);
      assertEquals(200, read.statusCode());
      assertEquals("gamma", read.body());
      for (String key : List.of("k1", "k2", "k3")) {
        awaitStatus(peer2, "/kv/" + key + "?consistency=one", 200, Duration.ofSeconds(5));
      }
      JsonNode stats = json(send("GET", peer2, "/cluster", null)).get("stats");
      assertTrue(stats.toString(), stats.get("readWriteBacks").asLong() + stats.get("readRepairs").asLong() >= 3);
    }
  }

  @Test
  public void quorumWritesAndReadsKeepWorkingWithOneReplicaKilled() throws Exception {
    try (LocalCluster cluster = new LocalCluster(ClusterFixture.REPLICA_JAR, logDir(), JVM_OPTIONS, Map.of())) {
      cluster.replica(1).kill();
      Map<String, String> written = new HashMap<>();
      for (int i = 0; i < 20; i++) {
        String key = "key-" + i;
        String value = "value-" + i;
        HttpResponse<String> put = send("PUT", cluster.replica(i % 2 == 0 ? 0 : 2).address(), "/kv/" + key, value);
        assertEquals(put.body(), 200, put.statusCode());
        written.put(key, value);
      }
      for (Map.Entry<String, String> entry : written.entrySet()) {
        for (int replica : new int[] {0, 2}) {
          HttpResponse<String> get = send("GET", cluster.replica(replica).address(), "/kv/" + entry.getKey(), null);
          assertEquals(200, get.statusCode());
          assertEquals(entry.getValue(), get.body());
        }
      }
      assertEquals(200, send("DELETE", cluster.replica(0).address(), "/kv/key-0", null).statusCode());
      assertEquals(404, send("GET", cluster.replica(2).address(), "/kv/key-0", null).statusCode());
      // Pings notice the dead peer within a few intervals.
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      JsonNode peers = json(send("GET", cluster.replica(0).address(), "/cluster", null)).get("peers");
      while (peerNamed(peers, "peer1").get("reachable").asBoolean() && System.nanoTime() < deadline) {
        Thread.sleep(200);
        peers = json(send("GET", cluster.replica(0).address(), "/cluster", null)).get("peers");
      }
      assertEquals(peers.toString(), false, peerNamed(peers, "peer1").get("reachable").asBoolean());
      assertEquals(peers.toString(), true, peerNamed(peers, "peer2").get("reachable").asBoolean());
    }
  }

  private static JsonNode peerNamed(JsonNode peers, String name) {
    for (JsonNode peer : peers) {
      if (peer.get("name").asText().equals(name)) {
        return peer;
      }
    }
    throw new AssertionError("no peer " + name + " in " + peers);
  }

  /**
   * A PUT retried until it succeeds (bounded): the first requests of a fresh cluster meet cold
   * JVMs and new connections, which this class's 1 s write timeout does not always cover.
   */
  private static void putEventually(String address, String key, String value) throws Exception {
    HttpResponse<String> put = send("PUT", address, "/kv/" + key, value);
    for (int attempt = 1; attempt < 20 && put.statusCode() != 200; attempt++) {
      Thread.sleep(250);
      put = send("PUT", address, "/kv/" + key, value);
    }
    assertEquals(put.body(), 200, put.statusCode());
  }

  /** {@code /health/ready} once it answers {@code status}, or its last answer after a generous cap. */
  private static HttpResponse<String> awaitReadiness(String address, int status) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    HttpResponse<String> ready = send("GET", address, "/health/ready", null);
    while (ready.statusCode() != status && System.nanoTime() < deadline) {
      Thread.sleep(200);
      ready = send("GET", address, "/health/ready", null);
    }
    return ready;
  }

  @Test
  public void twoKilledReplicasGive503JsonWithinTheTimeout() throws Exception {
    try (LocalCluster cluster = new LocalCluster(ClusterFixture.REPLICA_JAR, logDir(), JVM_OPTIONS, Map.of())) {
      String peer0 = cluster.replica(0).address();
      putEventually(peer0, "before", "v");
      assertEquals("ready while all three run", 200, awaitReadiness(peer0, 200).statusCode());
      cluster.replica(1).kill();
      cluster.replica(2).kill();

      long started = System.nanoTime();
      HttpResponse<String> put = send("PUT", peer0, "/kv/after", "v");
      Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
      assertEquals(503, put.statusCode());
      JsonNode body = json(put);
      assertEquals("write quorum not reached", body.get("error").asText());
      assertEquals("version-query", body.get("phase").asText());
      assertEquals(1, body.get("acks").asInt());
      assertEquals(2, body.get("required").asInt());
      // Not a speed measurement: the bound proves the request cannot hang past its deadline.
      assertTrue("answered after " + elapsed, elapsed.compareTo(WRITE_TIMEOUT.plusSeconds(3)) < 0);

      HttpResponse<String> get = send("GET", peer0, "/kv/before", null);
      assertEquals(503, get.statusCode());
      assertEquals("read", json(get).get("phase").asText());
      assertTrue("the replica itself keeps serving", cluster.replica(0).isAlive());
      assertEquals(200, send("GET", peer0, "/health", null).statusCode());
      assertEquals(200, send("GET", peer0, "/health/live", null).statusCode());
      // Not ready once its pings have noticed both peers gone.
      HttpResponse<String> ready = awaitReadiness(peer0, 503);
      assertEquals(ready.body(), 503, ready.statusCode());
      assertEquals(ready.body(), "quorum unreachable: 1 of 3 replicas reachable, 2 needed",
          json(ready).get("reasons").get(0).asText());
    }
  }

  @Test
  public void badInputGets4xxJsonChangesNothingAndTheReplicaKeepsServing() throws Exception {
    try (LocalCluster cluster = new LocalCluster(ClusterFixture.REPLICA_JAR, logDir(), JVM_OPTIONS, Map.of())) {
      String peer0 = cluster.replica(0).address();
      putEventually(peer0, "k", "original");
      List<HttpResponse<String>> refused = new ArrayList<>();
      refused.add(send("PUT", peer0, "/kv/", "v"));
      refused.add(send("PUT", peer0, "/kv/" + "k".repeat(1025), "v"));
      refused.add(send("PUT", peer0, "/kv/k", "x".repeat(1024 * 1024 + 1)));
      refused.add(send("PUT", peer0, "/kv/k?consistency=sometimes", "v"));
      refused.add(send("POST", peer0, "/internal/v2/call", "this is not CBOR"));
      int[] expected = {400, 400, 413, 400, 400};
      for (int i = 0; i < expected.length; i++) {
        assertEquals(refused.get(i).body(), expected[i], refused.get(i).statusCode());
        assertTrue(json(refused.get(i)).has("error"));
      }
      for (int replica = 0; replica < 3; replica++) {
        HttpResponse<String> get = send("GET", cluster.replica(replica).address(), "/kv/k", null);
        assertEquals(200, get.statusCode());
        assertEquals("original", get.body());
      }
    }
  }
}
