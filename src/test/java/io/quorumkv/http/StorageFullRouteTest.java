package io.quorumkv.http;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.testkit.JUnitRouteTest;
import akka.http.javadsl.testkit.TestRoute;
import akka.http.javadsl.testkit.TestRouteResult;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.function.BooleanSupplier;
import org.junit.Before;
import org.junit.Test;

/**
 * Goal: a replica whose storage cannot take writes (disk full, or over storage.bytes-max)
 * refuses them with a clear 503 that says nothing was applied, keeps serving reads, shows the
 * alarm in /cluster, /health and /metrics, and takes writes again by itself once there is room.
 * Method: the real routes, coordinators and StoreActor of a single replica over a memory
 * storage that fails its writes as a full disk does (the real ENOSPC of RocksDB is in
 * RocksDbDiskFullTest); every wait is on the alarm's state, under a generous cap.
 */
public class StorageFullRouteTest extends JUnitRouteTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long QUOTA = 64L << 20;

  private RouteFixture fixture;
  private TestRoute route;

  @Before
  public void createRoutes() {
    fixture = new RouteFixture(system(), "quorumkv.storage.bytes-max = 64MiB", 0);
    route = testRoute(fixture.route);
  }

  private TestRouteResult put(String key, String value) {
    return route.run(HttpRequest.PUT("/kv/" + key).withEntity(ContentTypes.APPLICATION_OCTET_STREAM, value.getBytes()));
  }

  private static JsonNode json(TestRouteResult result) {
    try {
      return JSON.readTree(result.entityString());
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 30 s: " + what);
      }
      Thread.sleep(20);
    }
  }

  @Test
  public void aFullDiskRefusesEveryWriteWithA503AndServesReadsUntilThereIsRoomAgain() throws Exception {
    put("k1", "alpha").assertStatusCode(200);
    fixture.storage.setFullForTests(true);

    // The write that meets the full disk: it reached the store, so its outcome is not known.
    TestRouteResult first = put("k2", "beta").assertStatusCode(503);
    assertEquals("indeterminate", json(first).get("outcome").asText());
    assertTrue(fixture.storageAlarm.isDiskFull());

    // From now on the coordinator refuses before starting: clearly not applied.
    for (TestRouteResult refused : new TestRouteResult[] {put("k3", "gamma"),
        route.run(HttpRequest.DELETE("/kv/k1"))}) {
      JsonNode body = json(refused.assertStatusCode(503));
      assertEquals("storage", body.get("phase").asText());
      assertEquals("not-applied", body.get("outcome").asText());
      assertTrue(body.get("error").asText(), body.get("error").asText().startsWith("storage full"));
    }
    route.run(HttpRequest.GET("/kv/k1")).assertStatusCode(200).assertEntity("alpha");
    route.run(HttpRequest.GET("/kv/k3")).assertStatusCode(404);
    JsonNode storage = json(route.run(HttpRequest.GET("/cluster")).assertStatusCode(200)).get("storage");
    assertEquals("refused: disk full", storage.get("writes").asText());
    assertTrue(storage.get("writesRefused").asLong() >= 3);
    assertEquals("full", json(route.run(HttpRequest.GET("/health")).assertStatusCode(200)).get("storage").asText());
    String metrics = route.run(HttpRequest.GET("/metrics")).assertStatusCode(200).entityString();
    assertTrue(metrics, metrics.contains("quorumkv_storage_writes_refused 2.0"));

    fixture.storage.setFullForTests(false);
    await("the disk probe finds room", () -> !fixture.storageAlarm.isDiskFull());
    put("k3", "gamma").assertStatusCode(200);
    route.run(HttpRequest.GET("/kv/k3")).assertStatusCode(200).assertEntity("gamma");
    assertEquals("ok", json(route.run(HttpRequest.GET("/health"))).get("storage").asText());
  }

  @Test
  public void overTheQuotaValuesAreRefusedAndDeletesTaken() throws Exception {
    put("k1", "alpha").assertStatusCode(200);
    put("k2", "beta").assertStatusCode(200);
    fixture.storage.setBytesOnDiskForTests(QUOTA);
    await("the size check sees the quota reached", fixture.storageAlarm::refusesWrites);

    JsonNode refused = json(put("k3", "gamma").assertStatusCode(503));
    assertEquals("storage", refused.get("phase").asText());
    assertEquals("not-applied", refused.get("outcome").asText());
    assertTrue(refused.get("error").asText(), refused.get("error").asText().startsWith("storage quota reached"));
    put("k1", "alpha2").assertStatusCode(503); // an overwrite is a new value too
    route.run(HttpRequest.DELETE("/kv/k2")).assertStatusCode(200);
    route.run(HttpRequest.GET("/kv/k2")).assertStatusCode(404);
    route.run(HttpRequest.GET("/kv/k1")).assertStatusCode(200).assertEntity("alpha");
    JsonNode storage = json(route.run(HttpRequest.GET("/cluster"))).get("storage");
    assertEquals("values refused: quota reached", storage.get("writes").asText());
    assertEquals(QUOTA, storage.get("bytesMax").asLong());
    assertEquals("over-quota", json(route.run(HttpRequest.GET("/health"))).get("storage").asText());

    fixture.storage.setBytesOnDiskForTests(QUOTA - 1);
    await("the size check sees room under the quota", () -> !fixture.storageAlarm.refusesWrites());
    put("k3", "gamma").assertStatusCode(200);
  }
}
