package io.quorumkv.cluster;

import static io.quorumkv.cluster.ClusterFixture.send;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.torture.LocalCluster;
import io.quorumkv.wire.InternalHttp;
import io.quorumkv.wire.WireCodec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TestName;

/**
 * Goal: expiring keys (docs/listing-watch-ttl.md, "Expiring keys") on real replica processes over
 * real HTTP. A key with a TTL reads 200 on every replica well before its expiry and 404 after it
 * (plus max-clock-offset), leaves listings, settles and is purged on all three; a replica that
 * was down through the TTL write and the expiry, holding the older value, never brings that value
 * back (the expired record does not settle without it, anti-entropy and hints bring it the record);
 * a plain PUT after the expiry survives settlement and purging. Timing is asserted only with
 * margins: a check "before the expiry" is made only while the clock is well before it.
 */
public class TtlIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final Duration OFFSET = Duration.ofSeconds(1);
  /** Grace = hint expiry + max-message-age + skew margin = 2 s + 3 s + 2 s. */
  private static final List<String> OPTIONS = List.of(
      "-Dquorumkv.max-clock-offset=" + OFFSET.toMillis() + "ms", "-Dquorumkv.anti-entropy.interval=2s",
      "-Dquorumkv.hints.expiry=2s", "-Dquorumkv.max-message-age=3s", "-Dquorumkv.tombstones.skew-margin=2s",
      "-Dquorumkv.tombstones.sweep-interval=1s", "-Dquorumkv.tombstones.purge-check-interval=500ms",
      "-Dquorumkv.write-timeout=2s", "-Dquorumkv.read-timeout=2s", "-Dquorumkv.peer-request-timeout=800ms");
  private static final Duration WAIT_LIMIT = Duration.ofSeconds(90);

  @Rule
  public final TestName testName = new TestName();

  private Path logDir() {
    return Path.of("target", "cluster-it", testName.getMethodName());
  }

  /**
   * PUTs with a TTL, waiting (bounded) while the replica has not yet heard from every peer that its
   * build stores TTL records (503 "ttl not available"); answers the expiry.
   */
  private static Instant putWithTtl(String address, String key, String value, String ttl) throws Exception {
    long deadline = System.nanoTime() + WAIT_LIMIT.toNanos();
    while (true) {
      HttpResponse<String> answer = send("PUT", address, "/kv/" + key + "?ttl=" + ttl, value);
      if (answer.statusCode() == 200) {
        return Instant.parse(JSON.readTree(answer.body()).get("expiresAt").asText());
      }
      assertTrue(answer.body(), answer.statusCode() == 503 && answer.body().contains("ttl not available"));
      assertTrue("TTL writes still refused: " + answer.body(), System.nanoTime() < deadline);
      Thread.sleep(200);
    }
  }

  private static void awaitUntil(Instant instant) throws InterruptedException {
    long millis = Duration.between(Instant.now(), instant).toMillis();
    if (millis > 0) {
      Thread.sleep(millis);
    }
  }

  /** What replica {@code address} itself holds for {@code key}, read without any repair. */
  private static Optional<Record> heldBy(String address, String key) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + address + InternalHttp.CALL_TARGET))
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", WireCodec.CONTENT_TYPE)
        .POST(HttpRequest.BodyPublishers.ofByteArray(WireCodec.encode(new Read(key, new Stamp(1L, 0L), Cause.READ))))
        .build();
    HttpResponse<byte[]> response = HTTP.send(request, HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, response.statusCode());
    return ((RecordHeld) WireCodec.decode(response.body(), ReplicaProtocol.Answer.class)).record();
  }

  private static long tombstonesPurged(String address) throws Exception {
    JsonNode cluster = JSON.readTree(send("GET", address, "/cluster", null).body());
    return cluster.findValue("tombstonesPurged").asLong();
  }

  @Test
  public void aKeyWithATtlExpiresOnEveryReplicaLeavesListingsAndIsPurgedAndAPlainPutAfterItSurvives()
      throws Exception {
    try (LocalCluster cluster = new LocalCluster(ClusterFixture.REPLICA_JAR, logDir(), OPTIONS, Map.of())) {
      Instant expiresAt = putWithTtl(cluster.replica(0).address(), "session", "alive", "8s");
      if (Instant.now().isBefore(expiresAt.minus(OFFSET).minusSeconds(3))) {
        for (int i = 0; i < 3; i++) {
          HttpResponse<String> read = send("GET", cluster.replica(i).address(), "/kv/session", null);
          assertEquals("peer" + i + " well before the expiry", 200, read.statusCode());
          assertEquals("alive", read.body());
          assertEquals(expiresAt.toString(), read.headers().firstValue("Expires-At").orElseThrow());
        }
      }
      awaitUntil(expiresAt.plus(OFFSET).plusMillis(500));
      for (int i = 0; i < 3; i++) {
        String address = cluster.replica(i).address();
        assertEquals("peer" + i + " after the expiry", 404, send("GET", address, "/kv/session", null).statusCode());
        JsonNode items = JSON.readTree(send("GET", address, "/kv?prefix=sess", null).body()).get("items");
        assertEquals("peer" + i + " lists nothing", 0, items.size());
      }
      // Settled once expired for every reader (it then reads as absent even to a replica's own
      // read), purged after the grace: gone from every disk.
      awaitPurgedEverywhere(cluster, "session");

      // A plain PUT after the expiry is permanent: it survives sweeps, anti-entropy and purge checks.
      assertEquals(200, send("PUT", cluster.replica(1).address(), "/kv/session", "back").statusCode());
      Thread.sleep(6_000); // three sweeps, three anti-entropy rounds and twelve purge checks
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> read = send("GET", cluster.replica(i).address(), "/kv/session", null);
        assertEquals(200, read.statusCode());
        assertEquals("back", read.body());
        assertFalse(read.headers().firstValue("Expires-At").isPresent());
      }
    }
  }

  @Test
  public void aReplicaDownThroughTheTtlWriteAndItsExpiryNeverBringsBackTheOlderValue() throws Exception {
    try (LocalCluster cluster = new LocalCluster(ClusterFixture.REPLICA_JAR, logDir(), OPTIONS, Map.of())) {
      String a = cluster.replica(0).address();
      assertEquals(200, send("PUT", a, "/kv/lease", "old-holder").statusCode());
      putWithTtl(a, "warmup", "x", "1h"); // every peer's capabilities known before peer2 goes
      cluster.replica(2).kill();
      Instant expiresAt = putWithTtl(a, "lease", "new-holder", "2s");
      awaitUntil(expiresAt.plus(OFFSET).plusMillis(500));
      assertEquals(404, send("GET", a, "/kv/lease", null).statusCode());
      // Well past the point where the expired record would settle, were peer2 not missing it.
      Thread.sleep(OFFSET.multipliedBy(2).plusSeconds(3).toMillis());
      for (int i = 0; i < 2; i++) {
        Optional<Record> kept = heldBy(cluster.replica(i).address(), "lease");
        assertTrue("peer" + i + " keeps the expired record while peer2 cannot confirm it",
            kept.isPresent() && kept.get().hasTtl());
      }

      cluster.restart(2);
      // Hints or anti-entropy bring peer2 the expired record; only then does it settle and go.
      // A quorum read through any replica is 404 all along (through peer2 too: the newer
      // expired record of its peer is chosen over its own older value).
      awaitPurgedEverywhere(cluster, "lease");
    }
  }

  /**
   * Waits (bounded) until every replica counts a purge and holds nothing for {@code key}, checking
   * all along that a quorum read of it through each replica answers 404.
   */
  private static void awaitPurgedEverywhere(LocalCluster cluster, String key) throws Exception {
    long deadline = System.nanoTime() + WAIT_LIMIT.toNanos();
    int purged = 0;
    while (purged < 3 && System.nanoTime() < deadline) {
      purged = 0;
      for (int i = 0; i < 3; i++) {
        String address = cluster.replica(i).address();
        assertEquals("peer" + i, 404, send("GET", address, "/kv/" + key, null).statusCode());
        purged += tombstonesPurged(address) >= 1 && heldBy(address, key).isEmpty() ? 1 : 0;
      }
      Thread.sleep(250);
    }
    assertEquals("replicas that purged the expired record of " + key, 3, purged);
  }
}
