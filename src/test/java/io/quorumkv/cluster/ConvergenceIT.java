package io.quorumkv.cluster;

import static io.quorumkv.cluster.ClusterFixture.send;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.quorumkv.store.ReplicaProtocol;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Buckets;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.GetBuckets;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.wire.InternalHttp;
import io.quorumkv.wire.WireCodec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TestName;
import io.quorumkv.torture.LocalCluster;
import io.quorumkv.torture.ReplicaProcess;
import io.quorumkv.torture.FaultProxy;

/**
 * Goal: a replica that was down while writes and deletes happened catches up on its own.
 * Method: real replica JVMs; replica C (peer2) is killed, 1,000 keys are written and 100 of
 * them deleted at quorum through A and B, C restarts; C's own storage is then read through its
 * internal endpoint (not through a quorum read, which would repair it) until it holds every
 * value and every tombstone, within a bound; finally all bucket hashes must be equal.
 */
public class ConvergenceIT {

  private static final Duration ANTI_ENTROPY_INTERVAL = Duration.ofSeconds(3);
  private static final int KEYS = 1_000;
  private static final int DELETED = 100;
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final ObjectMapper JSON = new ObjectMapper();

  @Rule
  public final TestName testName = new TestName();

  private Path logDir() {
    return Path.of("target", "cluster-it", testName.getMethodName());
  }

  private static Answer internal(String address, ReplicaProtocol.Request call) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + address + InternalHttp.CALL_TARGET))
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", WireCodec.CONTENT_TYPE)
        .POST(HttpRequest.BodyPublishers.ofByteArray(WireCodec.encode(call)))
        .build();
    HttpResponse<byte[]> response = HTTP.send(request, HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(call.toString(), 200, response.statusCode());
    return WireCodec.decode(response.body(), Answer.class);
  }

  /** What one replica holds for a key, as this test judges it. */
  private record Held(boolean found, boolean tombstone, byte[] value) {}

  /** What replica {@code address} itself holds for {@code key}, without any repair. */
  private static Held heldBy(String address, String key) throws Exception {
    RecordHeld held = (RecordHeld) internal(address, new Read(key, new Stamp(1L, 0L), Cause.READ));
    return held.record()
        .map(record -> new Held(true, record.isTombstone(), record.isTombstone() ? null : record.value().bytes()))
        .orElse(new Held(false, false, null));
  }

  private static String key(int i) {
    return "key-" + i;
  }

  /** Keys C does not hold as written: missing values, or values where a tombstone belongs. */
  private static List<String> missingOn(String address) throws Exception {
    List<Integer> all = new ArrayList<>();
    for (int i = 0; i < KEYS; i++) {
      all.add(i);
    }
    return missingOn(address, all);
  }

  /** Of {@code candidates} (key indexes), the keys C does not hold as written. */
  private static List<String> missingOn(String address, List<Integer> candidates) throws Exception {
    List<String> missing = new ArrayList<>();
    for (int i : candidates) {
      Held held = heldBy(address, key(i));
      boolean ok = i < DELETED
          ? held.found() && held.tombstone()
          : held.found() && !held.tombstone() && new String(held.value(), StandardCharsets.UTF_8).equals("value-" + i);
      if (!ok) {
        missing.add(key(i));
      }
    }
    return missing;
  }

  /**
   * Whether the repair mechanism under test has done all it needs to have done: from then on,
   * C must hold everything. Tests wait on this observable progress, never on the wall clock
   * (a slow machine makes rounds slower, not fewer).
   */
  @FunctionalInterface
  private interface Progress {
    boolean mustBeDone(LocalCluster cluster) throws Exception;
  }

  /** A generous cap, only against a hang: the real bound is the progress condition. */
  private static final Duration CATCH_UP_CAP = Duration.ofMinutes(3);

  private static JsonNode cluster(String address) throws Exception {
    return JSON.readTree(send("GET", address, "/cluster", null).body());
  }

  private static JsonNode peer(JsonNode cluster, String name) {
    for (JsonNode peer : cluster.get("peers")) {
      if (peer.get("name").asText().equals(name)) {
        return peer;
      }
    }
    throw new AssertionError("no peer " + name + " in " + cluster);
  }

  /** Anti-entropy rounds completed between C (peer2) and anyone, as counted now. */
  private static long roundsWithC(LocalCluster cluster) throws Exception {
    long rounds = 0;
    for (int replica = 0; replica < 2; replica++) {
      rounds += peer(cluster(cluster.replica(replica).address()), "peer2").get("antiEntropy").get("rounds").asLong();
    }
    JsonNode c = cluster(cluster.replica(2).address());
    for (String name : List.of("peer0", "peer1")) {
      rounds += peer(c, name).get("antiEntropy").get("rounds").asLong();
    }
    return rounds;
  }

  /** Kills C, writes and deletes through A and B, restarts C, and waits for C to catch up. */
  private void assertRestartedReplicaCatchesUp(LocalCluster cluster, Progress progress) throws Exception {
    Duration limit = CATCH_UP_CAP;
    cluster.replica(2).kill();
    for (int i = 0; i < KEYS; i++) {
      HttpResponse<String> put = send("PUT", cluster.replica(i % 2).address(), "/kv/" + key(i), "value-" + i);
      assertEquals(put.body(), 200, put.statusCode());
    }
    for (int i = 0; i < DELETED; i++) {
      assertEquals(200, send("DELETE", cluster.replica(i % 2).address(), "/kv/" + key(i), null).statusCode());
    }
    cluster.restart(2);
    long deadline = System.nanoTime() + limit.toNanos();
    String c = cluster.replica(2).address();
    // Repair may already be copying while this first look reads C.
    List<String> missing = missingOn(c);
    assertTrue("C restarts behind", !missing.isEmpty());
    boolean mustBeDone = false;
    while (!missing.isEmpty() && !mustBeDone && System.nanoTime() < deadline) {
      Thread.sleep(200);
      mustBeDone = progress.mustBeDone(cluster); // taken first: what C holds now must reflect it
      // Nothing writes meanwhile: a key C holds as written stays so; look again at the rest only.
      missing = missingOn(c, missing.stream().map(key -> Integer.parseInt(key.substring("key-".length()))).toList());
    }
    missing = missingOn(c); // all of them, once more
    assertTrue(missing.size() + " keys still missing on C (" + (mustBeDone ? "after the repair finished" : "after "
        + limit) + "), e.g. " + missing.stream().limit(5).toList()
        + "; peer0 sees " + send("GET", cluster.replica(0).address(), "/cluster", null).body(), missing.isEmpty());
  }

  private static void assertBucketHashesEqual(LocalCluster cluster) throws Exception {
    long[] first = ((Buckets) internal(cluster.replica(0).address(), new GetBuckets(new Stamp(1L, 0L)))).hashes();
    for (int replica = 1; replica < 3; replica++) {
      long[] other = ((Buckets) internal(cluster.replica(replica).address(), new GetBuckets(new Stamp(1L, 0L)))).hashes();
      assertArrayEquals("bucket hashes of peer0 and peer" + replica, first, other);
    }
  }

  @Test
  public void hintedHandoffAloneBringsARestartedReplicaUpToDateOnceItsHintsAreReplayed() throws Exception {
    // Tombstones must stay visible to the internal read that checks C (settled ones read as absent).
    List<String> options = List.of("-Dquorumkv.anti-entropy.enabled=false", "-Dquorumkv.hints.enabled=true",
        "-Dquorumkv.tombstones.sweep-interval=1h");
    try (LocalCluster cluster = new LocalCluster(ClusterFixture.REPLICA_JAR, logDir(), options, Map.of())) {
      // Once A and B have no hint pending, every one was acknowledged by C.
      assertRestartedReplicaCatchesUp(cluster, running -> {
        for (int replica = 0; replica < 2; replica++) {
          if (peer(cluster(running.replica(replica).address()), "peer2").get("hints").get("pending").asLong() > 0) {
            return false;
          }
        }
        return true;
      });
      assertBucketHashesEqual(cluster);
      for (int replica = 0; replica < 2; replica++) {
        String body = send("GET", cluster.replica(replica).address(), "/cluster", null).body();
        // Each of A and B coordinated every other key (and its delete): one hint per key.
        assertTrue(body, body.contains("\"hints\":{\"pending\":0,\"replayed\":" + KEYS / 2 + ","));
      }
    }
  }

  @Test
  public void antiEntropyAloneBringsARestartedReplicaUpToDateWithinThreeRounds() throws Exception {
    List<String> options = List.of(
        "-Dquorumkv.anti-entropy.interval=" + ANTI_ENTROPY_INTERVAL.toMillis() + "ms", "-Dquorumkv.hints.enabled=false",
        "-Dquorumkv.tombstones.sweep-interval=1h");
    try (LocalCluster cluster = new LocalCluster(ClusterFixture.REPLICA_JAR, logDir(), options, Map.of())) {
      // One complete round between C and either peer copies everything (both hold it all, and a
      // round moves up to 10,000 keys); three leave room for rounds cut short by C's restart.
      long[] baseline = {-1};
      assertRestartedReplicaCatchesUp(cluster, running -> {
        long rounds = roundsWithC(running);
        if (baseline[0] < 0) {
          baseline[0] = rounds; // first counted once C is back
        }
        return rounds - baseline[0] >= 3;
      });
      assertBucketHashesEqual(cluster);
    }
  }

  @Test
  public void keyDeletedWhileAReplicaIsCutOffStaysDeletedEverywhereAndIsPurgedOnlyAfterHealing() throws Exception {
    deleteWhileCutOff(false);
  }

  /**
   * The adversarial schedule: C holds nothing for the key, the write and the delete both miss
   * it (so A and B keep a hint for it, whose write is superseded), C stays away past the grace
   * period (the hints expire), then returns: the key stays deleted everywhere, then is purged.
   */
  @Test
  public void replicaThatHeldNothingAndMissedWriteAndDeleteNeverResurrectsTheKey() throws Exception {
    deleteWhileCutOff(true);
  }

  private void deleteWhileCutOff(boolean writeWhileCutOff) throws Exception {
    // Every link to and from C goes through a proxy that can cut it; clients reach all directly.
    // The proxies bind first, so the replicas' ports, chosen next, cannot collide with theirs.
    try (FaultProxy toC = new FaultProxy(); FaultProxy toA = new FaultProxy(); FaultProxy toB = new FaultProxy()) {
      int[] ports = {ReplicaProcess.freePort(), ReplicaProcess.freePort(), ReplicaProcess.freePort()};
      toA.forwardTo(ports[0]);
      toB.forwardTo(ports[1]);
      toC.forwardTo(ports[2]);
      Map<String, String> viaProxyToC = Map.of("PEER_PEER2_HOST", "127.0.0.1", "PEER_PEER2_PORT", Integer.toString(toC.port()));
      Map<String, String> cViaProxies = Map.of(
          "PEER_PEER0_HOST", "127.0.0.1", "PEER_PEER0_PORT", Integer.toString(toA.port()),
          "PEER_PEER1_HOST", "127.0.0.1", "PEER_PEER1_PORT", Integer.toString(toB.port()));
      // Grace = hint expiry + max-message-age + skew margin = 2 s + 3 s + 2 s (the least a 1 s
      // max-clock-offset allows).
      List<String> options = List.of(
          "-Dquorumkv.anti-entropy.interval=" + ANTI_ENTROPY_INTERVAL.toMillis() + "ms", "-Dquorumkv.max-clock-offset=1s",
          "-Dquorumkv.hints.expiry=2s", "-Dquorumkv.max-message-age=3s", "-Dquorumkv.tombstones.skew-margin=2s",
          "-Dquorumkv.tombstones.sweep-interval=1s", "-Dquorumkv.tombstones.purge-check-interval=500ms");
      Duration grace = Duration.ofSeconds(7);
      try (LocalCluster cluster = new LocalCluster(ClusterFixture.REPLICA_JAR, logDir(), options, Map.of(0, viaProxyToC, 1, viaProxyToC, 2, cViaProxies),
          ports)) {
        String a = cluster.replica(0).address();
        String c = cluster.replica(2).address();
        if (!writeWhileCutOff) {
          assertEquals(200, send("PUT", a, "/kv/doomed", "alive").statusCode());
          awaitHeldBy(c, "doomed", held -> held.found() && !held.tombstone());
        }

        toC.cut();
        toA.cut();
        toB.cut();
        if (writeWhileCutOff) {
          assertEquals(200, send("PUT", a, "/kv/doomed", "alive").statusCode());
          assertTrue("C holds nothing", !heldBy(c, "doomed").found());
        }
        assertEquals(200, send("DELETE", a, "/kv/doomed", null).statusCode());
        Thread.sleep(grace.multipliedBy(2).toMillis()); // C stays away well past the grace period
        Held stale = heldBy(c, "doomed");
        assertTrue("C, cut off, missed the delete", writeWhileCutOff ? !stale.found() : stale.found() && !stale.tombstone());
        for (int replica = 0; replica < 2; replica++) {
          Held kept = heldBy(cluster.replica(replica).address(), "doomed");
          assertTrue("A and B keep the tombstone while C cannot confirm it", kept.found() && kept.tombstone());
        }

        toC.heal();
        toA.heal();
        toB.heal();
        // C catches up (anti-entropy: its hints expired), the tombstone settles, and after the
        // grace it is purged everywhere. At no point may the value come back.
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        int purged = 0;
        while (purged < 3 && System.nanoTime() < deadline) {
          purged = 0;
          for (int replica = 0; replica < 3; replica++) {
            String address = cluster.replica(replica).address();
            Held held = heldBy(address, "doomed");
            boolean staleOnC = replica == 2 && held.found() && !held.tombstone();
            assertTrue("the value came back on peer" + replica, !held.found() || held.tombstone() || staleOnC);
            if (replica < 2 || !staleOnC) {
              assertEquals(404, send("GET", address, "/kv/doomed", null).statusCode());
            }
            if (send("GET", address, "/cluster", null).body().contains("\"tombstonesPurged\":1")) {
              purged++;
            }
          }
          Thread.sleep(200);
        }
        assertEquals("replicas that purged the tombstone", 3, purged);
        for (int replica = 0; replica < 3; replica++) {
          String address = cluster.replica(replica).address();
          assertEquals(404, send("GET", address, "/kv/doomed", null).statusCode());
          assertTrue(!heldBy(address, "doomed").found());
        }
      }
    }
  }

  @Test
  public void wipedReplicaCountsTowardNoQuorumUntilItHasPulledFromEveryPeer() throws Exception {
    List<String> options = new java.util.ArrayList<>(ClusterFixture.FAST_REBUILD);
    options.add("-Dquorumkv.anti-entropy.interval=" + ANTI_ENTROPY_INTERVAL.toMillis() + "ms");
    try (LocalCluster cluster = new LocalCluster(ClusterFixture.REPLICA_JAR, logDir(), options, Map.of())) {
      String b = cluster.replica(1).address();
      for (int i = 0; i < 50; i++) {
        assertEquals(200, send("PUT", b, "/kv/" + key(i), "value-" + i).statusCode());
      }
      // A goes down; C loses its data directory and comes back while A is still down.
      cluster.replica(0).kill();
      cluster.replica(2).kill();
      LocalCluster.deleteRecursively(cluster.dataDirectory(2));
      cluster.restartLive(2);
      String c = cluster.replica(2).address();
      long until = System.nanoTime() + ANTI_ENTROPY_INTERVAL.multipliedBy(2).toNanos();
      while (System.nanoTime() < until) {
        for (String node : List.of(b, c)) {
          HttpResponse<String> read = send("GET", node, "/kv/" + key(7), null);
          // Never a missing or stale value: without A, and with C not counting, only 503.
          assertEquals(read.body(), 503, read.statusCode());
        }
        Thread.sleep(200);
      }
      String health = send("GET", c, "/health", null).body();
      assertTrue(health, health.contains("\"incarnation\":\"rebuilding\""));

      cluster.restart(0);
      // C pulls from A too, waits out max-message-age, checks its peers' proposals, pulls again, counts.
      cluster.replica(2).awaitHealthy(Duration.ofSeconds(90));
      for (int i = 0; i < 50; i++) {
        HttpResponse<String> read = send("GET", c, "/kv/" + key(i) + "?consistency=one", null);
        assertEquals(200, read.statusCode());
        assertEquals("value-" + i, read.body());
      }
      assertEquals("value-7", send("GET", b, "/kv/" + key(7), null).body());
    }
  }

  @Test
  public void deadReplicaBlocksPurgingUntilAnOperatorRetiresIt() throws Exception {
    List<String> options = List.of(
        "-Dquorumkv.max-clock-offset=1s", "-Dquorumkv.hints.expiry=2s", "-Dquorumkv.max-message-age=3s",
        "-Dquorumkv.tombstones.skew-margin=2s",
        "-Dquorumkv.tombstones.sweep-interval=1s", "-Dquorumkv.tombstones.purge-check-interval=500ms");
    try (LocalCluster cluster = new LocalCluster(ClusterFixture.REPLICA_JAR, logDir(), options, Map.of())) {
      String a = cluster.replica(0).address();
      String b = cluster.replica(1).address();
      cluster.replica(2).kill(); // for good
      assertEquals(200, send("PUT", a, "/kv/gone", "v").statusCode());
      assertEquals(200, send("DELETE", a, "/kv/gone", null).statusCode());
      Thread.sleep(Duration.ofSeconds(14).toMillis()); // twice the grace (2 s + 3 s + 2 s)
      for (String node : List.of(a, b)) {
        Held held = heldBy(node, "gone");
        assertTrue("the tombstone stays while peer2 cannot confirm it", held.found() && held.tombstone());
      }

      assertEquals(404, send("POST", a, "/admin/retire/nobody", null).statusCode());
      for (String node : List.of(a, b)) {
        HttpResponse<String> retired = send("POST", node, "/admin/retire/peer2", null);
        assertEquals(retired.body(), 200, retired.statusCode());
        assertTrue(send("GET", node, "/cluster", null).body().contains("\"name\":\"peer2\",\"address\""));
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
      int purged = 0;
      while (purged < 2 && System.nanoTime() < deadline) {
        Thread.sleep(200);
        purged = 0;
        for (String node : List.of(a, b)) {
          if (send("GET", node, "/cluster", null).body().contains("\"tombstonesPurged\":1")) {
            purged++;
          }
        }
      }
      assertEquals("replicas that purged after the retirement", 2, purged);
      assertEquals(404, send("GET", a, "/kv/gone", null).statusCode());
      assertTrue(send("GET", a, "/cluster", null).body().contains("\"retired\":true"));
    }
  }

  private static void awaitHeldBy(String address, String key, java.util.function.Predicate<Held> condition)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    Held held = heldBy(address, key);
    while (!condition.test(held) && System.nanoTime() < deadline) {
      Thread.sleep(100);
      held = heldBy(address, key);
    }
    assertTrue(address + " holds " + key + " as " + held, condition.test(held));
  }
}
