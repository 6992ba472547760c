package io.quorumkv.http;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.testkit.JUnitRouteTest;
import akka.http.javadsl.testkit.TestRoute;
import akka.http.javadsl.testkit.TestRouteResult;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import io.quorumkv.replication.InternalWire.ApplyCall;
import io.quorumkv.replication.InternalWire.KeyCall;
import io.quorumkv.replication.InternalWire.RecordReply;
import io.quorumkv.replication.InternalWire.VersionReply;
import io.quorumkv.replication.InternalWire;
import java.util.Map;
import org.junit.Before;
import org.junit.Test;

/**
 * Goal: the replica-to-replica endpoints answer the protocol in CBOR, refuse malformed calls
 * with a 400 JSON error without changing anything, and enforce the cluster secret when set.
 */
public class InternalRoutesTest extends JUnitRouteTest {

  private static final long HLC = io.quorumkv.version.HybridLogicalClock.fromMillis(System.currentTimeMillis());

  private TestRoute route;

  @Before
  public void createRoute() {
    route = testRoute(new RouteFixture(system(), "", 0).route);
  }

  private static HttpRequest post(String endpoint, byte[] body) {
    return HttpRequest.POST("/internal/v1/" + endpoint)
        .withEntity(ContentTypes.parse(InternalWire.CONTENT_TYPE), body);
  }

  private static byte[] cbor(Object message) {
    return InternalWire.encode(message);
  }

  private RecordReply read(String key) throws Exception {
    TestRouteResult result = route.run(post("read", cbor(new KeyCall(key, 9L, 0L)))).assertStatusCode(200);
    return InternalWire.decode(result.entityBytes().toArray(), RecordReply.class);
  }

  private void assertMalformed(TestRouteResult result) {
    result.assertStatusCode(400).assertContentType(ContentTypes.APPLICATION_JSON);
    assertTrue(result.entityString(), result.entityString().contains("malformed internal request"));
  }

  @Test
  public void applyThenReadAndReadVersionAnswerInCbor() throws Exception {
    ApplyCall call = new ApplyCall("k", HLC, 5L, false, "v".getBytes(), 9L, HLC);
    TestRouteResult applied = route.run(post("apply", cbor(call))).assertStatusCode(200);
    VersionReply held = InternalWire.decode(applied.entityBytes().toArray(), VersionReply.class);
    assertEquals(HLC, held.hlc());
    assertEquals(RouteFixture.REPLICA_ID, held.replicaId());
    assertTrue("the answer carries a clock past the sender's", held.clock() >= HLC);

    RecordReply record = read("k");
    assertTrue(record.found());
    assertEquals("v", new String(record.value()));

    TestRouteResult version = route.run(post("read-version", cbor(new KeyCall("k", 9L, 0L)))).assertStatusCode(200);
    assertEquals(HLC, InternalWire.decode(version.entityBytes().toArray(), VersionReply.class).hlc());
  }

  @Test
  public void garbageBodyIs400() throws Exception {
    assertMalformed(route.run(post("apply", new byte[] {(byte) 0xff, 0x01, 0x02})));
    assertMalformed(route.run(post("read", new byte[0])));
    assertFalse(read("k").found());
  }

  @Test
  public void missingOrUnknownFieldsAre400AndChangeNothing() throws Exception {
    CBORMapper mapper = new CBORMapper();
    assertMalformed(route.run(post("apply", mapper.writeValueAsBytes(Map.of("key", "k", "hlc", HLC)))));
    assertMalformed(route.run(post("read", mapper.writeValueAsBytes(
        Map.of("key", "k", "senderReplicaId", 1, "senderClock", 0, "extra", true)))));
    assertFalse(read("k").found());
  }

  @Test
  public void inconsistentRecordsAre400AndChangeNothing() throws Exception {
    assertMalformed(route.run(post("apply", cbor(new ApplyCall("k", HLC, 5L, true, "v".getBytes(), 9L, 0L)))));
    assertMalformed(route.run(post("apply", cbor(new ApplyCall("k", HLC, 5L, false, null, 9L, 0L)))));
    assertMalformed(route.run(post("apply", cbor(new ApplyCall("k", 0L, 0L, true, null, 9L, 0L)))));
    assertMalformed(route.run(post("apply", cbor(new ApplyCall("k", -5L, 1L, true, null, 9L, 0L)))));
    // Version 0 with a replica id: once answered 200, and the next read stopped the replica.
    assertMalformed(route.run(post("apply", cbor(new ApplyCall("k", 0L, 1L, true, null, 9L, HLC)))));
    assertMalformed(route.run(post("apply", cbor(new ApplyCall("k", 0L, 1L, false, "v".getBytes(), 9L, HLC)))));
    assertFalse(read("k").found());
  }

  @Test
  public void invalidKeysAndClocksAre400() throws Exception {
    assertMalformed(route.run(post("read", cbor(new KeyCall("", 9L, 0L)))));
    assertMalformed(route.run(post("read", cbor(new KeyCall("k".repeat(1025), 9L, 0L)))));
    CBORMapper mapper = new CBORMapper();
    assertMalformed(route.run(post("read", mapper.writeValueAsBytes(
        Map.of("key", "k", "senderReplicaId", 1, "senderClock", -1)))));
    assertMalformed(route.run(post("apply", cbor(new ApplyCall("k".repeat(1025), HLC, 5L, true, null, 9L, 0L)))));
  }

  @Test
  public void aClockReadingBeyondMaxClockOffsetIsRefusedAndNeverObserved() throws Exception {
    // Finding: one read-version call with senderClock = 2^63-1 made every later PUT answer 503.
    TestRouteResult refused = route.run(post("read-version", cbor(new KeyCall("k", 9L, Long.MAX_VALUE))));
    refused.assertStatusCode(400);
    assertTrue(refused.entityString(), refused.entityString().contains("max-clock-offset"));
    long yearAhead = io.quorumkv.version.HybridLogicalClock.fromMillis(System.currentTimeMillis() + 365L * 86_400_000L);
    route.run(post("apply", cbor(new ApplyCall("k", yearAhead, 5L, false, "v".getBytes(), 9L, HLC))))
        .assertStatusCode(400);
    route.run(post("apply", cbor(new ApplyCall("k", HLC, 5L, false, "v".getBytes(), 9L, yearAhead))))
        .assertStatusCode(400);
    route.run(post("tombstone", cbor(new InternalWire.TombstoneCall("k", yearAhead, 5L, 9L, HLC))))
        .assertStatusCode(400);
    route.run(post("entries", cbor(new InternalWire.EntriesCall(new int[] {0}, 10, false, 9L, yearAhead))))
        .assertStatusCode(400);
    assertFalse(read("k").found());

    // Writes still work, with a version near real time.
    TestRouteResult put = route.run(HttpRequest.PUT("/kv/k").withEntity("fine")).assertStatusCode(200);
    String version = put.entityString().replaceAll(".*\"version\":\"([0-9]+)\\..*", "$1");
    long millis = io.quorumkv.version.HybridLogicalClock.millisOf(Long.parseLong(version));
    assertTrue(put.entityString(), Math.abs(millis - System.currentTimeMillis()) < 60_000L);
  }

  @Test
  public void onlyPostIsAllowed() {
    route.run(HttpRequest.GET("/internal/v1/read")).assertStatusCode(405);
  }

  @Test
  public void clusterSecretIsEnforcedWhenSet() throws Exception {
    TestRoute guarded = testRoute(new RouteFixture(system(), "quorumkv.cluster-secret = s3cret", 0).route);
    byte[] body = cbor(new KeyCall("k", 9L, 0L));
    guarded.run(post("read", body)).assertStatusCode(403);
    guarded.run(post("read", body).addHeader(RawHeader.create(InternalWire.SECRET_HEADER, "wrong"))).assertStatusCode(403);
    guarded.run(post("read", body).addHeader(RawHeader.create(InternalWire.SECRET_HEADER, "s3cret"))).assertStatusCode(200);    // The replication stream's upgrade request is checked like any internal call.
    guarded.run(HttpRequest.GET("/internal/v1/" + InternalWire.STREAM_PATH)).assertStatusCode(403);
  }

  @Test
  public void applySentLongerAgoThanMaxMessageAgeChangesNothing() throws Exception {
    long twoMinutesAgo = io.quorumkv.version.HybridLogicalClock.fromMillis(System.currentTimeMillis() - 120_000L);
    ApplyCall call = new ApplyCall("late", twoMinutesAgo, 5L, false, "v".getBytes(), 9L, twoMinutesAgo);
    route.run(post("apply", cbor(call))).assertStatusCode(200);
    assertFalse(read("late").found());
  }
}
