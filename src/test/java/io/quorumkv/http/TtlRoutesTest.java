package io.quorumkv.http;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.testkit.JUnitRouteTest;
import akka.http.javadsl.testkit.TestRoute;
import akka.http.javadsl.testkit.TestRouteResult;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quorumkv.store.KeyedRecord;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Capabilities;
import io.quorumkv.store.Value;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.time.Instant;
import java.util.List;
import org.junit.Before;
import org.junit.Test;

/**
 * Goal: the TTL of the public API (docs/listing-watch-ttl.md, "Expiring keys"): the {@code ttl}
 * parameter's forms and limits, {@code expiresAt} in a PUT's answer, {@code Expires-At} on a GET
 * and in listings, an expired value absent to reads, listings and conditions, and the 503 while a
 * peer's build does not store TTL records. Method: the real routes over a real StoreActor (one
 * replica, or one whose two peers are down); an expired record is placed in storage with a
 * version from the past, so nothing waits on the clock.
 */
public class TtlRoutesTest extends JUnitRouteTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private RouteFixture fixture;
  private TestRoute single;

  @Before
  public void createRoutes() {
    fixture = new RouteFixture(system(), "", 0);
    single = testRoute(fixture.route);
  }

  private static JsonNode json(TestRouteResult result) {
    try {
      return JSON.readTree(result.entityString());
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  private static TestRouteResult put(TestRoute route, String path, String body) {
    return route.run(HttpRequest.PUT(path).withEntity(ContentTypes.APPLICATION_OCTET_STREAM, body.getBytes()));
  }

  private static String expiresAtHeader(TestRouteResult result) {
    return result.response().getHeader(PublicRoutes.EXPIRES_AT_HEADER).map(HttpHeader::value).orElse(null);
  }

  @Test
  public void aMalformedOrOutOfRangeTtlIs400AndWritesNothing() {
    for (String ttl : List.of("0s", "999ms", "30", "30%20s", "-1s", "1.5s", "10y", "3653d", "315576000001ms",
        "99999999999999999d", "s")) {
      TestRouteResult refused = put(single, "/kv/k?ttl=" + ttl, "v").assertStatusCode(400);
      assertTrue(ttl + ": " + refused.entityString(), json(refused).get("error").asText().contains("ttl"));
    }
    single.run(HttpRequest.GET("/kv/k")).assertStatusCode(404);
    // the bounds themselves are TTLs
    put(single, "/kv/k?ttl=1000ms", "v").assertStatusCode(200);
    put(single, "/kv/k?ttl=315576000000ms", "v").assertStatusCode(200);
    put(single, "/kv/k?ttl=3652d", "v").assertStatusCode(200);
    assertTrue(json(single.run(HttpRequest.DELETE("/kv/k?ttl=5s")).assertStatusCode(400)).get("error").asText()
        .contains("ttl"));
  }

  @Test
  public void aTtlWriteAnswersItsExpiryWhichGetsAndListingsShowUntilAPlainPutMakesTheKeyPermanent() {
    JsonNode written = json(put(single, "/kv/app%2Fk?ttl=2h", "v").assertStatusCode(200));
    Version version = Version.parse(written.get("version").asText());
    Instant expected = Instant.ofEpochMilli(HybridLogicalClock.millisOf(version.hlc()) + 7_200_000L);
    assertEquals(expected.toString(), written.get("expiresAt").asText());

    TestRouteResult read = single.run(HttpRequest.GET("/kv/app%2Fk")).assertStatusCode(200);
    read.assertEntity("v");
    assertEquals(expected.toString(), expiresAtHeader(read));
    JsonNode listed = json(single.run(HttpRequest.GET("/kv?prefix=app/")).assertStatusCode(200));
    assertEquals(expected.toString(), listed.get("items").get(0).get("expiresAt").asText());

    JsonNode permanent = json(put(single, "/kv/app%2Fk", "w").assertStatusCode(200));
    assertFalse(permanent.has("expiresAt"));
    TestRouteResult again = single.run(HttpRequest.GET("/kv/app%2Fk")).assertStatusCode(200);
    again.assertEntity("w");
    assertEquals(null, expiresAtHeader(again));
    assertFalse(json(single.run(HttpRequest.GET("/kv?prefix=app/"))).get("items").get(0).has("expiresAt"));
  }

  @Test
  public void anExpiredValueIsAbsentToReadsListingsAndConditions() {
    long tenSecondsAgo = HybridLogicalClock.fromMillis(System.currentTimeMillis() - 10_000);
    Version old = new Version(tenSecondsAgo, 77L);
    fixture.storage.applyIfNewer(List.of(
        new KeyedRecord("gone", new Record(old, Value.ofUtf8("stale"), 1_000L)),
        new KeyedRecord("kept", new Record(old, Value.ofUtf8("fresh"), 3_600_000L))));

    single.run(HttpRequest.GET("/kv/gone")).assertStatusCode(404);
    single.run(HttpRequest.GET("/kv/kept")).assertStatusCode(200).assertEntity("fresh");
    JsonNode items = json(single.run(HttpRequest.GET("/kv")).assertStatusCode(200)).get("items");
    assertEquals(1, items.size());
    assertEquals("kept", items.get(0).get("key").asText());

    // If-Match of the expired version is false (412 with no current version); If-None-Match: * holds.
    TestRouteResult stale = single.run(HttpRequest.PUT("/kv/gone")
        .addHeader(HttpHeader.parse("If-Match", "\"" + old + "\""))
        .withEntity(ContentTypes.APPLICATION_OCTET_STREAM, "x".getBytes())).assertStatusCode(412);
    assertTrue(json(stale).get("currentVersion").isNull());
    single.run(HttpRequest.PUT("/kv/gone").addHeader(HttpHeader.parse("If-None-Match", "*"))
        .withEntity(ContentTypes.APPLICATION_OCTET_STREAM, "new".getBytes())).assertStatusCode(200);
    single.run(HttpRequest.GET("/kv/gone")).assertStatusCode(200).assertEntity("new");
    // the value still there is not absent: If-None-Match: * is false on it
    single.run(HttpRequest.PUT("/kv/kept").addHeader(HttpHeader.parse("If-None-Match", "*"))
        .withEntity(ContentTypes.APPLICATION_OCTET_STREAM, "x".getBytes())).assertStatusCode(412);
  }

  @Test
  public void aTtlIsRefused503NotAppliedUntilEveryPeerSaysItStoresTtlRecords() {
    RouteFixture withPeers = new RouteFixture(system(),
        "quorumkv.write-timeout = 300ms\nquorumkv.read-timeout = 300ms\nquorumkv.peer-request-timeout = 200ms", 2);
    TestRoute route = testRoute(withPeers.route);
    JsonNode gated = json(put(route, "/kv/k?ttl=30s", "v").assertStatusCode(503));
    assertTrue(gated.get("error").asText().contains("ttl not available"));
    assertEquals("not-applied", gated.get("outcome").asText());
    assertEquals("dead1", gated.get("peer").asText());

    withPeers.capabilities.answered("dead1", 1L, Capabilities.OF_THIS_BUILD);
    assertEquals("dead2", json(put(route, "/kv/k?ttl=30s", "v").assertStatusCode(503)).get("peer").asText());
    withPeers.capabilities.answered("dead2", 2L, List.of());
    assertEquals("dead2", json(put(route, "/kv/k?ttl=30s", "v").assertStatusCode(503)).get("peer").asText());
    withPeers.capabilities.answered("dead2", 2L, Capabilities.OF_THIS_BUILD);
    // Now offered: the write itself fails on the dead peers, as any write does.
    JsonNode attempted = json(put(route, "/kv/k?ttl=30s", "v").assertStatusCode(503));
    assertEquals("write quorum not reached", attempted.get("error").asText());
    withPeers.capabilities.answered("dead1", 3L, List.of()); // back under a new id, on an older build
    assertEquals("dead1", json(put(route, "/kv/k?ttl=30s", "v").assertStatusCode(503)).get("peer").asText());
  }
}
