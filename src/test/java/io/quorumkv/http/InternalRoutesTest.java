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
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.CheckTombstone;
import io.quorumkv.store.ReplicaProtocol.ListEntries;
import io.quorumkv.store.ReplicaProtocol.Ping;
import io.quorumkv.store.ReplicaProtocol.PingReply;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.ReadVersion;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.VersionHeld;
import io.quorumkv.store.Value;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import io.quorumkv.wire.InternalHttp;
import io.quorumkv.wire.WireCodec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.Before;
import org.junit.Test;

/**
 * Goal: the replica-to-replica endpoint ({@code POST /internal/v2/call}) answers the protocol in
 * CBOR, refuses malformed requests with a 400 JSON error without changing anything, and enforces
 * the cluster secret when set.
 */
public class InternalRoutesTest extends JUnitRouteTest {

  private static final long HLC = HybridLogicalClock.fromMillis(System.currentTimeMillis());
  private static final Stamp SENDER = new Stamp(9L, HLC);
  private static final CBORMapper RAW = new CBORMapper();

  private TestRoute route;

  @Before
  public void createRoute() {
    route = testRoute(new RouteFixture(system(), "", 0).route);
  }

  private static HttpRequest post(byte[] body) {
    return RouteFixture.from("127.0.0.1",
        HttpRequest.POST(InternalHttp.CALL_TARGET).withEntity(ContentTypes.parse(WireCodec.CONTENT_TYPE), body));
  }

  private Answer call(Object request) throws Exception {
    TestRouteResult result = route.run(post(WireCodec.encode(request))).assertStatusCode(200);
    return WireCodec.decode(result.entityBytes().toArray(), Answer.class);
  }

  private RecordHeld read(String key) throws Exception {
    return (RecordHeld) call(new Read(key, new Stamp(9L, 0L), Cause.READ));
  }

  private void assertMalformed(TestRouteResult result) {
    result.assertStatusCode(400).assertContentType(ContentTypes.APPLICATION_JSON);
    assertTrue(result.entityString(), result.entityString().contains("malformed internal request"));
  }

  /** An apply as raw CBOR, so a test can break what the records would refuse to build. */
  private static Map<String, Object> rawApply(String key, long hlc, long versionReplicaId, Object value) {
    Map<String, Object> version = Map.of("hlc", hlc, "replicaId", versionReplicaId);
    Map<String, Object> record = new HashMap<>();
    record.put("version", version);
    record.put("value", value);
    return Map.of("type", "apply", "key", key, "record", record,
        "stamp", Map.of("replicaId", 9L, "clock", HLC), "cause", "WRITE");
  }

  @Test
  public void applyThenReadAndReadVersionAnswerInCbor() throws Exception {
    Record record = Record.of(new Version(HLC, 5L), Value.ofUtf8("v"));
    Applied applied = (Applied) call(new Apply("k", record, SENDER, Cause.WRITE));
    assertEquals(record.version(), applied.version());
    assertEquals(RouteFixture.REPLICA_ID, applied.stamp().replicaId());
    assertTrue("the answer carries a clock past the sender's", applied.stamp().clock() >= HLC);

    assertEquals(record, read("k").record().orElseThrow());
    assertEquals(record.version(), ((VersionHeld) call(new ReadVersion("k", SENDER))).version());
  }

  @Test
  public void aRawApplyInTheDocumentedShapeIsTaken() throws Exception {
    // The wire shape, as docs/design.md ("Replica protocol") describes it.
    route.run(post(RAW.writeValueAsBytes(rawApply("k", HLC, 5L, "v".getBytes())))).assertStatusCode(200);
    assertEquals(Value.ofUtf8("v"), read("k").record().orElseThrow().value());
  }

  @Test
  public void membershipRequestsAreAnswered() throws Exception {
    PingReply ping = (PingReply) call(new Ping());
    assertEquals(RouteFixture.REPLICA_ID, ping.replicaId());
  }

  @Test
  public void garbageBodyIs400() throws Exception {
    assertMalformed(route.run(post(new byte[] {(byte) 0xff, 0x01, 0x02})));
    assertMalformed(route.run(post(new byte[0])));
    assertFalse(read("k").record().isPresent());
  }

  @Test
  public void missingOrUnknownFieldsAndTypesAre400AndChangeNothing() throws Exception {
    assertMalformed(route.run(post(RAW.writeValueAsBytes(Map.of("type", "apply", "key", "k")))));
    assertMalformed(route.run(post(RAW.writeValueAsBytes(Map.of("type", "read", "key", "k", "cause", "READ",
        "stamp", Map.of("replicaId", 1, "clock", 0), "extra", true)))));
    assertMalformed(route.run(post(RAW.writeValueAsBytes(Map.of("type", "no-such-request", "key", "k")))));
    assertMalformed(route.run(post(RAW.writeValueAsBytes(Map.of("key", "k")))));
    // A value as text (base64) instead of bytes.
    assertMalformed(route.run(post(RAW.writeValueAsBytes(rawApply("k", HLC, 5L, "dg==")))));
    assertFalse(read("k").record().isPresent());
  }

  @Test
  public void invalidRecordsAre400AndChangeNothing() throws Exception {
    assertMalformed(route.run(post(RAW.writeValueAsBytes(rawApply("k", 0L, 0L, null)))));
    assertMalformed(route.run(post(RAW.writeValueAsBytes(rawApply("k", -5L, 1L, null)))));
    // Version 0 with a replica id: once answered 200, and the next read stopped the replica.
    assertMalformed(route.run(post(RAW.writeValueAsBytes(rawApply("k", 0L, 1L, null)))));
    assertMalformed(route.run(post(RAW.writeValueAsBytes(rawApply("k", 0L, 1L, "v".getBytes())))));
    assertFalse(read("k").record().isPresent());
  }

  @Test
  public void invalidKeysAndClocksAre400() throws Exception {
    assertMalformed(route.run(post(WireCodec.encode(new Read("", SENDER, Cause.READ)))));
    assertMalformed(route.run(post(WireCodec.encode(new Read("k".repeat(1025), SENDER, Cause.READ)))));
    assertMalformed(route.run(post(RAW.writeValueAsBytes(Map.of("type", "read", "key", "k", "cause", "READ",
        "stamp", Map.of("replicaId", 1, "clock", -1))))));
    assertMalformed(route.run(post(RAW.writeValueAsBytes(rawApply("k".repeat(1025), HLC, 5L, null)))));
  }

  @Test
  public void aClockReadingBeyondMaxClockOffsetIsRefusedAndNeverObserved() throws Exception {
    // Finding: one read-version call with senderClock = 2^63-1 made every later PUT answer 503.
    TestRouteResult refused = route.run(post(WireCodec.encode(new ReadVersion("k", new Stamp(9L, Long.MAX_VALUE)))));
    refused.assertStatusCode(400);
    assertTrue(refused.entityString(), refused.entityString().contains("max-clock-offset"));
    long yearAhead = HybridLogicalClock.fromMillis(System.currentTimeMillis() + 365L * 86_400_000L);
    route.run(post(WireCodec.encode(new Apply("k", Record.of(new Version(yearAhead, 5L), Value.ofUtf8("v")), SENDER,
        Cause.WRITE)))).assertStatusCode(400);
    route.run(post(WireCodec.encode(new Apply("k", Record.of(new Version(HLC, 5L), Value.ofUtf8("v")),
        new Stamp(9L, yearAhead), Cause.WRITE)))).assertStatusCode(400);
    route.run(post(WireCodec.encode(new CheckTombstone("k", new Version(yearAhead, 5L), SENDER))))
        .assertStatusCode(400);
    route.run(post(WireCodec.encode(new ListEntries(List.of(0), 10, false, new Stamp(9L, yearAhead)))))
        .assertStatusCode(400);
    assertFalse(read("k").record().isPresent());

    // Writes still work, with a version near real time.
    TestRouteResult put = route.run(HttpRequest.PUT("/kv/k").withEntity("fine")).assertStatusCode(200);
    String version = put.entityString().replaceAll(".*\"version\":\"([0-9]+)\\..*", "$1");
    long millis = HybridLogicalClock.millisOf(Long.parseLong(version));
    assertTrue(put.entityString(), Math.abs(millis - System.currentTimeMillis()) < 60_000L);
  }

  @Test
  public void onlyPostIsAllowedAndTheOldWireIsGone() {
    route.run(RouteFixture.from("127.0.0.1", HttpRequest.GET(InternalHttp.CALL_TARGET))).assertStatusCode(405);
    route.run(HttpRequest.POST("/internal/v1/read")).assertStatusCode(404);
  }

  @Test
  public void clusterSecretIsEnforcedWhenSet() throws Exception {
    TestRoute guarded = testRoute(new RouteFixture(system(), "quorumkv.cluster-secret = s3cret", 0).route);
    byte[] body = WireCodec.encode(new Read("k", SENDER, Cause.READ));
    guarded.run(post(body)).assertStatusCode(403);
    guarded.run(post(body).addHeader(RawHeader.create(InternalHttp.SECRET_HEADER, "wrong"))).assertStatusCode(403);
    guarded.run(post(body).addHeader(RawHeader.create(InternalHttp.SECRET_HEADER, "s3cret"))).assertStatusCode(200);
    // The replication stream's upgrade request is checked like any internal call.
    guarded.run(RouteFixture.from("127.0.0.1", HttpRequest.GET(InternalHttp.STREAM_TARGET))).assertStatusCode(403);
  }

  @Test
  public void internalAndAdminCallsFromAnAddressThatIsNoPeersAreRefusedAndChangeNothing() throws Exception {
    RouteFixture fixture = new RouteFixture(system(), "", 0);
    TestRoute open = testRoute(fixture.route);
    byte[] apply = WireCodec.encode(new Apply("injected", Record.of(new Version(HLC, 5L), Value.ofUtf8("evil")),
        SENDER, Cause.WRITE));
    // 192.0.2.7 (a documentation address: no packet is sent) is neither loopback nor a peer.
    HttpRequest stranger = RouteFixture.from("192.0.2.7",
        HttpRequest.POST(InternalHttp.CALL_TARGET).withEntity(ContentTypes.parse(WireCodec.CONTENT_TYPE), apply));
    TestRouteResult refused = open.run(stranger).assertStatusCode(403);
    assertTrue(refused.entityString(), refused.entityString().contains("only from the configured peers' addresses"));
    // A forwarding header is the caller's own word: it changes nothing.
    open.run(stranger.addHeader(RawHeader.create("X-Forwarded-For", "127.0.0.1"))
        .addHeader(RawHeader.create("X-Real-IP", "127.0.0.1"))).assertStatusCode(403);
    open.run(RouteFixture.from("192.0.2.7", HttpRequest.GET(InternalHttp.STREAM_TARGET))).assertStatusCode(403);
    open.run(RouteFixture.from("192.0.2.7", HttpRequest.POST("/admin/snapshot"))).assertStatusCode(403);
    open.run(RouteFixture.from("192.0.2.7", HttpRequest.POST("/admin/retire/peer1"))
        .addHeader(RawHeader.create("X-Forwarded-For", "127.0.0.1"))).assertStatusCode(403);
    open.run(RouteFixture.from("::1", HttpRequest.POST("/admin/retire/nobody"))).assertStatusCode(404); // admitted
    assertEquals(3, fixture.audit.count(io.quorumkv.security.NetworkAccess.Refusal.INTERNAL_NOT_A_PEER));
    assertEquals(2, fixture.audit.count(io.quorumkv.security.NetworkAccess.Refusal.ADMIN_NOT_LOOPBACK));
    open.run(HttpRequest.GET("/kv/injected?consistency=one")).assertStatusCode(404); // nothing was applied
    // The public API stays open to anyone.
    open.run(RouteFixture.from("192.0.2.7", HttpRequest.PUT("/kv/public").withEntity("fine"))).assertStatusCode(200);
  }

  @Test
  public void applySentLongerAgoThanMaxMessageAgeChangesNothing() throws Exception {
    long twoMinutesAgo = HybridLogicalClock.fromMillis(System.currentTimeMillis() - 120_000L);
    call(new Apply("late", Record.of(new Version(twoMinutesAgo, 5L), Value.ofUtf8("v")),
        new Stamp(9L, twoMinutesAgo), Cause.WRITE));
    assertFalse(read("late").record().isPresent());
  }
}
